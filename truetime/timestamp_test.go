package truetime

import (
	"encoding/json"
	"testing"
	"time"
)

func TestTimestampString(t *testing.T) {
	ts := Timestamp(time.Date(2026, 5, 1, 12, 0, 0, 123, time.UTC).UnixNano())
	if got, want := ts.String(), "2026-05-01T12:00:00.000000123Z@1777636800000000123"; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
	if got := ts.GoTime(); !got.Equal(time.Date(2026, 5, 1, 12, 0, 0, 123, time.UTC)) || got.Location() != time.UTC {
		t.Errorf("GoTime() = %v", got)
	}
}

func TestInterval(t *testing.T) {
	for _, tc := range []struct {
		iv  Interval
		eps time.Duration
	}{
		{Interval{10, 10}, 0},
		{Interval{10, 11}, 1}, // rounded up: never understates
		{Interval{10, 12}, 1},
		{Interval{10, 13}, 2},
		{Interval{-5, 5}, 5},
	} {
		if got := tc.iv.Epsilon(); got != tc.eps {
			t.Errorf("%v.Epsilon() = %d, want %d", tc.iv, got, tc.eps)
		}
	}
	iv := Interval{10, 20}
	for ts, want := range map[Timestamp]bool{9: false, 10: true, 15: true, 20: true, 21: false} {
		if got := iv.Contains(ts); got != want {
			t.Errorf("Contains(%d) = %v, want %v", ts, got, want)
		}
	}
}

func TestDriftGrowth(t *testing.T) {
	for _, tc := range []struct {
		el, rate, want time.Duration
	}{
		{10 * time.Second, 200 * time.Microsecond, 2 * time.Millisecond},
		{1500 * time.Millisecond, 200 * time.Microsecond, 300 * time.Microsecond},
		{time.Nanosecond, 200 * time.Microsecond, 1}, // rounded up
		{0, 200 * time.Microsecond, 0},
		{-time.Second, 200 * time.Microsecond, 0},
		{10 * 365 * 24 * time.Hour, time.Second, 10 * 365 * 24 * time.Hour}, // no overflow
	} {
		if got := driftGrowth(tc.el, tc.rate); got != tc.want {
			t.Errorf("driftGrowth(%s, %s) = %s, want %s", tc.el, tc.rate, got, tc.want)
		}
	}
}

func TestMonoNeverGoesBackwards(t *testing.T) {
	prev := Mono()
	for range 10000 {
		m := Mono()
		if m < prev {
			t.Fatalf("Mono went backwards: %s after %s", m, prev)
		}
		prev = m
	}
	// TrueNow is the process-start wall clock plus Mono: close to the wall
	// clock unless the system clock was stepped while the test ran.
	if d := time.Duration(TrueNow() - Timestamp(time.Now().UnixNano())).Abs(); d > time.Minute {
		t.Errorf("TrueNow is %s away from the wall clock", d)
	}
}

func TestStatusJSON(t *testing.T) {
	s := Status{
		Source:    SourceNTP,
		Now:       Interval{Earliest: 1777636800000000000, Latest: 1777636800002000000},
		Epsilon:   time.Millisecond,
		Offset:    -3 * time.Microsecond,
		SinceSync: 4 * time.Second,
		Unsafe:    "epsilon 612ms exceeds maximum 500ms",
		Servers: []ServerStatus{{Address: "127.0.0.1:123", Offset: 5, RTT: 6, RootDistance: 7,
			Stratum: 2, SinceSample: 8, Error: "boom", Liar: true}},
	}
	b, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	for k, want := range map[string]any{
		"source": "ntp", "earliest_ns": 1777636800000000000.0, "latest_ns": 1777636800002000000.0,
		"earliest": "2026-05-01T12:00:00.000000000Z", "epsilon_ns": 1e6, "offset_ns": -3e3,
		"since_sync_ns": 4e9, "unsafe": "epsilon 612ms exceeds maximum 500ms",
	} {
		if m[k] != want {
			t.Errorf("JSON %s = %v, want %v (in %s)", k, m[k], want, b)
		}
	}
	var back Status
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if back.Now != s.Now || back.Epsilon != s.Epsilon || back.Offset != s.Offset || back.SinceSync != s.SinceSync ||
		back.Unsafe != s.Unsafe || back.Source != s.Source || len(back.Servers) != 1 || back.Servers[0] != s.Servers[0] {
		t.Errorf("round trip: got %+v, want %+v", back, s)
	}
	// Sources without servers still print an array.
	b, _ = json.Marshal(Status{Source: SourceLocal})
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	if _, ok := m["servers"].([]any); !ok {
		t.Errorf("servers = %v, want an empty array (in %s)", m["servers"], b)
	}
}
