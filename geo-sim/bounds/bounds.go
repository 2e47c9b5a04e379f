package bounds

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/meridiandb/meridian/geo-sim/topology"
)

// Kind is the shape of an operation, which decides its bound.
type Kind int

const (
	// Write commits at one range's leaseholder (a plain Put, or a one-range
	// read-write transaction).
	Write Kind = iota
	// LeaseholderRead is a linearizable read served by the leaseholder.
	LeaseholderRead
	// NearestRead is a snapshot or stale read served by the nearest replica.
	NearestRead
	// ReadOnly is a strong read-only transaction: Spanner serves it at the
	// nearest replica whose safe time has passed s_read.
	ReadOnly
	// Commit2PC commits across ranges with two-phase commit.
	Commit2PC
)

var kindNames = []string{"write", "leaseholder-read", "nearest-read", "read-only", "2pc"}

func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return fmt.Sprintf("Kind(%d)", int(k))
}

// Range is where one range of an operation lives: node numbers of the
// topology.
type Range struct {
	Leaseholder int
	Voters      []int // includes the leaseholder
}

// Input is what a bound is computed from.
type Input struct {
	Topology *topology.Topology
	// ClientRegion is where the client is; Gateway the node it talks to.
	ClientRegion string
	Gateway      int
	Kind         Kind
	// Ranges the operation touches; the first is the coordinator of a 2PC.
	// Read kinds read them one after the other, one request each.
	Ranges []Range
	// Reads are the reads a Write or Commit2PC makes at leaseholders
	// before it commits, one after the other: indexes into Ranges (a bank
	// transfer reading both accounts of one range is {0, 0}).
	Reads []int
	// Epsilon returns node i's claimed ε. Default: the topology's clock
	// model.
	Epsilon func(node int) time.Duration
}

// Bound is a lower bound and its terms.
type Bound struct {
	Total time.Duration
	// Client is the client↔gateway round trip; Gateway the gateway↔
	// leaseholder (or nearest replica) round trip.
	Client, Gateway time.Duration
	// Quorum is the (coordinator) leaseholder's nearest-majority round
	// trip; CommitWait is 2ε at it.
	Quorum, CommitWait time.Duration
	// Participants is the 2PC prepare round: max over participants of the
	// round trip to it plus its quorum.
	Participants time.Duration
	// Reads is the time of the reads before the commit (Input.Reads), or
	// of the reads of ranges after the first (read kinds): a client round
	// trip plus the gateway's to the serving replica, each.
	Reads time.Duration
	// Critical names the term that decided the commit: "quorum",
	// "commit wait" or "prepare"; empty for reads.
	Critical string
}

// String renders the bound and its terms, e.g.
// "71ms = client 1ms + gateway 0s + max(quorum 70ms, 2ε 2ms)".
func (b Bound) String() string {
	var sb strings.Builder
	fmt.Fprintf(&sb, "%s = client %s + gateway %s", b.Total, b.Client, b.Gateway)
	if b.Reads > 0 {
		fmt.Fprintf(&sb, " + reads %s", b.Reads)
	}
	if b.Critical != "" {
		if b.Participants > 0 {
			fmt.Fprintf(&sb, " + max(prepare %s + quorum %s, commit wait ≥ 2ε %s)", b.Participants, b.Quorum, b.CommitWait)
		} else {
			fmt.Fprintf(&sb, " + max(quorum %s, 2ε %s)", b.Quorum, b.CommitWait)
		}
	}
	return sb.String()
}

// QuorumRTT returns the round trip from leader to the nearest majority of
// voters (leader among them): the ⌊n/2⌋-th smallest round trip to the
// others. One voter needs no round trip.
func QuorumRTT(t *topology.Topology, leader int, voters []int) time.Duration {
	var rtts []time.Duration
	for _, v := range voters {
		if v != leader {
			rtts = append(rtts, t.NodeRTT(leader, v))
		}
	}
	n := len(rtts) + 1
	need := n / 2 // acknowledgements from others
	if need == 0 {
		return 0
	}
	slices.Sort(rtts)
	return rtts[need-1]
}

// Compute returns the bound of one operation.
func Compute(in Input) (Bound, error) {
	t := in.Topology
	region, ok := t.Region(in.ClientRegion)
	if !ok {
		return Bound{}, fmt.Errorf("bounds: no region %q in topology %s", in.ClientRegion, t.Name)
	}
	if in.Gateway < 1 || in.Gateway > t.NumNodes() {
		return Bound{}, fmt.Errorf("bounds: gateway n%d is not in topology %s", in.Gateway, t.Name)
	}
	if len(in.Ranges) == 0 {
		return Bound{}, fmt.Errorf("bounds: a %s touches no range", in.Kind)
	}
	for _, r := range in.Ranges {
		if !slices.Contains(r.Voters, r.Leaseholder) {
			return Bound{}, fmt.Errorf("bounds: leaseholder n%d is not among the voters %v", r.Leaseholder, r.Voters)
		}
		for _, v := range r.Voters {
			if v < 1 || v > t.NumNodes() {
				return Bound{}, fmt.Errorf("bounds: voter n%d is not in topology %s", v, t.Name)
			}
		}
	}
	eps := in.Epsilon
	if eps == nil {
		eps = func(n int) time.Duration { return t.ClockOf(n).Epsilon }
	}
	b := Bound{Client: region.ClientRTT}
	c := in.Ranges[0]
	nearest := func(r Range) time.Duration {
		best := time.Duration(-1)
		for _, v := range r.Voters {
			if d := t.NodeRTT(in.Gateway, v); best < 0 || d < best {
				best = d
			}
		}
		return best
	}
	for _, i := range in.Reads {
		if i < 0 || i >= len(in.Ranges) || (in.Kind != Write && in.Kind != Commit2PC) {
			return Bound{}, fmt.Errorf("bounds: read of range %d in a %s of %d ranges", i, in.Kind, len(in.Ranges))
		}
		b.Reads += b.Client + t.NodeRTT(in.Gateway, in.Ranges[i].Leaseholder)
	}
	switch in.Kind {
	case LeaseholderRead, NearestRead, ReadOnly:
		for i, r := range in.Ranges {
			d := t.NodeRTT(in.Gateway, r.Leaseholder)
			if in.Kind != LeaseholderRead {
				d = nearest(r)
			}
			if i == 0 {
				b.Gateway = d
			} else {
				b.Reads += b.Client + d
			}
		}
	case Write, Commit2PC:
		b.Gateway = t.NodeRTT(in.Gateway, c.Leaseholder)
		b.Quorum = QuorumRTT(t, c.Leaseholder, c.Voters)
		b.CommitWait = 2 * eps(c.Leaseholder)
		replicate, wait := b.Quorum, b.CommitWait
		b.Critical = "quorum"
		for _, p := range in.Ranges[1:] {
			if in.Kind != Commit2PC {
				return Bound{}, fmt.Errorf("bounds: a %s touches one range, got %d", in.Kind, len(in.Ranges))
			}
			rtt := t.NodeRTT(c.Leaseholder, p.Leaseholder)
			b.Participants = max(b.Participants, rtt+QuorumRTT(t, p.Leaseholder, p.Voters))
			wait = max(wait, rtt/2+eps(p.Leaseholder)+eps(c.Leaseholder))
		}
		replicate += b.Participants
		if b.Participants > 0 {
			b.Critical = "prepare"
		}
		b.CommitWait = wait
		if wait > replicate {
			b.Critical = "commit wait"
		}
		b.Total = b.Client + b.Gateway + b.Reads + max(replicate, wait)
		return b, nil
	default:
		return Bound{}, fmt.Errorf("bounds: unknown kind %v", in.Kind)
	}
	b.Total = b.Client + b.Gateway + b.Reads
	return b, nil
}
