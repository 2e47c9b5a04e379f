package faults

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	"github.com/meridiandb/meridian/geo-sim/topology"
)

// Kind is a kind of fault (or of its undoing).
type Kind string

// The kinds of events.
const (
	Kill    Kind = "kill"      // stop Node; its in-memory store survives
	Restart Kind = "restart"   // start Node again on its store
	Isolate Kind = "isolate"   // cut Node off from every other node
	Cut     Kind = "partition" // cut Groups[0] off from Groups[1]
	Heal    Kind = "heal"      // remove every partition
	Offset  Kind = "clock-offset"
	Drift   Kind = "clock-drift"
	Epsilon Kind = "clock-epsilon"
	Mark    Kind = "mark" // no action: a labelled instant in the timeline
)

// Leaseholder, as an event's Node, means the node holding the lease of the
// workload's first range when the event fires.
const Leaseholder = -1

// Event is one fault, at a time into the measured run.
type Event struct {
	At   time.Duration
	Kind Kind
	// Node is the node of kill, restart, isolate and clock events (or
	// Leaseholder).
	Node int
	// Groups are the two sides of a partition.
	Groups [2][]int
	// Offset (clock-offset), DriftPPM (clock-drift) and Epsilon
	// (clock-epsilon) are the clock's new settings.
	Offset   time.Duration
	DriftPPM float64
	Epsilon  time.Duration
	// Label names a mark.
	Label string
}

func nodeName(n int) string {
	if n == Leaseholder {
		return "leaseholder"
	}
	return fmt.Sprintf("n%d", n)
}

func (e Event) String() string {
	var what string
	switch e.Kind {
	case Kill, Restart, Isolate:
		what = fmt.Sprintf("%s %s", e.Kind, nodeName(e.Node))
	case Cut:
		what = fmt.Sprintf("partition %v | %v", e.Groups[0], e.Groups[1])
	case Heal:
		what = "heal"
	case Offset:
		what = fmt.Sprintf("%s clock offset %s", nodeName(e.Node), e.Offset)
	case Drift:
		what = fmt.Sprintf("%s clock drift %gppm", nodeName(e.Node), e.DriftPPM)
	case Epsilon:
		what = fmt.Sprintf("%s claimed ε %s", nodeName(e.Node), e.Epsilon)
	default:
		what = string(e.Kind) + " " + e.Label
	}
	return fmt.Sprintf("%7.2fs %s", e.At.Seconds(), what)
}

// Schedule is a sorted list of events.
type Schedule struct {
	Seed   uint64 // the seed it was generated from (0 if written by hand)
	Events []Event
}

func (s Schedule) String() string {
	if len(s.Events) == 0 {
		return "no faults"
	}
	lines := make([]string, len(s.Events))
	for i, e := range s.Events {
		lines[i] = e.String()
	}
	return strings.Join(lines, "\n")
}

// Sort orders the events by time (stable: same-time events keep their order).
func (s *Schedule) Sort() {
	slices.SortStableFunc(s.Events, func(a, b Event) int { return int(a.At - b.At) })
}

// RandomOptions shape a random schedule. Zero fields take the defaults.
type RandomOptions struct {
	// Duration of the measured run. Required.
	Duration time.Duration
	// Quiet is the fault-free start of the run. Default: Duration/5.
	Quiet time.Duration
	// Kinds of faults to draw from: Kill, Isolate, Cut, Offset.
	// Default: all four.
	Kinds []Kind
	// MinFault..MaxFault bounds how long a fault lasts. Default: 1s..3s.
	MinFault, MaxFault time.Duration
	// MinGap..MaxGap bounds the calm between faults. Default: 1s..3s.
	MinGap, MaxGap time.Duration
	// MaxSkew bounds the clock offsets drawn, ±. Default: 80% of the
	// smallest claimed ε, so that honest clocks stay honest.
	MaxSkew time.Duration
}

func (o RandomOptions) withDefaults(t *topology.Topology) RandomOptions {
	if o.Quiet == 0 {
		o.Quiet = o.Duration / 5
	}
	if len(o.Kinds) == 0 {
		o.Kinds = []Kind{Kill, Isolate, Cut, Offset}
	}
	if o.MinFault == 0 {
		o.MinFault = time.Second
	}
	if o.MaxFault < o.MinFault {
		o.MaxFault = max(3*time.Second, o.MinFault)
	}
	if o.MinGap == 0 {
		o.MinGap = time.Second
	}
	if o.MaxGap < o.MinGap {
		o.MaxGap = max(3*time.Second, o.MinGap)
	}
	if o.MaxSkew == 0 {
		eps := t.Clock.Epsilon
		for _, n := range t.Nodes() {
			eps = min(eps, n.Clock.Epsilon)
		}
		o.MaxSkew = eps * 8 / 10
	}
	return o
}

// Random draws a schedule from seed: faults one at a time, each undone
// before the next, none in the quiet start, all undone before Duration.
func Random(t *topology.Topology, o RandomOptions, seed uint64) (Schedule, error) {
	o = o.withDefaults(t)
	if o.Duration <= 0 {
		return Schedule{}, fmt.Errorf("faults: a random schedule needs a duration")
	}
	for _, k := range o.Kinds {
		if !slices.Contains([]Kind{Kill, Isolate, Cut, Offset}, k) {
			return Schedule{}, fmt.Errorf("faults: cannot draw %q faults (want kill, isolate, partition or clock-offset)", k)
		}
	}
	n := t.NumNodes()
	if n < 3 && (slices.Contains(o.Kinds, Kill) || slices.Contains(o.Kinds, Isolate) || slices.Contains(o.Kinds, Cut)) {
		return Schedule{}, fmt.Errorf("faults: %s has %d nodes; killing or cutting one off leaves no majority", t.Name, n)
	}
	rng := rand.New(rand.NewPCG(seed, 0x6661756c7473)) // "faults"
	between := func(lo, hi time.Duration) time.Duration {
		if hi <= lo {
			return lo
		}
		return lo + time.Duration(rng.Int64N(int64(hi-lo)))
	}
	s := Schedule{Seed: seed}
	at := o.Quiet
	for {
		length := between(o.MinFault, o.MaxFault)
		if at+length >= o.Duration {
			break
		}
		kind := o.Kinds[rng.IntN(len(o.Kinds))]
		node := 1 + rng.IntN(n)
		end := at + length
		switch kind {
		case Kill:
			s.Events = append(s.Events, Event{At: at, Kind: Kill, Node: node}, Event{At: end, Kind: Restart, Node: node})
		case Isolate:
			s.Events = append(s.Events, Event{At: at, Kind: Isolate, Node: node}, Event{At: end, Kind: Heal})
		case Cut:
			perm := rng.Perm(n)
			k := 1 + rng.IntN((n-1)/2) // a minority
			var a, b []int
			for i, p := range perm {
				if i < k {
					a = append(a, p+1)
				} else {
					b = append(b, p+1)
				}
			}
			slices.Sort(a)
			slices.Sort(b)
			s.Events = append(s.Events, Event{At: at, Kind: Cut, Groups: [2][]int{a, b}}, Event{At: end, Kind: Heal})
		case Offset:
			skew := between(-o.MaxSkew, o.MaxSkew)
			s.Events = append(s.Events,
				Event{At: at, Kind: Offset, Node: node, Offset: skew},
				Event{At: end, Kind: Offset, Node: node, Offset: t.ClockOf(node).Offset})
		}
		at = end + between(o.MinGap, o.MaxGap)
	}
	return s, nil
}

func msDur(f float64) time.Duration { return time.Duration(f * float64(time.Millisecond)) }
