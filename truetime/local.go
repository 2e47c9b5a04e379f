package truetime

import (
	"context"
	"fmt"
	"time"
)

// DefaultLocalEpsilon is LocalOptions.Epsilon's default.
const DefaultLocalEpsilon = time.Millisecond

// LocalOptions configures a LocalClock. The zero value is valid.
type LocalOptions struct {
	// Epsilon is the bound claimed around the system clock: Now() is
	// time.Now() ± Epsilon. Default DefaultLocalEpsilon (1ms). It is a
	// statement by the operator, not a measurement: use the local source
	// only where every node reads the same clock (one machine, the embedded
	// demo), so that their readings cannot disagree.
	Epsilon time.Duration
}

// LocalClock is the system clock with a configured bound. It is safe for
// concurrent use and starts no goroutines.
type LocalClock struct {
	eps time.Duration
}

var _ Clock = (*LocalClock)(nil)

// NewLocal returns a clock reading the system clock ± opts.Epsilon. It panics
// if opts.Epsilon is negative.
func NewLocal(opts LocalOptions) *LocalClock {
	if opts.Epsilon < 0 {
		panic(fmt.Sprintf("truetime: negative LocalOptions.Epsilon %s", opts.Epsilon))
	}
	if opts.Epsilon == 0 {
		opts.Epsilon = DefaultLocalEpsilon
	}
	return &LocalClock{eps: opts.Epsilon}
}

// Now returns time.Now() ± ε.
func (c *LocalClock) Now() Interval {
	t := Timestamp(time.Now().UnixNano())
	return Interval{Earliest: t - Timestamp(c.eps), Latest: t + Timestamp(c.eps)}
}

// After reports whether t < Now().Earliest.
func (c *LocalClock) After(t Timestamp) bool { return after(c.Now(), t) }

// Before reports whether t > Now().Latest.
func (c *LocalClock) Before(t Timestamp) bool { return before(c.Now(), t) }

// WaitUntilAfter blocks until After(t) or ctx ends; see Clock.
func (c *LocalClock) WaitUntilAfter(ctx context.Context, t Timestamp) error {
	return waitUntilAfter(ctx, t, c.Now, nil, true)
}

// Status reports the source "local" and the configured bound as Epsilon.
func (c *LocalClock) Status() Status {
	now := c.Now()
	return Status{Source: SourceLocal, Now: now, Epsilon: c.eps}
}
