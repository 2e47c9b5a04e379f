package admission

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// manualClock is a monotonic clock tests move by hand.
type manualClock struct{ now atomic.Int64 }

func (m *manualClock) Now() time.Duration      { return time.Duration(m.now.Load()) }
func (m *manualClock) Advance(d time.Duration) { m.now.Add(int64(d)) }

func admitNow(t *testing.T, c *Controller, prio int64) *Ticket {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	tk, _, err := c.Admit(ctx, prio)
	if err != nil {
		t.Fatalf("Admit(%d): %v", prio, err)
	}
	return tk
}

// contend runs a window of n transactions held at once that all abort, so
// that the limit drops from none to three quarters of n.
func contend(t *testing.T, c *Controller, n int) {
	t.Helper()
	var ts []*Ticket
	for i := 0; i < n; i++ {
		ts = append(ts, admitNow(t, c, int64(1000+i)))
	}
	for _, tk := range ts {
		tk.Done(Aborted)
	}
}

type admitResult struct {
	prio int64
	tk   *Ticket
	wait time.Duration
	err  error
}

func admitAsync(c *Controller, ctx context.Context, prio int64, out chan<- admitResult) {
	go func() {
		tk, w, err := c.Admit(ctx, prio)
		out <- admitResult{prio, tk, w, err}
	}()
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.NewTimer(10 * time.Second)
	defer deadline.Stop()
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	for !cond() {
		select {
		case <-deadline.C:
			t.Fatalf("timed out waiting for %s", what)
		case <-tick.C:
		}
	}
}

func TestNoLimitWithoutContention(t *testing.T) {
	c := New(Options{Window: 4})
	var ts []*Ticket
	for i := 0; i < 50; i++ {
		ts = append(ts, admitNow(t, c, int64(i)))
	}
	for i, tk := range ts {
		o := Committed
		if i%10 == 0 {
			o = Aborted // 10%: under LowAborts
		}
		tk.Done(o)
	}
	m := c.Metrics()
	if m.Limit != 0 || m.Active != 0 || m.Waited != 0 {
		t.Fatalf("metrics after commits: %+v, want no limit, nothing active, no waits", m)
	}
}

func TestLimitShrinksAndAdmitsOldestFirst(t *testing.T) {
	c := New(Options{Window: 8, MaxWait: time.Minute, IdleRelease: time.Minute})
	contend(t, c, 8)
	if m := c.Metrics(); m.Limit != 6 || m.Decreases != 1 {
		t.Fatalf("after a window of 8 aborts held at once: %+v, want limit 6", m)
	}
	var held []*Ticket
	for i := 0; i < 6; i++ {
		held = append(held, admitNow(t, c, int64(i)))
	}
	ctx := context.Background()
	out := make(chan admitResult, 3)
	for i, p := range []int64{30, 10, 20} {
		admitAsync(c, ctx, p, out)
		waitFor(t, "the waiter to queue", func() bool { return c.Metrics().Waiting == i+1 })
	}
	for i, want := range []int64{10, 20, 30} {
		held[i].Done(Committed)
		r := <-out
		if r.err != nil || r.prio != want {
			t.Fatalf("admission %d: priority %d (err %v), want %d (oldest first)", i, r.prio, r.err, want)
		}
		held = append(held, r.tk)
	}
	if m := c.Metrics(); m.Active != 6 || m.Waited != 3 {
		t.Fatalf("metrics: %+v, want 6 active and 3 waited", m)
	}
}

func TestMaxWaitAdmitsOverTheLimit(t *testing.T) {
	c := New(Options{Window: 4, MaxWait: 20 * time.Millisecond, IdleRelease: time.Hour})
	contend(t, c, 4)
	var held []*Ticket
	for i := 0; i < 3; i++ {
		held = append(held, admitNow(t, c, int64(i)))
	}
	tk, waited, err := c.Admit(context.Background(), 99)
	if err != nil || tk == nil {
		t.Fatalf("Admit over the limit: %v", err)
	}
	if waited < 20*time.Millisecond {
		t.Fatalf("waited %v, want at least MaxWait", waited)
	}
	if m := c.Metrics(); m.TimedOut != 1 || m.Active != 4 || m.Limit != 3 {
		t.Fatalf("metrics: %+v, want one timed out, 4 active over a limit of 3", m)
	}
	for _, h := range append(held, tk) {
		h.Done(Committed)
	}
	if m := c.Metrics(); m.Active != 0 {
		t.Fatalf("active %d after every Done, want 0", m.Active)
	}
}

func TestIdleHolderLosesItsSlot(t *testing.T) {
	clk := &manualClock{}
	c := New(Options{Window: 4, MaxWait: time.Hour, IdleRelease: 5 * time.Millisecond, Now: clk.Now})
	contend(t, c, 4)
	busy, idle := admitNow(t, c, 1), admitNow(t, c, 2)
	third := admitNow(t, c, 3)
	out := make(chan admitResult, 1)
	admitAsync(c, context.Background(), 4, out)
	waitFor(t, "the waiter to queue", func() bool { return c.Metrics().Waiting == 1 })
	busy.Enter() // a request under way: never idle
	clk.Advance(time.Millisecond)
	third.Enter()
	third.Leave()
	clk.Advance(4 * time.Millisecond) // idle has been idle for 5ms, third for 4ms
	r := <-out
	if r.err != nil {
		t.Fatal(r.err)
	}
	m := c.Metrics()
	if m.Revoked != 1 || m.Active != 3 {
		t.Fatalf("metrics: %+v, want exactly the idle slot revoked and 3 active", m)
	}
	busy.Leave()
	idle.Done(Committed) // no slot to give back
	idle.Done(Committed) // repeated: ignored
	for _, tk := range []*Ticket{busy, third, r.tk} {
		tk.Done(Committed)
	}
	if m := c.Metrics(); m.Active != 0 {
		t.Fatalf("active %d after every Done, want 0", m.Active)
	}
}

func TestLimitGrowsBackAndLifts(t *testing.T) {
	c := New(Options{Window: 4})
	contend(t, c, 4) // limit 3
	for round := 0; c.Metrics().Limit != 0; round++ {
		if round > 10 {
			t.Fatalf("limit still %d after %d windows of commits", c.Metrics().Limit, round)
		}
		before := c.Metrics().Limit
		for i := 0; i < 4; i++ {
			admitNow(t, c, int64(i)).Done(Committed)
		}
		if after := c.Metrics().Limit; after != 0 && after != before+1 {
			t.Fatalf("limit %d -> %d after a window of commits, want +1 or lifted", before, after)
		}
	}
}

func TestCancelledWaiterLeavesTheQueue(t *testing.T) {
	c := New(Options{Window: 4, MaxWait: time.Hour, IdleRelease: time.Hour})
	contend(t, c, 4)
	var held []*Ticket
	for i := 0; i < 3; i++ {
		held = append(held, admitNow(t, c, int64(i)))
	}
	ctx, cancel := context.WithCancel(context.Background())
	out := make(chan admitResult, 1)
	admitAsync(c, ctx, 5, out)
	waitFor(t, "the waiter to queue", func() bool { return c.Metrics().Waiting == 1 })
	cancel()
	if r := <-out; !errors.Is(r.err, context.Canceled) || r.tk != nil {
		t.Fatalf("cancelled Admit: %v %v, want context.Canceled and no ticket", r.tk, r.err)
	}
	if m := c.Metrics(); m.Waiting != 0 || m.Active != 3 {
		t.Fatalf("metrics: %+v, want no waiter and 3 active", m)
	}
}

// TestConcurrentUse hammers the controller; run with -race.
func TestConcurrentUse(t *testing.T) {
	c := New(Options{Window: 8, MaxWait: 5 * time.Millisecond, IdleRelease: time.Millisecond})
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 200; i++ {
				tk, _, err := c.Admit(context.Background(), int64(g*1000+i))
				if err != nil {
					t.Error(err)
					return
				}
				tk.Enter()
				tk.Leave()
				o := Committed
				if i%2 == 0 {
					o = Aborted
				}
				tk.Done(o)
			}
		}()
	}
	wg.Wait()
	if m := c.Metrics(); m.Active != 0 || m.Waiting != 0 || m.Admitted != 1600 {
		t.Fatalf("metrics: %+v, want nothing active or waiting and 1600 admitted", m)
	}
}
