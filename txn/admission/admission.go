package admission

import (
	"container/heap"
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/meridiandb/meridian/truetime"
)

// Options configure a Controller. The zero value takes every default.
type Options struct {
	// Window is the number of outcomes between adjustments of the limit.
	// Default: 32.
	Window int
	// HighAborts: when more than this fraction of a window's outcomes are
	// aborts, the limit shrinks. Default: 0.5 (one abort per commit).
	HighAborts float64
	// LowAborts: when fewer than this fraction are, the limit grows.
	// Default: 0.2.
	LowAborts float64
	// MinLimit is the smallest limit. Default: 1.
	MinLimit int
	// MaxWait bounds a transaction's wait for a slot; past it, it runs
	// over the limit. Default: 250ms.
	MaxWait time.Duration
	// IdleRelease: a slot holder with no request under way, none for this
	// long, gives its slot to a waiter. Default: 20ms.
	IdleRelease time.Duration
	// Now is the monotonic clock. Default: truetime.Mono.
	Now func() time.Duration
}

func (o *Options) setDefaults() {
	if o.Window <= 0 {
		o.Window = 32
	}
	if o.HighAborts <= 0 {
		o.HighAborts = 0.5
	}
	if o.LowAborts <= 0 {
		o.LowAborts = 0.2
	}
	if o.MinLimit <= 0 {
		o.MinLimit = 1
	}
	if o.MaxWait <= 0 {
		o.MaxWait = 250 * time.Millisecond
	}
	if o.IdleRelease <= 0 {
		o.IdleRelease = 20 * time.Millisecond
	}
	if o.Now == nil {
		o.Now = truetime.Mono
	}
}

// Outcome is how an admitted transaction ended.
type Outcome uint8

const (
	// Neutral: rolled back by its client, or failed for a reason that says
	// nothing about contention.
	Neutral Outcome = iota
	// Committed.
	Committed
	// Aborted by a conflict (wounded, lock wait timeout): the signal of
	// contention.
	Aborted
)

// Metrics describe a Controller, as a plain struct.
type Metrics struct {
	Limit     int // 0: none
	Active    int // slots held
	Waiting   int // transactions waiting for a slot
	Admitted  int64
	Waited    int64         // admissions that had to wait
	WaitTime  time.Duration // their total wait
	TimedOut  int64         // admitted over the limit after MaxWait
	Revoked   int64         // slots taken back from idle holders
	Decreases int64         // times the limit shrank
}

// Controller is the load control of one gateway.
type Controller struct {
	opts Options
	mu   struct {
		sync.Mutex
		limit   int // 0: none
		active  int
		holders map[*Ticket]struct{}
		waiters waitHeap
		seq     uint64
		// The current window: outcomes and the most transactions that
		// held or wanted a slot at once.
		commits, aborts int
		peak            int
		m               Metrics
	}
}

// New returns a Controller without a limit.
func New(o Options) *Controller {
	o.setDefaults()
	c := &Controller{opts: o}
	c.mu.holders = map[*Ticket]struct{}{}
	return c
}

// Ticket is an admitted transaction's slot. Done must be called once when
// the transaction ends.
type Ticket struct {
	c          *Controller
	inflight   atomic.Int32 // requests under way (Enter without Leave)
	lastActive atomic.Int64 // Options.Now at its last Enter or Leave
	// guarded by c.mu
	counted bool // holds a slot (not revoked, not done)
	done    bool
}

// Enter records that a request of the transaction started; Leave, that
// it ended. A holder is idle while none is under way. Safe on a nil
// Ticket.
func (t *Ticket) Enter() {
	if t != nil {
		t.inflight.Add(1)
		t.lastActive.Store(int64(t.c.opts.Now()))
	}
}

// Leave: see Enter.
func (t *Ticket) Leave() {
	if t != nil {
		t.lastActive.Store(int64(t.c.opts.Now()))
		t.inflight.Add(-1)
	}
}

// Done releases the slot and records the outcome. Safe on a nil Ticket;
// calls after the first are ignored.
func (t *Ticket) Done(o Outcome) {
	if t == nil {
		return
	}
	c := t.c
	c.mu.Lock()
	defer c.mu.Unlock()
	if t.done {
		return
	}
	t.done = true
	c.releaseLocked(t)
	switch o {
	case Committed:
		c.mu.commits++
	case Aborted:
		c.mu.aborts++
	}
	if c.mu.commits+c.mu.aborts >= c.opts.Window {
		c.adjustLocked()
	}
	c.dispatchLocked()
}

type waiter struct {
	prio    int64
	seq     uint64
	index   int
	ready   chan struct{}
	granted *Ticket
}

// Admit returns a slot for a transaction of the given wound-wait priority
// (lower is older and goes first) and how long it waited for it. It waits
// while the limit is reached, at most MaxWait. It fails only when ctx ends.
// Safe on a nil Controller (no limit, nil Ticket).
func (c *Controller) Admit(ctx context.Context, priority int64) (*Ticket, time.Duration, error) {
	if c == nil {
		return nil, 0, nil
	}
	c.mu.Lock()
	c.mu.m.Admitted++
	if c.freeLocked() && len(c.mu.waiters) == 0 {
		t := c.grantLocked()
		c.mu.Unlock()
		return t, 0, nil
	}
	start := c.opts.Now()
	c.mu.seq++
	w := &waiter{prio: priority, seq: c.mu.seq, ready: make(chan struct{})}
	heap.Push(&c.mu.waiters, w)
	c.notePeakLocked()
	c.dispatchLocked()
	c.mu.Unlock()

	deadline := start + c.opts.MaxWait
	timer := time.NewTimer(min(c.opts.IdleRelease, c.opts.MaxWait))
	defer timer.Stop()
	for {
		select {
		case <-w.ready:
			return c.admitted(w, start)
		case <-ctx.Done():
			c.mu.Lock()
			if w.granted == nil {
				heap.Remove(&c.mu.waiters, w.index)
				c.mu.Unlock()
				return nil, c.opts.Now() - start, ctx.Err()
			}
			c.mu.Unlock()
			w.granted.Done(Neutral)
			return nil, c.opts.Now() - start, ctx.Err()
		case <-timer.C:
		}
		now := c.opts.Now()
		c.mu.Lock()
		if w.granted == nil {
			c.revokeIdleLocked(now)
			c.dispatchLocked()
		}
		if w.granted == nil && now >= deadline {
			heap.Remove(&c.mu.waiters, w.index)
			c.mu.m.TimedOut++
			w.granted = c.grantLocked()
			close(w.ready)
		}
		c.mu.Unlock()
		timer.Reset(max(0, min(c.opts.IdleRelease, deadline-now)))
	}
}

func (c *Controller) admitted(w *waiter, start time.Duration) (*Ticket, time.Duration, error) {
	waited := c.opts.Now() - start
	c.mu.Lock()
	c.mu.m.Waited++
	c.mu.m.WaitTime += waited
	c.mu.Unlock()
	return w.granted, waited, nil
}

// Metrics returns the controller's state and counters.
func (c *Controller) Metrics() Metrics {
	if c == nil {
		return Metrics{}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	m := c.mu.m
	m.Limit, m.Active, m.Waiting = c.mu.limit, c.mu.active, len(c.mu.waiters)
	return m
}

func (c *Controller) freeLocked() bool { return c.mu.limit == 0 || c.mu.active < c.mu.limit }

// grantLocked hands out a counted slot (over the limit if it is full).
func (c *Controller) grantLocked() *Ticket {
	t := &Ticket{c: c, counted: true}
	t.lastActive.Store(int64(c.opts.Now()))
	c.mu.active++
	c.mu.holders[t] = struct{}{}
	c.notePeakLocked()
	return t
}

func (c *Controller) notePeakLocked() {
	c.mu.peak = max(c.mu.peak, c.mu.active+len(c.mu.waiters))
}

func (c *Controller) releaseLocked(t *Ticket) {
	if t.counted {
		t.counted = false
		c.mu.active--
		delete(c.mu.holders, t)
	}
}

// dispatchLocked admits the oldest waiters while slots are free.
func (c *Controller) dispatchLocked() {
	for len(c.mu.waiters) > 0 && c.freeLocked() {
		w := heap.Pop(&c.mu.waiters).(*waiter)
		w.granted = c.grantLocked()
		close(w.ready)
	}
}

// revokeIdleLocked takes the slots of holders idle for IdleRelease.
func (c *Controller) revokeIdleLocked(now time.Duration) {
	for t := range c.mu.holders {
		if t.inflight.Load() == 0 && now-time.Duration(t.lastActive.Load()) >= c.opts.IdleRelease {
			c.releaseLocked(t)
			c.mu.m.Revoked++
		}
	}
}

// adjustLocked moves the limit after a window of outcomes.
func (c *Controller) adjustLocked() {
	n := c.mu.commits + c.mu.aborts
	aborts := float64(c.mu.aborts) / float64(n)
	switch {
	case aborts > c.opts.HighAborts:
		base := c.mu.limit
		if base == 0 || base > c.mu.peak {
			base = c.mu.peak
		}
		c.mu.limit = max(c.opts.MinLimit, min(base-1, base*3/4))
		c.mu.m.Decreases++
	case aborts < c.opts.LowAborts && c.mu.limit != 0:
		c.mu.limit++
		if c.mu.limit > c.mu.peak+1 {
			c.mu.limit = 0 // it no longer binds
		}
	}
	c.mu.commits, c.mu.aborts = 0, 0
	c.mu.peak = c.mu.active + len(c.mu.waiters)
}

// waitHeap orders waiters oldest first (priority, then arrival).
type waitHeap []*waiter

func (h waitHeap) Len() int { return len(h) }
func (h waitHeap) Less(i, j int) bool {
	if h[i].prio != h[j].prio {
		return h[i].prio < h[j].prio
	}
	return h[i].seq < h[j].seq
}
func (h waitHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].index, h[j].index = i, j
}
func (h *waitHeap) Push(x any) {
	w := x.(*waiter)
	w.index = len(*h)
	*h = append(*h, w)
}
func (h *waitHeap) Pop() any {
	old := *h
	w := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	return w
}
