package truetime

import (
	"slices"
	"strings"
	"testing"
)

func TestCombine(t *testing.T) {
	iv := func(e, l Timestamp) Interval { return Interval{e, l} }
	for _, tc := range []struct {
		name       string
		in         []Interval
		want       Interval
		agreeing   int
		liars      []bool
		noMajority bool
	}{
		{"single", []Interval{iv(0, 10)}, iv(0, 10), 1, []bool{false}, false},
		{"overlap", []Interval{iv(0, 10), iv(5, 15)}, iv(5, 10), 2, []bool{false, false}, false},
		{"touching intervals overlap", []Interval{iv(0, 5), iv(5, 10)}, iv(5, 5), 2, []bool{false, false}, false},
		{"nested", []Interval{iv(0, 100), iv(10, 20), iv(15, 30)}, iv(15, 20), 3, []bool{false, false, false}, false},
		{"one liar of three", []Interval{iv(0, 10), iv(1000, 1010), iv(2, 12)}, iv(2, 10), 2, []bool{false, true, false}, false},
		{"one liar of four", []Interval{iv(0, 10), iv(3, 9), iv(-50, -40), iv(2, 12)}, iv(3, 9), 3, []bool{false, false, true, false}, false},
		{"two disagree", []Interval{iv(0, 10), iv(20, 30)}, iv(0, 30), 1, []bool{false, false}, true},
		{"two pairs disagree", []Interval{iv(0, 10), iv(5, 12), iv(20, 30), iv(25, 40)}, iv(0, 40), 2, []bool{false, false, false, false}, true},
		{"two of five is no majority", []Interval{iv(0, 10), iv(5, 12), iv(20, 30), iv(40, 50), iv(60, 70)}, iv(0, 70), 2, []bool{false, false, false, false, false}, true},
		// A spans two majority regions: true time is in one of them, so the
		// result is their hull; nobody can be called a liar.
		{"two majority regions", []Interval{iv(0, 10), iv(0, 2), iv(8, 10)}, iv(0, 10), 2, []bool{false, false, false}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := combine(tc.in)
			if a.Interval != tc.want || a.Agreeing != tc.agreeing || !slices.Equal(a.Liars, tc.liars) || (a.NoMajority != "") != tc.noMajority {
				t.Errorf("combine(%v) = %+v, want interval %v agreeing %d liars %v noMajority %v",
					tc.in, a, tc.want, tc.agreeing, tc.liars, tc.noMajority)
			}
			if tc.noMajority && !strings.Contains(a.NoMajority, "no majority") {
				t.Errorf("NoMajority = %q", a.NoMajority)
			}
		})
	}
}
