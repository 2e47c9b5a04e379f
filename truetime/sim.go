package truetime

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// Defaults for SimOptions.
const (
	DefaultSimEpsilon = time.Millisecond
	DefaultMaxEpsilon = 500 * time.Millisecond
)

// SimOptions configures a SimClock. The zero value is an exact clock that
// claims ±1ms.
type SimOptions struct {
	// Offset is the node's reading minus true time at construction. Default 0.
	Offset time.Duration
	// DriftPPM is the rate error of the node's clock in parts per million:
	// its reading gains DriftPPM µs per second of true time (loses, if
	// negative). Default 0.
	DriftPPM float64
	// ClaimedEpsilon is the bound the clock claims: Now() is its reading ±
	// ClaimedEpsilon. Default DefaultSimEpsilon (1ms). Nothing ties it to the
	// real error |offset|: a value below it makes the clock lie, which is
	// how geo-sim shows what breaks without a true bound.
	ClaimedEpsilon time.Duration
	// MaxEpsilon is the claimed ε above which Status().Unsafe is set.
	// Default DefaultMaxEpsilon (500ms).
	MaxEpsilon time.Duration
	// TestingKnobs are hooks for tests.
	TestingKnobs SimTestingKnobs
}

// SimTestingKnobs are test hooks for SimClock.
type SimTestingKnobs struct {
	// TrueNow, if set, replaces the package-level TrueNow as the clock's
	// source of true time. It must not go backwards.
	TrueNow func() Timestamp
}

// SimClock is a simulated node clock: reading = true time + offset, where the
// offset changes at DriftPPM, and Now() = reading ± claimed ε. True time is
// the process-wide TrueNow, so every SimClock in a process shares one true
// time and checkers can compare them. SetOffset, SetDrift and
// SetClaimedEpsilon may be called at any time from any goroutine (a clock-skew
// nemesis changes offsets while nodes run); they wake WaitUntilAfter callers.
// It starts no goroutines.
type SimClock struct {
	trueNow func() Timestamp
	maxEps  time.Duration
	changed notifier
	mu      struct {
		sync.Mutex
		// anchor is the true time at which offset was last set; the offset
		// at true time T is offset + driftPPM·(T − anchor)/10⁶.
		anchor   Timestamp
		offset   time.Duration
		driftPPM float64
		eps      time.Duration
	}
}

var _ Clock = (*SimClock)(nil)

// NewSimulated returns a simulated clock. It panics if ClaimedEpsilon or
// MaxEpsilon is negative.
func NewSimulated(opts SimOptions) *SimClock {
	if opts.ClaimedEpsilon < 0 || opts.MaxEpsilon < 0 {
		panic(fmt.Sprintf("truetime: negative SimOptions epsilon (claimed %s, max %s)",
			opts.ClaimedEpsilon, opts.MaxEpsilon))
	}
	if opts.ClaimedEpsilon == 0 {
		opts.ClaimedEpsilon = DefaultSimEpsilon
	}
	if opts.MaxEpsilon == 0 {
		opts.MaxEpsilon = DefaultMaxEpsilon
	}
	c := &SimClock{trueNow: opts.TestingKnobs.TrueNow, maxEps: opts.MaxEpsilon}
	if c.trueNow == nil {
		c.trueNow = TrueNow
	}
	c.mu.anchor = c.trueNow()
	c.mu.offset = opts.Offset
	c.mu.driftPPM = opts.DriftPPM
	c.mu.eps = opts.ClaimedEpsilon
	return c
}

// offsetAtLocked returns reading − true time at true time tt.
func (c *SimClock) offsetAtLocked(tt Timestamp) time.Duration {
	return c.mu.offset + time.Duration(float64(tt-c.mu.anchor)*c.mu.driftPPM/1e6)
}

// read returns true time, the node's offset and its claimed ε at one instant.
func (c *SimClock) read() (tt Timestamp, off, eps time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	tt = c.trueNow()
	return tt, c.offsetAtLocked(tt), c.mu.eps
}

// Now returns the node's reading ± the claimed ε.
func (c *SimClock) Now() Interval {
	tt, off, eps := c.read()
	r := tt + Timestamp(off)
	return Interval{Earliest: r - Timestamp(eps), Latest: r + Timestamp(eps)}
}

// TrueNow returns the true time this clock is measured against.
func (c *SimClock) TrueNow() Timestamp { return c.trueNow() }

// Lying reports whether the claimed ε is smaller than the real error
// |offset|, i.e. whether true time is currently outside Now().
func (c *SimClock) Lying() bool {
	_, off, eps := c.read()
	return off.Abs() > eps
}

// SetOffset makes the node's reading minus true time equal d from now on;
// drift keeps accumulating from this point.
func (c *SimClock) SetOffset(d time.Duration) {
	c.mu.Lock()
	c.mu.anchor = c.trueNow()
	c.mu.offset = d
	c.mu.Unlock()
	c.changed.notify()
}

// SetDrift changes the drift rate to ppm parts per million from now on,
// without a jump in the reading.
func (c *SimClock) SetDrift(ppm float64) {
	c.mu.Lock()
	tt := c.trueNow()
	c.mu.offset = c.offsetAtLocked(tt)
	c.mu.anchor = tt
	c.mu.driftPPM = ppm
	c.mu.Unlock()
	c.changed.notify()
}

// SetClaimedEpsilon changes the claimed ε. It panics if eps is negative.
func (c *SimClock) SetClaimedEpsilon(eps time.Duration) {
	if eps < 0 {
		panic(fmt.Sprintf("truetime: negative claimed epsilon %s", eps))
	}
	c.mu.Lock()
	c.mu.eps = eps
	c.mu.Unlock()
	c.changed.notify()
}

// After reports whether t < Now().Earliest.
func (c *SimClock) After(t Timestamp) bool { return after(c.Now(), t) }

// Before reports whether t > Now().Latest.
func (c *SimClock) Before(t Timestamp) bool { return before(c.Now(), t) }

// WaitUntilAfter blocks until After(t) or ctx ends; see Clock.
func (c *SimClock) WaitUntilAfter(ctx context.Context, t Timestamp) error {
	return waitUntilAfter(ctx, t, c.Now, &c.changed, true)
}

// Status reports the source "simulated", the claimed ε and the current
// simulated offset (reading − true time). Unsafe is set while the claimed ε
// exceeds MaxEpsilon; a lying clock does not know it lies, so lying does not
// set Unsafe.
func (c *SimClock) Status() Status {
	tt, off, eps := c.read()
	r := tt + Timestamp(off)
	s := Status{
		Source:  SourceSimulated,
		Now:     Interval{Earliest: r - Timestamp(eps), Latest: r + Timestamp(eps)},
		Epsilon: eps,
		Offset:  off,
	}
	if eps > c.maxEps {
		s.Unsafe = fmt.Sprintf("epsilon %s exceeds maximum %s", eps, c.maxEps)
	}
	return s
}
