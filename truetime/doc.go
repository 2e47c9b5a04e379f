// Package truetime owns time for Meridian: the Timestamp and Interval types,
// the Clock interface that every layer reads time through, and its sources.
// Nothing outside this package (and cmd) calls time.Now for anything that
// affects correctness; code that only measures durations uses Mono.
//
// # Sources
//
//   - NTPClock (NewNTP): bounded by one or more NTP servers, queried with
//     github.com/beevik/ntp. A sample's error bound is its root distance,
//     (RTT + RootDelay)/2 + RootDispersion; samples failing Validate are
//     ignored. Each sample is anchored to the local monotonic clock and its
//     bound grows by NTPOptions.DriftRate (default 200µs/s) times the
//     monotonic time since. Several servers are combined Marzullo-style:
//     the largest group of mutually overlapping intervals wins, and servers
//     outside it are liars, dropped and reported in Status.
//   - LocalClock (NewLocal): the system clock ± a configured bound, for one
//     machine whose nodes all read the same clock (the embedded demo).
//   - SimClock (NewSimulated): a node clock with an offset, a drift and a
//     claimed ε, measured against the process-wide TrueNow; it may lie.
//   - ManualClock (NewManual): moved by hand, for tests.
//
// # Invariants
//
//   - An honest source's Now() contains true time. NTPClock is honest when a
//     majority of its servers (with usable samples) are, and the local
//     monotonic clock drifts by less than DriftRate; LocalClock when the
//     configured ε bounds the system clock's error; SimClock when its claimed
//     ε is at least |offset| (Lying reports otherwise); ManualClock always,
//     by definition.
//   - After(t) ⇔ t < Now().Earliest and Before(t) ⇔ t > Now().Latest, for
//     every source; WaitUntilAfter(t) returns nil only once After(t) held.
//     So a commit timestamp s > Now().Latest followed by WaitUntilAfter(s)
//     is in the past, in true time, when the wait ends.
//   - Between sync rounds an NTPClock's ε never shrinks: it grows at exactly
//     DriftRate. Only a successful sync round, on new evidence, narrows it.
//     Now is never narrower than the evidence supports: a combination with
//     no majority yields the hull of all the servers' intervals.
//   - Status().Unsafe is empty while the source is healthy and otherwise
//     says why not (no majority of NTP servers agree; ε exceeds its
//     maximum). The interval stays correct, only wide or weakly supported;
//     callers stop taking new leases while Unsafe is set, and nothing
//     crashes.
//
// # Goroutines
//
// NTPClock owns one goroutine, the poller, started by Start and stopped and
// joined by Close; Sync (called by the poller or by anyone) also runs one
// short-lived query goroutine per server and joins them before returning. No
// other source starts goroutines. Every method of every source may be called
// from any goroutine concurrently. Within NTPClock, Now reads an atomically
// published estimate without locks; the lock order is syncMu (one sync
// round at a time) before mu (server state).
package truetime
