package truetime

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// ManualClock is a clock that moves only when told to, for tests. Now() is
// the set time ± ε. Advance, Set and SetEpsilon wake WaitUntilAfter callers,
// which otherwise wait without timers. Safe for concurrent use; it starts no
// goroutines.
type ManualClock struct {
	changed notifier
	mu      struct {
		sync.Mutex
		now Timestamp
		eps time.Duration
	}
}

var _ Clock = (*ManualClock)(nil)

// NewManual returns a clock reading start ± epsilon. It panics if epsilon is
// negative.
func NewManual(start Timestamp, epsilon time.Duration) *ManualClock {
	c := &ManualClock{}
	c.mu.now = start
	c.setEpsilon(epsilon)
	return c
}

// Advance moves the clock by d (backwards if d is negative) and wakes
// waiters.
func (c *ManualClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.mu.now += Timestamp(d)
	c.mu.Unlock()
	c.changed.notify()
}

// Set moves the clock to t and wakes waiters.
func (c *ManualClock) Set(t Timestamp) {
	c.mu.Lock()
	c.mu.now = t
	c.mu.Unlock()
	c.changed.notify()
}

// SetEpsilon changes ε and wakes waiters. It panics if eps is negative.
func (c *ManualClock) SetEpsilon(eps time.Duration) {
	c.setEpsilon(eps)
	c.changed.notify()
}

func (c *ManualClock) setEpsilon(eps time.Duration) {
	if eps < 0 {
		panic(fmt.Sprintf("truetime: negative manual clock epsilon %s", eps))
	}
	c.mu.Lock()
	c.mu.eps = eps
	c.mu.Unlock()
}

// Now returns the set time ± ε.
func (c *ManualClock) Now() Interval {
	c.mu.Lock()
	defer c.mu.Unlock()
	return Interval{Earliest: c.mu.now - Timestamp(c.mu.eps), Latest: c.mu.now + Timestamp(c.mu.eps)}
}

// After reports whether t < Now().Earliest.
func (c *ManualClock) After(t Timestamp) bool { return after(c.Now(), t) }

// Before reports whether t > Now().Latest.
func (c *ManualClock) Before(t Timestamp) bool { return before(c.Now(), t) }

// WaitUntilAfter blocks until the clock has been moved far enough that
// After(t) holds, or ctx ends; see Clock.
func (c *ManualClock) WaitUntilAfter(ctx context.Context, t Timestamp) error {
	return waitUntilAfter(ctx, t, c.Now, &c.changed, false)
}

// Status reports the source "manual".
func (c *ManualClock) Status() Status {
	now := c.Now()
	return Status{Source: SourceManual, Now: now, Epsilon: now.Epsilon()}
}
