package truetime

import (
	"context"
	"errors"
	"testing"
	"testing/synctest"
)

func TestManualNowAfterBefore(t *testing.T) {
	c := NewManual(1000, 10)
	if got := c.Now(); got != (Interval{990, 1010}) {
		t.Fatalf("Now() = %v", got)
	}
	for _, tc := range []struct {
		ts            Timestamp
		after, before bool
	}{{989, true, false}, {990, false, false}, {1010, false, false}, {1011, false, true}} {
		if c.After(tc.ts) != tc.after || c.Before(tc.ts) != tc.before {
			t.Errorf("After(%d), Before(%d) = %v, %v; want %v, %v", tc.ts, tc.ts, c.After(tc.ts), c.Before(tc.ts), tc.after, tc.before)
		}
	}
	c.Advance(5)
	c.SetEpsilon(0)
	if got := c.Now(); got != (Interval{1005, 1005}) {
		t.Fatalf("after Advance(5), SetEpsilon(0): Now() = %v", got)
	}
	c.Set(7)
	if s := c.Status(); s.Source != SourceManual || s.Now != (Interval{7, 7}) || s.Epsilon != 0 {
		t.Fatalf("Status() = %+v", s)
	}
}

// waiting reports whether the WaitUntilAfter started in a goroutine is still
// blocked, once every goroutine of the bubble is blocked.
func waiting(t *testing.T, done <-chan error) bool {
	t.Helper()
	synctest.Wait()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("WaitUntilAfter: %v", err)
		}
		return false
	default:
		return true
	}
}

func TestManualWaitUntilAfterAdvance(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := NewManual(1000, 10)
		done := make(chan error, 1)
		go func() { done <- c.WaitUntilAfter(context.Background(), 1000) }()
		if !waiting(t, done) {
			t.Fatal("returned before the clock moved")
		}
		c.Advance(10) // Earliest = 1000: 1000 has not passed yet
		if !waiting(t, done) {
			t.Fatal("returned with Earliest == t")
		}
		c.Advance(1) // Earliest = 1001
		if waiting(t, done) {
			t.Fatal("still waiting after Earliest passed t")
		}
	})
}

func TestManualWaitUntilAfterSetAndEpsilon(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := NewManual(1000, 10)
		done := make(chan error, 1)
		go func() { done <- c.WaitUntilAfter(context.Background(), 1995) }()
		c.Set(2000) // Earliest 1990
		if !waiting(t, done) {
			t.Fatal("returned before Earliest passed t")
		}
		c.SetEpsilon(4) // Earliest 1996
		if waiting(t, done) {
			t.Fatal("still waiting after SetEpsilon made Earliest pass t")
		}
	})
}

func TestManualWaitUntilAfterCancel(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := NewManual(1000, 10)
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- c.WaitUntilAfter(ctx, 5000) }()
		synctest.Wait()
		cancel()
		if err := <-done; !errors.Is(err, context.Canceled) {
			t.Fatalf("WaitUntilAfter after cancel = %v, want context.Canceled", err)
		}
		// A timestamp already passed returns nil even with ctx done.
		if err := c.WaitUntilAfter(ctx, 900); err != nil {
			t.Fatalf("WaitUntilAfter(passed) = %v", err)
		}
	})
}
