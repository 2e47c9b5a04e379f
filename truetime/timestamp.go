package truetime

import (
	"fmt"
	"strconv"
	"time"
)

// Timestamp is a point in time: nanoseconds since the Unix epoch (UTC).
type Timestamp int64

// GoTime returns t as a time.Time in UTC, without a monotonic reading.
func (t Timestamp) GoTime() time.Time { return time.Unix(0, int64(t)).UTC() }

// String formats t as RFC 3339 with nanoseconds in UTC, followed by "@" and the
// raw nanosecond count, e.g. "2026-05-01T12:00:00.000000123Z@1777636800000000123".
func (t Timestamp) String() string {
	return t.GoTime().Format(time.RFC3339Nano) + "@" + strconv.FormatInt(int64(t), 10)
}

// Interval is a closed interval [Earliest, Latest] of time. A clock's Now
// returns an Interval that contains true time, if the clock is honest.
type Interval struct {
	Earliest, Latest Timestamp
}

// Epsilon is half the width of the interval, rounded up so that
// [mid−ε, mid+ε] never understates the interval.
func (i Interval) Epsilon() time.Duration {
	return time.Duration(i.Latest-i.Earliest+1) / 2
}

// Contains reports whether Earliest ≤ t ≤ Latest.
func (i Interval) Contains(t Timestamp) bool { return i.Earliest <= t && t <= i.Latest }

// mid is the centre of the interval, rounded down.
func (i Interval) mid() Timestamp { return i.Earliest + (i.Latest-i.Earliest)/2 }

// String formats the interval as "[earliest, latest] ±ε".
func (i Interval) String() string {
	return fmt.Sprintf("[%s, %s] ±%s", i.Earliest, i.Latest, i.Epsilon())
}

// processStart is read once when the package is initialised. Its wall reading
// anchors the process-wide true time of simulated clocks and the local
// monotonic clock of the NTP source; its monotonic reading anchors Mono.
var processStart = time.Now()

// processStartNS is processStart's wall reading in nanoseconds since the epoch.
var processStartNS = processStart.UnixNano()

// Mono returns the monotonic time elapsed since the process started (more
// precisely, since this package was initialised). It never goes backwards and
// is unaffected by steps of the system clock, so packages that must not call
// time.Now use it to measure durations (latency ledgers, timeouts).
func Mono() time.Duration { return time.Since(processStart) }

// TrueNow is the process-wide "true time" of simulated clocks: the wall clock
// read once at process start plus Mono. Every SimClock in the process (that
// does not replace it through its testing knobs) measures its offset against
// this, so checkers can compare any node's reading with one true time.
func TrueNow() Timestamp { return monoWall(Mono()) }

// monoWall converts a monotonic elapsed time into a timestamp on the
// process's monotonic wall clock: the wall clock at process start plus m.
func monoWall(m time.Duration) Timestamp { return Timestamp(processStartNS + int64(m)) }

// driftGrowth returns the uncertainty a clock gains over elapsed when it may
// drift by rate per second, rounded up. It is computed in integers so that
// whole seconds give exact results. A negative elapsed gains nothing.
func driftGrowth(elapsed, rate time.Duration) time.Duration {
	if elapsed <= 0 || rate <= 0 {
		return 0
	}
	whole := elapsed / time.Second * rate
	frac := (elapsed%time.Second*rate + time.Second - 1) / time.Second
	return whole + frac
}
