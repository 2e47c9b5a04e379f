package truetime

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/beevik/ntp"

	"github.com/meridiandb/meridian/truetime/ntptest"
)

func startNTP(t *testing.T, opts ntptest.Options) *ntptest.Server {
	t.Helper()
	s, err := ntptest.Start(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func newNTP(t *testing.T, opts NTPOptions) *NTPClock {
	t.Helper()
	c, err := NewNTP(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

// reference returns the clock of an honest server running at offset from the
// real clock: the "true time" the NTP clock must bound.
func reference(offset time.Duration) func() Timestamp {
	return func() Timestamp { return Timestamp(time.Now().Add(offset).UnixNano()) }
}

// checkContains reads c.Now() between two readings of the reference and
// fails unless the interval contains the reference time of some instant
// between them.
func checkContains(t *testing.T, c Clock, ref func() Timestamp) Interval {
	t.Helper()
	before := ref()
	iv := c.Now()
	after := ref()
	if iv.Earliest > after || iv.Latest < before {
		t.Fatalf("Now() = %v does not contain true time, which was in [%v, %v]", iv, before, after)
	}
	return iv
}

// Whatever the server's offset from the local clock and however asymmetric
// the path, the interval contains the server's time, and is at least as wide
// as the evidence (half the round trip) requires.
func TestNTPContainsTrueTime(t *testing.T) {
	for _, off := range []time.Duration{0, 250 * time.Millisecond, -3 * time.Second, time.Hour} {
		for _, d := range []struct{ fwd, ret time.Duration }{
			{0, 0}, {0, 20 * time.Millisecond}, {20 * time.Millisecond, 0}, {5 * time.Millisecond, 15 * time.Millisecond},
		} {
			t.Run(fmt.Sprintf("offset=%s/fwd=%s/ret=%s", off, d.fwd, d.ret), func(t *testing.T) {
				srv := startNTP(t, ntptest.Options{Offset: off, ForwardDelay: d.fwd, ReturnDelay: d.ret,
					RootDelay: time.Millisecond, RootDispersion: 2 * time.Millisecond})
				c := newNTP(t, NTPOptions{Servers: []string{srv.Addr()}})
				for range 3 {
					iv := checkContains(t, c, reference(off))
					minEps := (d.fwd+d.ret)/2 + time.Millisecond/2 + 2*time.Millisecond
					// The upper bound only catches absurd widths; a loaded machine
					// may stretch the round trip.
					if iv.Epsilon() < minEps || iv.Epsilon() > minEps+time.Second {
						t.Errorf("epsilon %s, want in [%s, %s]", iv.Epsilon(), minEps, minEps+time.Second)
					}
					s := c.Status()
					if s.Source != SourceNTP || s.Unsafe != "" || len(s.Servers) != 1 || s.Servers[0].Error != "" {
						t.Errorf("Status() = %+v", s)
					}
					// Status reads the system clock just after the interval.
					if dev := (s.Offset - off).Abs(); dev > s.Epsilon+50*time.Millisecond {
						t.Errorf("Status().Offset = %s, want %s ± %s", s.Offset, off, s.Epsilon)
					}
					if err := c.Sync(context.Background()); err != nil {
						t.Fatal(err)
					}
				}
			})
		}
	}
}

// A skewed local clock (rather than a skewed server) is corrected too: the
// real clock, served by an honest server, stays in the interval.
func TestNTPCorrectsSkewedLocalClock(t *testing.T) {
	srv := startNTP(t, ntptest.Options{ReturnDelay: 2 * time.Millisecond})
	for _, skew := range []time.Duration{2 * time.Second, -500 * time.Millisecond} {
		c := newNTP(t, NTPOptions{Servers: []string{srv.Addr()},
			TestingKnobs: NTPTestingKnobs{Elapsed: func() time.Duration { return Mono() + skew }}})
		checkContains(t, c, reference(0))
		if s := c.Status(); (s.Servers[0].Offset + skew).Abs() > s.Epsilon+time.Millisecond {
			t.Errorf("skew %s: server offset %s", skew, s.Servers[0].Offset)
		}
	}
}

// fakeElapsed is a monotonic clock that moves only when told to.
type fakeElapsed struct{ ns atomic.Int64 }

func (f *fakeElapsed) elapsed() time.Duration  { return time.Duration(f.ns.Load()) }
func (f *fakeElapsed) advance(d time.Duration) { f.ns.Add(int64(d)) }

func TestNTPWidensAtDriftRate(t *testing.T) {
	srv := startNTP(t, ntptest.Options{RootDispersion: time.Millisecond})
	for _, tc := range []struct {
		rate, step, grow time.Duration
	}{
		{0, 10 * time.Second, 2 * time.Millisecond}, // default 200µs/s
		{0, 1500 * time.Millisecond, 300 * time.Microsecond},
		{time.Millisecond, 10 * time.Second, 10 * time.Millisecond},
	} {
		f := &fakeElapsed{}
		f.advance(time.Hour)
		c := newNTP(t, NTPOptions{Servers: []string{srv.Addr()}, DriftRate: tc.rate,
			TestingKnobs: NTPTestingKnobs{Elapsed: f.elapsed}})
		iv0 := c.Now()
		for i := 1; i <= 3; i++ {
			f.advance(tc.step)
			iv := c.Now()
			g := Timestamp(tc.grow) * Timestamp(i)
			want := Interval{iv0.Earliest + Timestamp(tc.step)*Timestamp(i) - g, iv0.Latest + Timestamp(tc.step)*Timestamp(i) + g}
			if iv != want {
				t.Fatalf("rate %s, after %d×%s: Now() = %v, want %v", tc.rate, i, tc.step, iv, want)
			}
			if s := c.Status(); s.SinceSync != tc.step*time.Duration(i) || s.Epsilon != iv.Epsilon() {
				t.Fatalf("Status() = %+v", s)
			}
		}
		// A new sync round narrows it again.
		if err := c.Sync(context.Background()); err != nil {
			t.Fatal(err)
		}
		if s := c.Status(); s.SinceSync != 0 || s.Epsilon != iv0.Epsilon() {
			t.Fatalf("after resync: Status() = %+v, want epsilon %s", s, iv0.Epsilon())
		}
	}
}

func TestNTPUnsafeWhenEpsilonTooLarge(t *testing.T) {
	srv := startNTP(t, ntptest.Options{RootDispersion: 600 * time.Millisecond})
	c := newNTP(t, NTPOptions{Servers: []string{srv.Addr()}})
	checkContains(t, c, reference(0))
	s := c.Status()
	if !strings.HasPrefix(s.Unsafe, "epsilon 600.") || !strings.HasSuffix(s.Unsafe, "exceeds maximum 500ms") {
		t.Errorf("Unsafe = %q, want epsilon 600.… exceeds maximum 500ms", s.Unsafe)
	}

	// ε growing between syncs trips it too.
	srv.Set(ntptest.Options{})
	f := &fakeElapsed{}
	c = newNTP(t, NTPOptions{Servers: []string{srv.Addr()}, MaxEpsilon: 5 * time.Millisecond,
		TestingKnobs: NTPTestingKnobs{Elapsed: f.elapsed}})
	if s := c.Status(); s.Unsafe != "" {
		t.Fatalf("Unsafe = %q right after sync", s.Unsafe)
	}
	f.advance(30 * time.Second) // +6ms
	if s := c.Status(); !strings.Contains(s.Unsafe, "exceeds maximum 5ms") {
		t.Fatalf("Unsafe = %q after 30s without sync", s.Unsafe)
	}
}

func TestNTPDropsLiar(t *testing.T) {
	honest1 := startNTP(t, ntptest.Options{})
	liar := startNTP(t, ntptest.Options{Offset: time.Second})
	honest2 := startNTP(t, ntptest.Options{ReturnDelay: time.Millisecond})
	c := newNTP(t, NTPOptions{Servers: []string{honest1.Addr(), liar.Addr(), honest2.Addr()}})
	iv := checkContains(t, c, reference(0))
	if iv.Epsilon() > 400*time.Millisecond { // with the liar, the hull would be ≥ 1s wide
		t.Errorf("epsilon %s: the liar widened the interval", iv.Epsilon())
	}
	s := c.Status()
	if s.Unsafe != "" {
		t.Errorf("Unsafe = %q", s.Unsafe)
	}
	for i, want := range []bool{false, true, false} {
		if got := s.Servers[i]; got.Liar != want || got.Error != "" {
			t.Errorf("server %d (%s): %+v, want Liar %v", i, got.Address, got, want)
		}
	}
	if off := s.Servers[1].Offset; (off - time.Second).Abs() > 400*time.Millisecond {
		t.Errorf("liar's offset %s, want ~1s", off)
	}
}

func TestNTPNoMajority(t *testing.T) {
	a := startNTP(t, ntptest.Options{})
	b := startNTP(t, ntptest.Options{Offset: time.Second})
	c := newNTP(t, NTPOptions{Servers: []string{a.Addr(), b.Addr()}})
	// Either could be right: the interval covers both.
	checkContains(t, c, reference(0))
	checkContains(t, c, reference(time.Second))
	s := c.Status()
	if !strings.Contains(s.Unsafe, "no majority of NTP servers agree: the largest agreeing group has 1 of 2") {
		t.Errorf("Unsafe = %q", s.Unsafe)
	}
	if s.Servers[0].Liar || s.Servers[1].Liar {
		t.Errorf("servers marked as liars without a majority: %+v", s.Servers)
	}
}

func TestNTPIgnoresInvalidSamples(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts ntptest.Options
		err  error
		msg  string
	}{
		{"kiss of death", ntptest.Options{KissCode: "RATE"}, ntp.ErrKissOfDeath, "kiss code RATE"},
		{"unsynchronized", ntptest.Options{Leap: 3}, ntp.ErrInvalidLeapSecond, "leap 3"},
		{"stratum 16", ntptest.Options{Stratum: 16}, ntp.ErrInvalidStratum, "stratum 16"},
		{"dispersion", ntptest.Options{RootDispersion: 17 * time.Second}, ntp.ErrInvalidDispersion, "invalid sample"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			opts := tc.opts
			opts.Offset = 5 * time.Second
			bad := startNTP(t, opts)
			_, err := NewNTP(NTPOptions{Servers: []string{bad.Addr()}})
			if !errors.Is(err, tc.err) || !strings.Contains(err.Error(), bad.Addr()) || !strings.Contains(err.Error(), tc.msg) {
				t.Fatalf("NewNTP = %v, want %v naming %s and %q", err, tc.err, bad.Addr(), tc.msg)
			}
			// Next to a valid server, the invalid one is ignored: its +5s
			// neither moves the interval nor breaks the majority.
			good := startNTP(t, ntptest.Options{})
			c := newNTP(t, NTPOptions{Servers: []string{good.Addr(), bad.Addr()}})
			checkContains(t, c, reference(0))
			s := c.Status()
			if s.Unsafe != "" || s.Servers[1].Error == "" || s.Servers[1].Liar || s.Servers[1].Stratum != 0 {
				t.Errorf("Status() = %+v", s)
			}
		})
	}
}

func TestNTPUnreachable(t *testing.T) {
	// Nothing listens on port 1: the ICMP port-unreachable comes back at once.
	_, err := NewNTP(NTPOptions{Servers: []string{"127.0.0.1:1"}})
	var se *ServerError
	if !errors.As(err, &se) || se.Addr != "127.0.0.1:1" || !strings.Contains(err.Error(), "ntp server 127.0.0.1:1: ") {
		t.Fatalf("NewNTP(127.0.0.1:1) = %v, want a *ServerError naming it", err)
	}
	if strings.Contains(err.Error(), "\n") {
		t.Errorf("error is not one line: %q", err)
	}

	silent := startNTP(t, ntptest.Options{Silent: true})
	_, err = NewNTP(NTPOptions{Servers: []string{silent.Addr(), "127.0.0.1:1"}, Timeout: 100 * time.Millisecond})
	var ne net.Error
	if !errors.As(err, &ne) || !ne.Timeout() || !strings.Contains(err.Error(), silent.Addr()) ||
		!strings.Contains(err.Error(), "127.0.0.1:1") || strings.Contains(err.Error(), "\n") {
		t.Fatalf("NewNTP(silent, refused) = %q, want a one-line timeout naming both", err)
	}

	// One unreachable server among reachable ones is reported, not fatal.
	good := startNTP(t, ntptest.Options{})
	c := newNTP(t, NTPOptions{Servers: []string{good.Addr(), "127.0.0.1:1"}})
	checkContains(t, c, reference(0))
	if s := c.Status(); !strings.Contains(s.Servers[1].Error, "connection refused") || s.Servers[0].Error != "" {
		t.Errorf("Servers = %+v", s.Servers)
	}
}

func TestNTPBadAddress(t *testing.T) {
	for _, addr := range []string{"nohost", "127.0.0.1:99999", "127.0.0.1:0", "127.0.0.1:ntp", ":123", ""} {
		_, err := NewNTP(NTPOptions{Servers: []string{addr}})
		if err == nil || !strings.Contains(err.Error(), fmt.Sprintf("%q", addr)) || strings.Contains(err.Error(), "\n") {
			t.Errorf("NewNTP(%q) = %v, want a one-line error naming it", addr, err)
		}
	}
	if _, err := NewNTP(NTPOptions{}); err == nil {
		t.Error("NewNTP with no servers succeeded")
	}
}

func TestNTPSyncHonoursContext(t *testing.T) {
	srv := startNTP(t, ntptest.Options{})
	c := newNTP(t, NTPOptions{Servers: []string{srv.Addr()}, Timeout: time.Minute})
	iv0 := c.Now()
	srv.Set(ntptest.Options{Silent: true})
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	err := c.Sync(ctx)
	if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), srv.Addr()) {
		t.Fatalf("Sync = %v, want context.DeadlineExceeded naming %s", err, srv.Addr())
	}
	// The previous estimate stays in force, widening.
	if iv := checkContains(t, c, reference(0)); iv.Epsilon() < iv0.Epsilon() {
		t.Errorf("epsilon shrank without a sync: %s -> %s", iv0.Epsilon(), iv.Epsilon())
	}
	if s := c.Status(); s.Servers[0].Error == "" || s.Servers[0].RootDistance == 0 {
		t.Errorf("server status after failed round: %+v", s.Servers[0])
	}
}

func TestNTPCommitWait(t *testing.T) {
	srv := startNTP(t, ntptest.Options{ReturnDelay: time.Millisecond})
	c := newNTP(t, NTPOptions{Servers: []string{srv.Addr()}})
	s := c.Now().Latest
	if err := c.WaitUntilAfter(context.Background(), s); err != nil {
		t.Fatal(err)
	}
	if !c.After(s) {
		t.Errorf("WaitUntilAfter returned before After(%v)", s)
	}
	if now := Timestamp(time.Now().UnixNano()); now <= s {
		t.Errorf("commit wait for %v ended at true time %v", s, now)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if err := c.WaitUntilAfter(ctx, s+Timestamp(time.Hour)); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("WaitUntilAfter(+1h) = %v, want context.DeadlineExceeded", err)
	}
}

func TestNTPStartPollsUntilClose(t *testing.T) {
	srv := startNTP(t, ntptest.Options{})
	c := newNTP(t, NTPOptions{Servers: []string{srv.Addr()}, PollInterval: 5 * time.Millisecond})
	c.Start()
	c.Start() // no-op
	deadline := time.NewTimer(30 * time.Second)
	defer deadline.Stop()
	for range 3 {
		select {
		case <-c.changed.wait():
		case <-deadline.C:
			t.Fatalf("no sync rounds after 30s; server saw %d requests", srv.Requests())
		}
	}
	c.Close()
	c.Close()
	if n := srv.Requests(); n < 4 {
		t.Errorf("server saw %d requests, want ≥ 4", n)
	}
	// Start after Close does nothing, and the clock stays usable; goleak
	// checks that the poller exited.
	c.Start()
	c.Close()
	checkContains(t, c, reference(0))
	if err := c.Sync(context.Background()); err != nil {
		t.Fatal(err)
	}
}
