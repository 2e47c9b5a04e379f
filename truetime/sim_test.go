package truetime

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// fakeTrue is a settable true time for deterministic simulated clocks.
type fakeTrue struct{ ns atomic.Int64 }

func (f *fakeTrue) now() Timestamp          { return Timestamp(f.ns.Load()) }
func (f *fakeTrue) advance(d time.Duration) { f.ns.Add(int64(d)) }

func newFakeSim(opts SimOptions) (*SimClock, *fakeTrue) {
	f := &fakeTrue{}
	f.ns.Store(int64(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).UnixNano()))
	opts.TestingKnobs.TrueNow = f.now
	return NewSimulated(opts), f
}

func TestSimLyingAndHonest(t *testing.T) {
	for _, tc := range []struct {
		name    string
		offset  time.Duration
		claimed time.Duration
		lying   bool
	}{
		{"exact", 0, 0, false},
		{"honest ahead", 50 * time.Millisecond, 60 * time.Millisecond, false},
		{"honest behind", -50 * time.Millisecond, 50 * time.Millisecond, false},
		{"lying ahead", 50 * time.Millisecond, time.Millisecond, true},
		{"lying behind", -50 * time.Millisecond, 49 * time.Millisecond, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, f := newFakeSim(SimOptions{Offset: tc.offset, ClaimedEpsilon: tc.claimed})
			iv := c.Now()
			if got := iv.Contains(f.now()); got == tc.lying {
				t.Errorf("Now() = %v contains true time %v: %v, want %v", iv, f.now(), got, !tc.lying)
			}
			if c.Lying() != tc.lying {
				t.Errorf("Lying() = %v, want %v", c.Lying(), tc.lying)
			}
			if c.TrueNow() != f.now() {
				t.Errorf("TrueNow() = %v, want %v", c.TrueNow(), f.now())
			}
			s := c.Status()
			if s.Source != SourceSimulated || s.Offset != tc.offset || s.Now != iv || s.Unsafe != "" {
				t.Errorf("Status() = %+v", s)
			}
		})
	}
}

func TestSimDriftAndSetters(t *testing.T) {
	c, f := newFakeSim(SimOptions{DriftPPM: 100, ClaimedEpsilon: time.Millisecond})
	f.advance(5 * time.Second) // offset 500µs: honest
	if c.Lying() || c.Status().Offset != 500*time.Microsecond {
		t.Fatalf("after 5s at 100ppm: offset %s, lying %v", c.Status().Offset, c.Lying())
	}
	f.advance(15 * time.Second) // offset 2ms: drift made it a liar
	if !c.Lying() || c.Status().Offset != 2*time.Millisecond {
		t.Fatalf("after 20s at 100ppm: offset %s, lying %v", c.Status().Offset, c.Lying())
	}
	if got, want := c.Now(), (Interval{f.now() + Timestamp(time.Millisecond), f.now() + Timestamp(3*time.Millisecond)}); got != want {
		t.Fatalf("Now() = %v, want %v", got, want)
	}
	// SetDrift does not jump the reading.
	c.SetDrift(-100)
	if got := c.Status().Offset; got != 2*time.Millisecond {
		t.Fatalf("after SetDrift: offset %s, want 2ms", got)
	}
	f.advance(10 * time.Second)
	if got := c.Status().Offset; got != time.Millisecond {
		t.Fatalf("10s at -100ppm: offset %s, want 1ms", got)
	}
	// SetOffset is visible at once; drift continues from there.
	c.SetOffset(-2 * time.Second)
	if got, want := c.Now(), (Interval{f.now() - Timestamp(2*time.Second+time.Millisecond), f.now() - Timestamp(2*time.Second-time.Millisecond)}); got != want {
		t.Fatalf("after SetOffset(-2s): Now() = %v, want %v", got, want)
	}
	c.SetClaimedEpsilon(3 * time.Second)
	if c.Lying() {
		t.Fatal("lying with claimed ε 3s and offset -2s")
	}
	if s := c.Status(); s.Unsafe != "epsilon 3s exceeds maximum 500ms" {
		t.Fatalf("Unsafe = %q", s.Unsafe)
	}
}

func TestSimSharesProcessTrueTime(t *testing.T) {
	a := NewSimulated(SimOptions{Offset: time.Second})
	b := NewSimulated(SimOptions{Offset: -time.Second})
	t0 := TrueNow()
	ta, tb := a.TrueNow(), b.TrueNow()
	t1 := TrueNow()
	if ta < t0 || tb < ta || t1 < tb {
		t.Fatalf("true times not one sequence: %v %v %v %v", t0, ta, tb, t1)
	}
}

// Commit wait on an honest clock ends after the commit timestamp in true
// time; on a clock that lies ahead of true time it ends too early. This is
// what geo-sim demonstrates.
func TestSimCommitWait(t *testing.T) {
	honest := NewSimulated(SimOptions{Offset: 3 * time.Millisecond, ClaimedEpsilon: 4 * time.Millisecond})
	s := honest.Now().Latest
	if err := honest.WaitUntilAfter(context.Background(), s); err != nil {
		t.Fatal(err)
	}
	if tt := honest.TrueNow(); tt <= s {
		t.Errorf("honest clock: commit wait for %v ended at true time %v", s, tt)
	}

	liar := NewSimulated(SimOptions{Offset: 100 * time.Millisecond, ClaimedEpsilon: time.Millisecond})
	s = liar.Now().Latest
	if err := liar.WaitUntilAfter(context.Background(), s); err != nil {
		t.Fatal(err)
	}
	if tt := liar.TrueNow(); tt >= s {
		t.Errorf("lying clock: commit wait for %v ended at true time %v, expected before it", s, tt)
	}
}

func TestSimWaitWakesOnSetOffset(t *testing.T) {
	c := NewSimulated(SimOptions{})
	s := c.Now().Latest + Timestamp(time.Hour)
	// The waiter's first timer is an hour long: only the wake-up from
	// SetOffset can end the wait before ctx does.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- c.WaitUntilAfter(ctx, s) }()
	c.SetOffset(2 * time.Hour)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

func TestSimConcurrentSkew(t *testing.T) {
	c := NewSimulated(SimOptions{ClaimedEpsilon: time.Second})
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for range 4 {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				if iv := c.Now(); iv.Latest-iv.Earliest != Timestamp(2*time.Second) {
					t.Errorf("Now() = %v", iv)
					return
				}
				_ = c.Status()
				_ = c.Lying()
			}
		})
	}
	for i := range 1000 {
		c.SetOffset(time.Duration(i) * time.Microsecond)
		c.SetDrift(float64(i % 7))
	}
	close(stop)
	wg.Wait()
}
