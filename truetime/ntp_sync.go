package truetime

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/beevik/ntp"
)

// ServerError is the failure of one query to one NTP server: unreachable,
// timed out, or an answer that failed validation.
type ServerError struct {
	Addr string
	Err  error
}

func (e *ServerError) Error() string { return fmt.Sprintf("ntp server %s: %v", e.Addr, e.Err) }
func (e *ServerError) Unwrap() error { return e.Err }

// SyncError is returned when no server gave a valid sample in a sync round.
// Errors holds one *ServerError per server. Its message is one line.
type SyncError struct {
	Errors []error
}

func (e *SyncError) Error() string {
	msgs := make([]string, len(e.Errors))
	for i, err := range e.Errors {
		msgs[i] = err.Error()
	}
	return "truetime: no NTP server gave a valid sample: " + strings.Join(msgs, "; ")
}

func (e *SyncError) Unwrap() []error { return e.Errors }

// sample is one valid answer from one server.
type sample struct {
	// bounds is the server's interval for true time, anchored at the local
	// monotonic time the answer arrived.
	bounds
	offset       time.Duration // server clock − local clock
	rtt          time.Duration
	rootDistance time.Duration
	stratum      uint8
}

// Sync runs one sync round now: it queries every server in parallel, keeps
// the valid samples, and publishes a new estimate combining each server's
// latest valid sample (a server that failed this round contributes its
// previous one, widened by drift). It returns a *SyncError if no server gave
// a valid sample this round; the previous estimate then stays in force, still
// widening. ctx bounds the round. Rounds are serialised.
func (c *NTPClock) Sync(ctx context.Context) error {
	c.syncMu.Lock()
	defer c.syncMu.Unlock()

	samples := make([]*sample, len(c.opts.Servers))
	errs := make([]error, len(c.opts.Servers))
	var wg sync.WaitGroup
	for i, addr := range c.opts.Servers {
		wg.Go(func() { samples[i], errs[i] = c.query(ctx, addr) })
	}
	wg.Wait()

	ok := false
	for _, s := range samples {
		ok = ok || s != nil
	}

	c.mu.Lock()
	defer c.mu.Unlock()
	for i := range c.mu.servers {
		st := &c.mu.servers[i]
		st.err = errs[i]
		if samples[i] != nil {
			st.sample = samples[i]
		}
	}
	if !ok {
		return &SyncError{Errors: errs}
	}
	c.publishLocked()
	return nil
}

// publishLocked combines the servers' latest samples at the current
// monotonic time, marks liars and publishes the estimate. c.mu must be held.
func (c *NTPClock) publishLocked() {
	m := c.elapsed()
	var ivs []Interval
	var idx []int // idx[j] is the server whose interval is ivs[j]
	for i, st := range c.mu.servers {
		c.mu.servers[i].liar = false
		if st.sample != nil {
			ivs = append(ivs, st.sample.at(m, c.opts.DriftRate))
			idx = append(idx, i)
		}
	}
	a := combine(ivs)
	for j, liar := range a.Liars {
		c.mu.servers[idx[j]].liar = liar
	}
	c.est.Store(&estimate{
		bounds:     bounds{anchor: m, earliest: a.Interval.Earliest, latest: a.Interval.Latest},
		noMajority: a.NoMajority,
	})
	c.changed.notify()
}

// localNow is the local clock the NTP exchange measures: the wall clock at
// process start plus the monotonic elapsed time.
func (c *NTPClock) localNow() time.Time { return monoWall(c.elapsed()).GoTime() }

// query asks one server for a sample. The returned error, if any, is a
// *ServerError.
func (c *NTPClock) query(ctx context.Context, addr string) (*sample, error) {
	fail := func(err error) (*sample, error) {
		ctxErr := ctx.Err()
		if dl, ok := ctx.Deadline(); ok && ctxErr == nil && !time.Now().Before(dl) {
			// The query's own timeout, capped at the deadline, fired first.
			ctxErr = context.DeadlineExceeded
		}
		if ctxErr != nil && !errors.Is(err, ctxErr) {
			err = fmt.Errorf("%w (%v)", ctxErr, err)
		}
		return nil, &ServerError{Addr: addr, Err: err}
	}
	if err := ctx.Err(); err != nil {
		return fail(err)
	}
	timeout := c.opts.Timeout
	if dl, ok := ctx.Deadline(); ok {
		timeout = max(min(timeout, time.Until(dl)), time.Millisecond)
	}
	resp, err := ntp.QueryWithOptions(addr, ntp.QueryOptions{
		Timeout: timeout,
		// Our own clock for t1 and t4: the monotonic local clock. This also
		// turns off kernel receive timestamps, which are on the system wall
		// clock; reading the clock after the receive only widens the RTT.
		GetSystemTime: c.localNow,
		Dialer: func(_, remote string) (net.Conn, error) {
			var d net.Dialer
			conn, err := d.DialContext(ctx, "udp", remote)
			if err != nil {
				return nil, err
			}
			// Cancelling ctx unblocks the read by expiring the deadline.
			stop := context.AfterFunc(ctx, func() { _ = conn.SetDeadline(time.Unix(1, 0)) })
			return &ctxConn{Conn: conn, stop: stop}, nil
		},
	})
	if err != nil {
		return fail(err)
	}
	if err := resp.Validate(); err != nil {
		if resp.KissCode != "" {
			err = fmt.Errorf("%w (kiss code %s)", err, resp.KissCode)
		}
		return fail(fmt.Errorf("invalid sample (stratum %d, leap %d): %w", resp.Stratum, resp.Leap, err))
	}
	// The exchange ran between local readings t1 and t4. The server's time
	// at t4 is t4 + offset, within the root distance: half the RTT covers
	// the unknown asymmetry of the paths, RootDelay/2 + RootDispersion the
	// server's own error. The local clock measured the RTT and may have
	// drifted while doing so: add the drift bound over t4 − t1.
	wall := monoWall(0)
	m1 := time.Duration(Timestamp(resp.Timestamps.ClientXmit.UnixNano()) - wall)
	m4 := time.Duration(Timestamp(resp.Timestamps.ClientRecv.UnixNano()) - wall)
	centre := Timestamp(resp.Timestamps.ClientRecv.UnixNano()) + Timestamp(resp.ClockOffset)
	lambda := Timestamp(resp.RootDistance + driftGrowth(m4-m1, c.opts.DriftRate))
	return &sample{
		bounds:       bounds{anchor: m4, earliest: centre - lambda, latest: centre + lambda},
		offset:       resp.ClockOffset,
		rtt:          resp.RTT,
		rootDistance: resp.RootDistance,
		stratum:      resp.Stratum,
	}, nil
}

// ctxConn stops the context watcher of a query's connection when it closes.
type ctxConn struct {
	net.Conn
	stop func() bool
}

func (c *ctxConn) Close() error {
	c.stop()
	return c.Conn.Close()
}
