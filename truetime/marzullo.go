package truetime

import (
	"cmp"
	"fmt"
	"slices"
)

// agreement is the result of combining several sources' intervals.
type agreement struct {
	// Interval is where true time lies: the agreed interval when a majority
	// agrees, otherwise the hull of all the intervals.
	Interval Interval
	// Agreeing is the size of the largest group of mutually overlapping
	// intervals.
	Agreeing int
	// Liars[i] reports that interval i was dropped: it is disjoint from
	// every point a majority agrees on. All false when there is no majority.
	Liars []bool
	// NoMajority is empty when more than half of the intervals agree, and
	// otherwise says so.
	NoMajority string
}

// combine intersects intervals Marzullo-style. The largest group of mutually
// overlapping closed intervals is found by sweeping over their endpoints; the
// points covered by that many intervals form one or more "best regions", and
// each is exactly the intersection of the group covering it.
//
// If the largest group is a strict majority, true time lies in a best region
// whenever a majority of the sources is honest (their intervals all contain
// true time, so they overlap there), and the result is the hull of the best
// regions — usually one region. Intervals disjoint from every best region
// cannot contain true time under that assumption: they are liars.
//
// Otherwise nothing can be concluded about who lies; the result is the hull of
// all the intervals, which contains true time if any source is honest, and
// NoMajority is set.
//
// combine panics if ivs is empty.
func combine(ivs []Interval) agreement {
	if len(ivs) == 0 {
		panic("truetime: combine of no intervals")
	}
	type edge struct {
		at    Timestamp
		delta int // +1 opens an interval, −1 closes one
	}
	edges := make([]edge, 0, 2*len(ivs))
	for _, iv := range ivs {
		edges = append(edges, edge{iv.Earliest, +1}, edge{iv.Latest, -1})
	}
	// At equal positions, opens sort before closes, so intervals that only
	// touch still overlap (they are closed).
	slices.SortFunc(edges, func(a, b edge) int {
		if c := cmp.Compare(a.at, b.at); c != 0 {
			return c
		}
		return cmp.Compare(b.delta, a.delta)
	})
	best, n := 0, 0
	for _, e := range edges {
		n += e.delta
		best = max(best, n)
	}
	var regions []Interval
	n = 0
	var start Timestamp
	for _, e := range edges {
		if e.delta < 0 && n == best {
			regions = append(regions, Interval{Earliest: start, Latest: e.at})
		}
		n += e.delta
		if e.delta > 0 && n == best {
			start = e.at
		}
	}

	a := agreement{Agreeing: best, Liars: make([]bool, len(ivs))}
	if 2*best <= len(ivs) {
		a.Interval = ivs[0]
		for _, iv := range ivs[1:] {
			a.Interval.Earliest = min(a.Interval.Earliest, iv.Earliest)
			a.Interval.Latest = max(a.Interval.Latest, iv.Latest)
		}
		a.NoMajority = fmt.Sprintf("no majority of NTP servers agree: the largest agreeing group has %d of %d",
			best, len(ivs))
		return a
	}
	a.Interval = Interval{Earliest: regions[0].Earliest, Latest: regions[len(regions)-1].Latest}
	for i, iv := range ivs {
		a.Liars[i] = !slices.ContainsFunc(regions, func(r Interval) bool {
			return iv.Earliest <= r.Latest && r.Earliest <= iv.Latest
		})
	}
	return a
}
