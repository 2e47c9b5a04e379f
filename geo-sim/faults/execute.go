package faults

import (
	"context"
	"fmt"
	"time"

	"github.com/meridiandb/meridian/truetime"
)

// Target is what a schedule acts on: a running cluster. Node numbers are
// the topology's.
type Target interface {
	Kill(node int) error
	Restart(ctx context.Context, node int) error
	Isolate(node int)
	Partition(a, b []int)
	Heal()
	// Clock returns node's simulated clock.
	Clock(node int) *truetime.SimClock
	// Leaseholder returns the node holding the lease of the workload's
	// first range.
	Leaseholder(ctx context.Context) (int, error)
}

// Applied is an event as it happened.
type Applied struct {
	Event
	// Node is the node acted on (Leaseholder resolved).
	Node int
	// At is when it was applied, from the start of the measured run.
	At time.Duration
	// Err is why it failed, if it did.
	Err string
}

func (a Applied) String() string {
	e := a.Event
	e.At, e.Node = a.At, a.Node
	s := e.String()
	if a.Event.Node == Leaseholder {
		s += " (the leaseholder)"
	}
	if a.Err != "" {
		s += " FAILED: " + a.Err
	}
	return s
}

// Execute applies s to tgt, each event when truetime.Mono() reaches start
// + its time, and reports each through applied (if not nil) as it is done.
// It returns what it applied when the schedule ends or ctx does.
func Execute(ctx context.Context, s Schedule, start time.Duration, tgt Target, applied func(Applied)) []Applied {
	var out []Applied
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for _, e := range s.Events {
		if wait := start + e.At - truetime.Mono(); wait > 0 {
			timer.Reset(wait)
			select {
			case <-timer.C:
			case <-ctx.Done():
				return out
			}
		}
		a := Applied{Event: e, Node: e.Node, At: truetime.Mono() - start}
		if err := apply(ctx, e, &a, tgt); err != nil {
			a.Err = err.Error()
		}
		out = append(out, a)
		if applied != nil {
			applied(a)
		}
	}
	return out
}

func apply(ctx context.Context, e Event, a *Applied, tgt Target) error {
	if e.Node == Leaseholder {
		lh, err := tgt.Leaseholder(ctx)
		if err != nil {
			return fmt.Errorf("finding the leaseholder: %w", err)
		}
		a.Node = lh
	}
	clock := func() (*truetime.SimClock, error) {
		c := tgt.Clock(a.Node)
		if c == nil {
			return nil, fmt.Errorf("n%d has no simulated clock", a.Node)
		}
		return c, nil
	}
	switch e.Kind {
	case Kill:
		return tgt.Kill(a.Node)
	case Restart:
		return tgt.Restart(ctx, a.Node)
	case Isolate:
		tgt.Isolate(a.Node)
	case Cut:
		tgt.Partition(e.Groups[0], e.Groups[1])
	case Heal:
		tgt.Heal()
	case Offset:
		c, err := clock()
		if err != nil {
			return err
		}
		c.SetOffset(e.Offset)
	case Drift:
		c, err := clock()
		if err != nil {
			return err
		}
		c.SetDrift(e.DriftPPM)
	case Epsilon:
		c, err := clock()
		if err != nil {
			return err
		}
		c.SetClaimedEpsilon(e.Epsilon)
	case Mark:
	default:
		return fmt.Errorf("unknown fault kind %q", e.Kind)
	}
	return nil
}
