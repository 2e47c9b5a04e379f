package elle

import (
	"slices"
	"testing"

	"github.com/meridiandb/meridian/checker/anomaly"
)

func TestClassify(t *testing.T) {
	for _, tc := range []struct {
		kinds []Kind
		want  string
	}{
		{[]Kind{WW, WW}, anomaly.G0},
		{[]Kind{WW, WR}, anomaly.G1c},
		{[]Kind{RW, WR}, anomaly.GSingle},
		{[]Kind{RWAbsent, WW}, anomaly.GSingle},
		{[]Kind{RW, RW}, anomaly.G2Item},
		{[]Kind{RW, RWAbsent}, anomaly.G2},
		{[]Kind{WW, Realtime}, anomaly.G0 + anomaly.SuffixRealtime},
		{[]Kind{WR, Process}, anomaly.G1c + anomaly.SuffixProcess},
		{[]Kind{RW, Process, Realtime}, anomaly.GSingle + anomaly.SuffixRealtime},
		{[]Kind{RW, RW, Realtime}, anomaly.G2Item + anomaly.SuffixRealtime},
	} {
		var c []step
		for _, k := range tc.kinds {
			c = append(c, step{kind: k})
		}
		if got := classify(c); got != tc.want {
			t.Errorf("classify(%v) = %s, want %s", tc.kinds, got, tc.want)
		}
	}
}

func TestSCCs(t *testing.T) {
	// 0 -> 1 -> 2 -> 0 is a cycle; 3 -> 4 is not; 5 <-> 6 is.
	g := buildGraph(7, []edge{
		{0, 1, WW}, {1, 2, WR}, {2, 0, RW}, {2, 3, Realtime}, {3, 4, WW}, {5, 6, WW}, {6, 5, WW}, {0, 1, Realtime},
	})
	got := g.sccs()
	want := [][]int32{{0, 1, 2}, {5, 6}}
	if !slices.EqualFunc(got, want, slices.Equal) {
		t.Fatalf("sccs = %v, want %v", got, want)
	}
	if g.edgeCount() != 7 {
		t.Fatalf("duplicate edges not merged: %d edges", g.edgeCount())
	}
}

// TestSearchFallback: with no budget at all, a component is still reported
// with some cycle, named by its edges.
func TestSearchFallback(t *testing.T) {
	g := buildGraph(3, []edge{{0, 1, RW}, {1, 2, WR}, {2, 0, WW}})
	comps := g.sccs()
	if len(comps) != 1 {
		t.Fatalf("sccs = %v", comps)
	}
	found := newSearcher(g, 0).cycles(comps[0])
	if len(found) != 1 || len(found[0]) != 3 || classify(found[0]) != anomaly.GSingle {
		t.Fatalf("fallback found %v", found)
	}
	// With a budget, every applicable class is searched: here only G-single.
	found = newSearcher(g, 1000).cycles(comps[0])
	if len(found) != 1 || classify(found[0]) != anomaly.GSingle {
		t.Fatalf("found %v", found)
	}
}
