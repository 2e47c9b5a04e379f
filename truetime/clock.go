package truetime

import (
	"context"
	"encoding/json"
	"sync"
	"time"
)

// Clock is a TrueTime source. All methods are safe for concurrent use.
type Clock interface {
	// Now returns an interval that contains true time, if the source is
	// honest. It is cheap enough to call on every transaction.
	Now() Interval
	// After reports whether t has definitely passed: t < Now().Earliest.
	After(t Timestamp) bool
	// Before reports whether t has definitely not arrived: t > Now().Latest.
	Before(t Timestamp) bool
	// WaitUntilAfter blocks until After(t) holds (commit wait) and returns
	// nil, or until ctx ends and returns ctx.Err(). If After(t) already
	// holds it returns nil at once, whatever the state of ctx.
	WaitUntilAfter(ctx context.Context, t Timestamp) error
	// Status describes the source, its current interval and its health.
	Status() Status
}

// Source names reported in Status.Source.
const (
	SourceNTP       = "ntp"
	SourceLocal     = "local"
	SourceSimulated = "simulated"
	SourceManual    = "manual"
)

// Status describes a clock for operators (SHOW CLOCK, /debug/clock,
// `meridian debug clock`). It marshals to flat JSON with nanosecond integers;
// see MarshalJSON.
type Status struct {
	// Source is one of SourceNTP, SourceLocal, SourceSimulated, SourceManual.
	Source string
	// Now is the clock's interval when the status was taken.
	Now Interval
	// Epsilon is Now.Epsilon().
	Epsilon time.Duration
	// Offset is the reference clock minus the system clock (ntp; positive
	// means the system clock is behind), or the simulated clock's reading
	// minus true time (simulated). Zero for local and manual clocks.
	Offset time.Duration
	// SinceSync is the time since the last successful sync round (ntp);
	// zero for the other sources.
	SinceSync time.Duration
	// Unsafe is empty while the clock is healthy; otherwise it says why not,
	// e.g. "epsilon 612ms exceeds maximum 500ms". The interval is still
	// correct (only wide or weakly supported); callers stop taking new
	// leases while Unsafe is set.
	Unsafe string
	// Servers describes each configured NTP server, in configuration order
	// (ntp only).
	Servers []ServerStatus
}

// ServerStatus describes one NTP server as of the latest sync round.
type ServerStatus struct {
	// Address is the server as configured, HOST:PORT.
	Address string
	// Offset is the server's clock minus the local clock, RTT the round
	// trip, RootDistance the error bound and Stratum the stratum, all from
	// the server's latest valid sample. Zero if it never gave one.
	Offset       time.Duration
	RTT          time.Duration
	RootDistance time.Duration
	Stratum      uint8
	// SinceSample is the time since the latest valid sample was taken; zero
	// if there was none.
	SinceSample time.Duration
	// Error is why the latest query failed or its sample was rejected; empty
	// if the latest query gave a valid sample. A server whose latest query
	// failed still contributes its previous sample, whose bound keeps
	// growing at the drift rate.
	Error string
	// Liar reports that the server's interval was disjoint from the one a
	// majority agreed on in the latest combination, so it was dropped.
	Liar bool
}

// statusJSON is the JSON form of Status: flat, snake_case, durations and
// timestamps as integer nanoseconds (plus readable copies of the bounds).
type statusJSON struct {
	Source      string             `json:"source"`
	EarliestNS  int64              `json:"earliest_ns"`
	LatestNS    int64              `json:"latest_ns"`
	Earliest    string             `json:"earliest"`
	Latest      string             `json:"latest"`
	EpsilonNS   int64              `json:"epsilon_ns"`
	OffsetNS    int64              `json:"offset_ns"`
	SinceSyncNS int64              `json:"since_sync_ns"`
	Unsafe      string             `json:"unsafe"`
	Servers     []serverStatusJSON `json:"servers"`
}

type serverStatusJSON struct {
	Address        string `json:"address"`
	OffsetNS       int64  `json:"offset_ns"`
	RTTNS          int64  `json:"rtt_ns"`
	RootDistanceNS int64  `json:"root_distance_ns"`
	Stratum        uint8  `json:"stratum"`
	SinceSampleNS  int64  `json:"since_sample_ns"`
	Error          string `json:"error"`
	Liar           bool   `json:"liar"`
}

const rfc3339NanoUTC = "2006-01-02T15:04:05.000000000Z07:00"

// MarshalJSON encodes s as a flat object: source, earliest_ns, latest_ns,
// earliest, latest (RFC 3339), epsilon_ns, offset_ns, since_sync_ns, unsafe
// and servers (always an array; each with address, offset_ns, rtt_ns,
// root_distance_ns, stratum, since_sample_ns, error, liar).
func (s Status) MarshalJSON() ([]byte, error) {
	j := statusJSON{
		Source:      s.Source,
		EarliestNS:  int64(s.Now.Earliest),
		LatestNS:    int64(s.Now.Latest),
		Earliest:    s.Now.Earliest.GoTime().Format(rfc3339NanoUTC),
		Latest:      s.Now.Latest.GoTime().Format(rfc3339NanoUTC),
		EpsilonNS:   int64(s.Epsilon),
		OffsetNS:    int64(s.Offset),
		SinceSyncNS: int64(s.SinceSync),
		Unsafe:      s.Unsafe,
		Servers:     make([]serverStatusJSON, 0, len(s.Servers)),
	}
	for _, v := range s.Servers {
		j.Servers = append(j.Servers, serverStatusJSON{
			Address:        v.Address,
			OffsetNS:       int64(v.Offset),
			RTTNS:          int64(v.RTT),
			RootDistanceNS: int64(v.RootDistance),
			Stratum:        v.Stratum,
			SinceSampleNS:  int64(v.SinceSample),
			Error:          v.Error,
			Liar:           v.Liar,
		})
	}
	return json.Marshal(j)
}

// UnmarshalJSON decodes the form MarshalJSON writes.
func (s *Status) UnmarshalJSON(b []byte) error {
	var j statusJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	*s = Status{
		Source:    j.Source,
		Now:       Interval{Earliest: Timestamp(j.EarliestNS), Latest: Timestamp(j.LatestNS)},
		Epsilon:   time.Duration(j.EpsilonNS),
		Offset:    time.Duration(j.OffsetNS),
		SinceSync: time.Duration(j.SinceSyncNS),
		Unsafe:    j.Unsafe,
	}
	for _, v := range j.Servers {
		s.Servers = append(s.Servers, ServerStatus{
			Address:      v.Address,
			Offset:       time.Duration(v.OffsetNS),
			RTT:          time.Duration(v.RTTNS),
			RootDistance: time.Duration(v.RootDistanceNS),
			Stratum:      v.Stratum,
			SinceSample:  time.Duration(v.SinceSampleNS),
			Error:        v.Error,
			Liar:         v.Liar,
		})
	}
	return nil
}

// The helpers below implement After, Before and WaitUntilAfter once for all
// sources; each source's methods are one-line calls into them.

func after(now Interval, t Timestamp) bool  { return t < now.Earliest }
func before(now Interval, t Timestamp) bool { return t > now.Latest }

// waitUntilAfter implements Clock.WaitUntilAfter. It reads the interval; if t
// has not passed, it sleeps until Earliest should have passed t (when the
// clock follows real time) or until changed fires (when the clock was moved:
// advanced by hand, resynchronised, re-offset), then reads again. The re-read
// absorbs drift and moves, so it converges in a few rounds and never spins.
func waitUntilAfter(ctx context.Context, t Timestamp, now func() Interval, changed *notifier, followsRealTime bool) error {
	var timer *time.Timer
	defer func() {
		if timer != nil {
			timer.Stop()
		}
	}()
	for {
		// Take the change channel before reading the clock so that a move
		// between the read and the select is not missed.
		var moved <-chan struct{}
		if changed != nil {
			moved = changed.wait()
		}
		iv := now()
		if after(iv, t) {
			return nil
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		var fire <-chan time.Time
		if followsRealTime {
			d := time.Duration(t-iv.Earliest) + 1
			if timer == nil {
				timer = time.NewTimer(d)
			} else {
				timer.Reset(d)
			}
			fire = timer.C
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-fire:
		case <-moved:
		}
	}
}

// notifier wakes every goroutine waiting on it when notify is called: wait
// returns a channel that notify closes. The zero value is ready to use.
type notifier struct {
	mu sync.Mutex
	ch chan struct{}
}

func (n *notifier) wait() <-chan struct{} {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.ch == nil {
		n.ch = make(chan struct{})
	}
	return n.ch
}

func (n *notifier) notify() {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.ch != nil {
		close(n.ch)
		n.ch = nil
	}
}
