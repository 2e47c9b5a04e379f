package truetime

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Defaults for NTPOptions.
const (
	DefaultNTPTimeout      = 2 * time.Second
	DefaultNTPPollInterval = 10 * time.Second
	DefaultDriftRate       = 200 * time.Microsecond // per second: 200 ppm
)

// NTPOptions configures an NTPClock. Every field but Servers may be left
// zero for its default.
type NTPOptions struct {
	// Servers lists the NTP servers to poll, each as HOST:PORT (an IPv6 host
	// in brackets). Required. The port is part of the address; there is no
	// default port.
	Servers []string
	// Timeout bounds one query to one server. Default DefaultNTPTimeout (2s).
	Timeout time.Duration
	// PollInterval is the time between the sync rounds of the goroutine that
	// Start runs. Default DefaultNTPPollInterval (10s).
	PollInterval time.Duration
	// DriftRate bounds the rate error of the local monotonic clock, as the
	// error gained per second: the uncertainty grows by DriftRate × the time
	// since a sample. It must cover any slewing by a local time daemon too.
	// Default DefaultDriftRate (200µs per second); at most 1s per second.
	DriftRate time.Duration
	// MaxEpsilon is the ε above which Status().Unsafe is set. Default
	// DefaultMaxEpsilon (500ms).
	MaxEpsilon time.Duration
	// Logger receives a warning when a poll round of the Start goroutine
	// fails. Default slog.Default().
	Logger *slog.Logger
	// TestingKnobs are hooks for tests.
	TestingKnobs NTPTestingKnobs
}

// NTPTestingKnobs are test hooks for NTPClock.
type NTPTestingKnobs struct {
	// Elapsed, if set, replaces Mono as the local monotonic clock that
	// samples are anchored to and the drift bound is measured with. The
	// local clock the NTP exchange measures is the wall clock at process
	// start plus Elapsed(), so adding a constant skews the local clock and
	// adding a growing amount simulates the passage of time. It must not go
	// backwards.
	Elapsed func() time.Duration
}

// NTPClock is a TrueTime source bounded by NTP servers. NewNTP takes a first
// sample, so Now is usable as soon as it returns; Start runs one goroutine
// that re-syncs every PollInterval until Close. Sync runs a round on demand.
// All methods are safe for concurrent use.
//
// The local clock is the monotonic clock (the wall clock at process start
// plus Mono), never the system wall clock, so steps of the system clock do
// not move Now.
type NTPClock struct {
	opts    NTPOptions // with defaults filled in
	elapsed func() time.Duration
	changed notifier // notified when a sync round publishes an estimate

	// est is the latest combined estimate; never nil once NewNTP returns.
	est atomic.Pointer[estimate]

	// Lock order: syncMu before mu.
	//
	// syncMu serialises sync rounds; it is held for a whole round.
	syncMu sync.Mutex
	mu     struct {
		sync.Mutex
		servers []serverState // one per opts.Servers, same order
		started bool
		closed  bool
		cancel  context.CancelFunc // stops the poll goroutine; nil until Start
		done    chan struct{}      // closed when the poll goroutine exits
	}
}

var _ Clock = (*NTPClock)(nil)

// bounds is an interval anchored to the local monotonic clock: at elapsed
// time anchor, true time was in [earliest, latest]. Later, at elapsed m, both
// ends move by m−anchor and the interval widens on each side by the drift
// bound over m−anchor. Samples and combined estimates are both bounds.
type bounds struct {
	anchor           time.Duration
	earliest, latest Timestamp
}

// at returns b's interval at local elapsed time m.
func (b bounds) at(m, driftRate time.Duration) Interval {
	el := m - b.anchor
	g := Timestamp(driftGrowth(el, driftRate))
	return Interval{Earliest: b.earliest + Timestamp(el) - g, Latest: b.latest + Timestamp(el) + g}
}

// estimate is what Now reads: the combination of the servers' samples made
// by the latest successful sync round.
type estimate struct {
	bounds
	// noMajority is set when no majority of the servers agreed.
	noMajority string
}

// serverState is what the clock knows about one server. Guarded by
// NTPClock.mu.
type serverState struct {
	addr   string
	sample *sample // latest valid sample; nil if none yet
	err    error   // latest query's error; nil if it gave a valid sample
	liar   bool    // dropped by the latest combination
}

// NewNTP validates opts, runs a first sync round and returns the clock. It
// fails if an address is malformed or if no server gave a valid sample; the
// error names each server and why. The clock does not poll until Start.
func NewNTP(opts NTPOptions) (*NTPClock, error) {
	if len(opts.Servers) == 0 {
		return nil, errors.New("truetime: no NTP servers configured")
	}
	for _, addr := range opts.Servers {
		if err := checkServerAddr(addr); err != nil {
			return nil, err
		}
	}
	if opts.Timeout < 0 || opts.PollInterval < 0 || opts.DriftRate < 0 || opts.DriftRate > time.Second || opts.MaxEpsilon < 0 {
		return nil, fmt.Errorf("truetime: invalid NTPOptions (timeout %s, poll interval %s, drift rate %s/s, max epsilon %s)",
			opts.Timeout, opts.PollInterval, opts.DriftRate, opts.MaxEpsilon)
	}
	opts.Servers = slices.Clone(opts.Servers)
	if opts.Timeout == 0 {
		opts.Timeout = DefaultNTPTimeout
	}
	if opts.PollInterval == 0 {
		opts.PollInterval = DefaultNTPPollInterval
	}
	if opts.DriftRate == 0 {
		opts.DriftRate = DefaultDriftRate
	}
	if opts.MaxEpsilon == 0 {
		opts.MaxEpsilon = DefaultMaxEpsilon
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	c := &NTPClock{opts: opts, elapsed: opts.TestingKnobs.Elapsed}
	if c.elapsed == nil {
		c.elapsed = Mono
	}
	c.mu.servers = make([]serverState, len(opts.Servers))
	for i, addr := range opts.Servers {
		c.mu.servers[i].addr = addr
	}
	// Each query is bounded by opts.Timeout; the round needs no other bound.
	if err := c.Sync(context.Background()); err != nil {
		return nil, err
	}
	return c, nil
}

// checkServerAddr rejects addresses that are not HOST:PORT with a port in
// 1–65535, naming the address.
func checkServerAddr(addr string) error {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("truetime: bad NTP server address %q (want HOST:PORT): %w", addr, err)
	}
	if host == "" {
		return fmt.Errorf("truetime: bad NTP server address %q: empty host", addr)
	}
	if p, err := strconv.Atoi(port); err != nil || p < 1 || p > 65535 {
		return fmt.Errorf("truetime: bad NTP server address %q: port %q is not a number in 1-65535", addr, port)
	}
	return nil
}

// Start starts the goroutine that runs a sync round every PollInterval. It
// does nothing if the clock was already started or closed.
func (c *NTPClock) Start() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.mu.started || c.mu.closed {
		return
	}
	c.mu.started = true
	ctx, cancel := context.WithCancel(context.Background())
	c.mu.cancel, c.mu.done = cancel, make(chan struct{})
	go c.poll(ctx, c.mu.done)
}

// Close stops the poll goroutine, if any, and waits for it to exit; a round
// in flight is abandoned. The clock stays readable: Now keeps extrapolating
// the last estimate, widening at the drift rate. Close may be called more
// than once.
func (c *NTPClock) Close() {
	c.mu.Lock()
	c.mu.closed = true
	cancel, done := c.mu.cancel, c.mu.done
	c.mu.Unlock()
	if cancel != nil {
		cancel()
		<-done
	}
}

func (c *NTPClock) poll(ctx context.Context, done chan<- struct{}) {
	defer close(done)
	tick := time.NewTicker(c.opts.PollInterval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		if err := c.Sync(ctx); err != nil && ctx.Err() == nil {
			c.opts.Logger.Warn("truetime: NTP sync round failed; uncertainty keeps growing", "err", err)
		}
	}
}

// Now returns the latest estimate extrapolated to the current monotonic
// time: it moves with the local clock and widens by the drift bound.
func (c *NTPClock) Now() Interval {
	return c.est.Load().at(c.elapsed(), c.opts.DriftRate)
}

// After reports whether t < Now().Earliest.
func (c *NTPClock) After(t Timestamp) bool { return after(c.Now(), t) }

// Before reports whether t > Now().Latest.
func (c *NTPClock) Before(t Timestamp) bool { return before(c.Now(), t) }

// WaitUntilAfter blocks until After(t) or ctx ends; see Clock. A sync round
// wakes it to re-check.
func (c *NTPClock) WaitUntilAfter(ctx context.Context, t Timestamp) error {
	return waitUntilAfter(ctx, t, c.Now, &c.changed, true)
}

// Status reports the interval, the offset of the system clock against the
// reference, each server's latest sample or error, and Unsafe when no
// majority of the servers agreed or ε exceeds MaxEpsilon.
func (c *NTPClock) Status() Status {
	e := c.est.Load()
	m := c.elapsed()
	sys := time.Now().UnixNano()
	now := e.at(m, c.opts.DriftRate)
	s := Status{
		Source:    SourceNTP,
		Now:       now,
		Epsilon:   now.Epsilon(),
		Offset:    time.Duration(int64(now.mid()) - sys),
		SinceSync: m - e.anchor,
	}
	var unsafe []string
	if e.noMajority != "" {
		unsafe = append(unsafe, e.noMajority)
	}
	if s.Epsilon > c.opts.MaxEpsilon {
		unsafe = append(unsafe, fmt.Sprintf("epsilon %s exceeds maximum %s", s.Epsilon, c.opts.MaxEpsilon))
	}
	s.Unsafe = strings.Join(unsafe, "; ")

	c.mu.Lock()
	defer c.mu.Unlock()
	for _, st := range c.mu.servers {
		ss := ServerStatus{Address: st.addr, Liar: st.liar}
		var se *ServerError
		switch {
		case errors.As(st.err, &se):
			ss.Error = se.Err.Error() // without the address, which is beside it
		case st.err != nil:
			ss.Error = st.err.Error()
		}
		if sm := st.sample; sm != nil {
			ss.Offset, ss.RTT, ss.RootDistance, ss.Stratum = sm.offset, sm.rtt, sm.rootDistance, sm.stratum
			ss.SinceSample = m - sm.anchor
		}
		s.Servers = append(s.Servers, ss)
	}
	return s
}
