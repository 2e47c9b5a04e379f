package faults

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/meridiandb/meridian/geo-sim/internal/conf"
	"github.com/meridiandb/meridian/geo-sim/topology"
	"github.com/meridiandb/meridian/truetime"
)

func global5(t *testing.T) *topology.Topology {
	top, err := topology.Preset("global5")
	if err != nil {
		t.Fatal(err)
	}
	return top
}

func TestRandomIsDeterministic(t *testing.T) {
	top := global5(t)
	o := RandomOptions{Duration: 60 * time.Second}
	a, err := Random(top, o, 42)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := Random(top, o, 42)
	if !reflect.DeepEqual(a, b) {
		t.Fatalf("same seed, different schedules:\n%s\n---\n%s", a, b)
	}
	c, _ := Random(top, o, 43)
	if reflect.DeepEqual(a.Events, c.Events) {
		t.Fatalf("seeds 42 and 43 gave the same schedule:\n%s", a)
	}
	if len(a.Events) < 6 {
		t.Fatalf("only %d events in a minute:\n%s", len(a.Events), a)
	}
}

// TestRandomInvariants checks, over many seeds, that faults come one at a
// time, are undone, leave a majority, and keep honest clocks honest.
func TestRandomInvariants(t *testing.T) {
	top := global5(t)
	o := RandomOptions{Duration: 30 * time.Second}
	for seed := uint64(1); seed <= 200; seed++ {
		s, err := Random(top, o, seed)
		if err != nil {
			t.Fatal(err)
		}
		inForce := 0
		var last time.Duration
		for i, e := range s.Events {
			if e.At < last || e.At < o.Duration/5 || e.At >= o.Duration {
				t.Fatalf("seed %d: event %d at %s out of order or range:\n%s", seed, i, e.At, s)
			}
			last = e.At
			switch e.Kind {
			case Kill, Isolate, Cut:
				inForce++
			case Restart, Heal:
				inForce--
			case Offset:
				if e.Offset.Abs() > top.Clock.Epsilon {
					t.Fatalf("seed %d: offset %s beyond ε %s", seed, e.Offset, top.Clock.Epsilon)
				}
				if e.Offset == 0 {
					inForce--
				} else {
					inForce++
				}
			}
			if e.Kind == Cut && 2*len(e.Groups[0]) >= top.NumNodes() {
				t.Fatalf("seed %d: partition cuts off a majority %v", seed, e.Groups)
			}
			if inForce > 1 || inForce < 0 {
				t.Fatalf("seed %d: %d faults in force after event %d:\n%s", seed, inForce, i, s)
			}
		}
		if inForce != 0 {
			t.Fatalf("seed %d: a fault is never undone:\n%s", seed, s)
		}
	}
}

func TestRandomRejects(t *testing.T) {
	top := global5(t)
	if _, err := Random(top, RandomOptions{}, 1); err == nil {
		t.Error("no duration: no error")
	}
	if _, err := Random(top, RandomOptions{Duration: time.Minute, Kinds: []Kind{Heal}}, 1); err == nil {
		t.Error("heal as a fault: no error")
	}
	two, _ := topology.Parse("two.yaml", []byte("regions: [{name: a, nodes: 2}]\nrtt_ms: {a: {a: 1}}\n"))
	if _, err := Random(two, RandomOptions{Duration: time.Minute}, 1); err == nil {
		t.Error("killing one of two nodes: no error")
	}
}

func TestParse(t *testing.T) {
	top := global5(t)
	s, err := Parse("f.yaml", []byte(`seed: 7
events:
  - {at: 9s, kind: restart, node: 1}
  - {at: 5s, kind: kill, node: leaseholder}
  - {at: 12.5, kind: partition, groups: [[1], [2, 3, 4, 5]]}
  - {at: 14s, kind: heal}
  - {at: 15s, kind: clock-offset, node: 2, offset_ms: 3}
  - {at: 16s, kind: clock-epsilon, node: 2, epsilon_ms: 0.5}
`), top)
	if err != nil {
		t.Fatal(err)
	}
	if s.Seed != 7 || len(s.Events) != 6 || s.Events[0].Kind != Kill || s.Events[0].Node != Leaseholder ||
		s.Events[2].At != 12500*time.Millisecond || s.Events[4].Offset != 3*time.Millisecond ||
		s.Events[5].Epsilon != 500*time.Microsecond {
		t.Fatalf("parsed %+v", s)
	}
	for _, c := range []struct {
		text  string
		line  int
		field string
	}{
		{"events:\n  - {at: 1s, kind: explode, node: 1}\n", 2, "events[0].kind"},
		{"events:\n  - {at: 1s, kind: kill}\n", 2, "events[0].node"},
		{"events:\n  - {at: 1s, kind: kill, node: 6}\n", 2, "events[0].node"},
		{"events:\n  - at: soon\n    kind: heal\n", 2, "events[0].at"},
		{"events:\n  - {at: 1s, kind: partition, groups: [[1, 1], [2]]}\n", 2, "events[0].groups[0][1]"},
		{"{\"events\": [\n {\"at\": \"1s\", \"kind\": \"clock-offset\", \"node\": 2}\n]}", 2, "events[0].offset_ms"},
	} {
		_, err := Parse("f.yaml", []byte(c.text), top)
		var ce *conf.Error
		if !errors.As(err, &ce) || ce.Line != c.line || ce.Field != c.field {
			t.Errorf("%q: got %v, want line %d field %s", c.text, err, c.line, c.field)
		}
	}
}

type fakeTarget struct {
	log    []string
	clocks map[int]*truetime.SimClock
}

func (f *fakeTarget) Kill(n int) error {
	f.log = append(f.log, "kill", string(rune('0'+n)))
	return nil
}
func (f *fakeTarget) Restart(_ context.Context, n int) error {
	f.log = append(f.log, "restart")
	return nil
}
func (f *fakeTarget) Isolate(n int)                            { f.log = append(f.log, "isolate") }
func (f *fakeTarget) Partition(a, b []int)                     { f.log = append(f.log, "partition") }
func (f *fakeTarget) Heal()                                    { f.log = append(f.log, "heal") }
func (f *fakeTarget) Clock(n int) *truetime.SimClock           { return f.clocks[n] }
func (f *fakeTarget) Leaseholder(context.Context) (int, error) { return 3, nil }

func TestExecute(t *testing.T) {
	clock := truetime.NewSimulated(truetime.SimOptions{})
	tgt := &fakeTarget{clocks: map[int]*truetime.SimClock{2: clock}}
	s := Schedule{Events: []Event{
		{At: 0, Kind: Kill, Node: Leaseholder},
		{At: time.Millisecond, Kind: Restart, Node: 3},
		{At: 2 * time.Millisecond, Kind: Offset, Node: 2, Offset: 4 * time.Millisecond},
		{At: 2 * time.Millisecond, Kind: Epsilon, Node: 2, Epsilon: time.Millisecond},
		{At: 3 * time.Millisecond, Kind: Offset, Node: 1, Offset: time.Millisecond},
	}}
	start := truetime.Mono()
	got := Execute(context.Background(), s, start, tgt, nil)
	if len(got) != 5 || got[0].Node != 3 || got[4].Err == "" || got[1].At < time.Millisecond {
		t.Fatalf("applied %v", got)
	}
	if strings.Join(tgt.log, " ") != "kill 3 restart" {
		t.Errorf("target saw %v", tgt.log)
	}
	if !clock.Lying() {
		t.Errorf("clock with offset 4ms claiming 1ms does not lie: %+v", clock.Status())
	}
	if !strings.Contains(got[0].String(), "kill n3 (the leaseholder)") {
		t.Errorf("applied event reads %q", got[0])
	}
	// A cancelled context stops it before the next event.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if got := Execute(ctx, Schedule{Events: []Event{{At: time.Hour, Kind: Heal}}}, truetime.Mono(), tgt, nil); len(got) != 0 {
		t.Errorf("cancelled run applied %v", got)
	}
}
