package ranges

import (
	"testing"

	"github.com/meridiandb/meridian/ranges/rangespb"
)

// TestPolicyForInnermost: nested rules (a partitioned table's rule and its
// partitions' rules inside it) govern a range by the innermost rule that
// covers it; a range no rule covers whole gets none.
func TestPolicyForInnermost(t *testing.T) {
	rule := func(start, end, name string) *rangespb.PlacementRule {
		return &rangespb.PlacementRule{StartKey: []byte(start), EndKey: []byte(end), Policy: &rangespb.PlacementPolicy{Name: name}}
	}
	// Sorted by start key, as the cache keeps them.
	rules := []*rangespb.PlacementRule{
		rule("t5", "t6", "table"),
		rule("t5/1/ap", "t5/1/aq", "ap"),
		rule("t5/1/eu", "t5/1/ev", "eu"),
		rule("t5/1/us", "t5/1/ut", "us"),
		rule("t7", "t8", "other"),
	}
	for _, c := range []struct{ start, end, want string }{
		{"t5", "t5/1/ap", "table"},       // before the first partition
		{"t5/1/ap", "t5/1/aq", "ap"},     // a whole partition
		{"t5/1/ap/x", "t5/1/aq", "ap"},   // part of it
		{"t5/1/aq", "t5/1/eu", "table"},  // the gap between partitions
		{"t5/1/eu", "t5/1/ev", "eu"},     // the partition starting after a gap
		{"t5/1/us", "t5/1/ut", "us"},     // the last one
		{"t5/1/ut", "t6", "table"},       // after it, still in the table
		{"t5/1/eu", "t5/1/ut", "table"},  // several partitions, unsplit: the table's
		{"t6", "t7", ""},                 // between tables: none
		{"t5/1/us", "t9", ""},            // wider than any rule
		{"t7", "", ""},                   // unbounded end: nothing covers it
		{"t7/a", "t7/b", "other"},        // inside the last rule
		{"a", "b", ""},                   // before every rule
		{"t5/1/ap", "t5/1/ap\x00", "ap"}, // a tiny range
	} {
		got := ""
		if p := policyFor(rules, []byte(c.start), []byte(c.end)); p != nil {
			got = p.Name
		}
		if got != c.want {
			t.Errorf("[%q, %q): policy %q, want %q", c.start, c.end, got, c.want)
		}
	}
}
