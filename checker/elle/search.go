package elle

import "github.com/meridiandb/meridian/checker/anomaly"

// step is one edge of a found cycle, with the single kind chosen for it.
type step struct {
	from, to int32
	kind     Kind
}

// req is a requirement on a cycle: it must contain an edge whose chosen kind
// is in mask. If start is false, the first edge does not count.
type req struct {
	mask  Kind
	start bool
}

// spec describes the cycles one search looks for: a first edge of a kind in
// start, then a path back using kinds in path, meeting every req.
type spec struct {
	base  string
	start Kind
	path  Kind
	reqs  []req
}

// baseSpecs are searched in order; each finds the weakest anomaly its name
// says. The classification of the cycle found is computed from its edges.
var baseSpecs = []spec{
	{base: anomaly.G0, start: WW, path: WW},
	{base: anomaly.G1c, start: WR, path: WW | WR},
	{base: anomaly.GSingle, start: anyRW, path: WW | WR},
	{base: anomaly.G2Item, start: RW, path: WW | WR | RW, reqs: []req{{mask: RW}}},
	{base: anomaly.G2, start: anyRW, path: data, reqs: []req{{mask: anyRW}, {mask: RWAbsent, start: true}}},
}

// orderedVariant returns s extended with process and real-time edges, at
// least one of which the cycle must use.
func orderedVariant(s spec) spec {
	v := s
	v.path |= ordered
	v.reqs = append(append([]req(nil), s.reqs...), req{mask: ordered})
	return v
}

// classify names a cycle by its chosen edge kinds.
func classify(c []step) string {
	var n, absent, wr, rt, proc int
	for _, s := range c {
		switch s.kind {
		case RW:
			n++
		case RWAbsent:
			n++
			absent++
		case WR:
			wr++
		case Realtime:
			rt++
		case Process:
			proc++
		}
	}
	var name string
	switch {
	case n == 0 && wr == 0:
		name = anomaly.G0
	case n == 0:
		name = anomaly.G1c
	case n == 1:
		name = anomaly.GSingle
	case absent > 0:
		name = anomaly.G2
	default:
		name = anomaly.G2Item
	}
	switch {
	case rt > 0:
		name += anomaly.SuffixRealtime
	case proc > 0:
		name += anomaly.SuffixProcess
	}
	return name
}

// searcher finds cycles inside one SCC with breadth-first searches over
// (node, requirements met) states, bounded by a budget of edge visits.
type searcher struct {
	g      *graph
	local  []int32 // node -> index within the SCC being searched, or -1
	budget int

	// Per-search state, reused; stamp marks visited without clearing.
	stamp   []uint32
	gen     uint32
	parent  []int32 // state -> previous state
	via     []Kind  // state -> kind of the edge into it
	queue   []int32
	scc     []int32
	nstates int
}

func newSearcher(g *graph, budget int) *searcher {
	s := &searcher{g: g, local: make([]int32, g.n), budget: budget}
	for i := range s.local {
		s.local[i] = -1
	}
	return s
}

// cycles returns, for one SCC, one cycle per anomaly class it could find:
// each base spec, then its ordered variant when the base found nothing. If
// no spec finds a cycle within budget, any cycle is returned.
func (s *searcher) cycles(scc []int32) [][]step {
	for i, v := range scc {
		s.local[v] = int32(i)
	}
	defer func() {
		for _, v := range scc {
			s.local[v] = -1
		}
	}()
	s.scc = scc
	var found [][]step
	for _, sp := range baseSpecs {
		if c := s.find(sp); c != nil {
			found = append(found, c)
			continue
		}
		if c := s.find(orderedVariant(sp)); c != nil {
			found = append(found, c)
		}
	}
	if len(found) == 0 {
		all := spec{start: data | ordered, path: data | ordered}
		if c := s.findBudget(all, -1); c != nil {
			found = append(found, c)
		}
	}
	return found
}

func (s *searcher) find(sp spec) []step { return s.findBudget(sp, s.budget) }

// findBudget runs sp's search; budget < 0 means unbounded.
func (s *searcher) findBudget(sp spec, budget int) []step {
	g := s.g
	nm := 1 << len(sp.reqs)
	full := nm - 1
	s.nstates = len(s.scc) * nm
	if len(s.stamp) < s.nstates {
		s.stamp = make([]uint32, s.nstates)
		s.parent = make([]int32, s.nstates)
		s.via = make([]Kind, s.nstates)
	}
	maskFor := func(k Kind, first bool) int {
		m := 0
		for i, r := range sp.reqs {
			if k&r.mask != 0 && (!first || r.start) {
				m |= 1 << i
			}
		}
		return m
	}
	for _, u := range s.scc {
		for ei := g.start[u]; ei < g.start[u+1]; ei++ {
			v := g.to[ei]
			if s.local[v] < 0 {
				continue
			}
			for kb := Kind(1); kb != 0 && kb <= Realtime; kb <<= 1 {
				if g.kinds[ei]&kb == 0 || sp.start&kb == 0 {
					continue
				}
				c, spent := s.bfs(sp, u, v, kb, maskFor(kb, true), nm, full, maskFor, budget)
				if c != nil {
					return c
				}
				if budget >= 0 {
					if budget -= spent; budget <= 0 {
						return nil
					}
				}
			}
		}
	}
	return nil
}

// bfs searches a path v -> u over sp.path kinds that completes the
// requirements; the cycle is u -first-> v -path-> u.
func (s *searcher) bfs(sp spec, u, v int32, first Kind, m0, nm, full int, maskFor func(Kind, bool) int, budget int) ([]step, int) {
	g := s.g
	s.gen++
	if s.gen == 0 { // wrapped: clear stamps
		clear(s.stamp)
		s.gen = 1
	}
	state := func(node int32, m int) int32 { return s.local[node]*int32(nm) + int32(m) }
	start := state(v, m0)
	s.stamp[start] = s.gen
	s.parent[start] = -1
	s.via[start] = first
	s.queue = append(s.queue[:0], start)
	spent := 0
	for qi := 0; qi < len(s.queue); qi++ {
		st := s.queue[qi]
		node := s.scc[st/int32(nm)]
		m := int(st % int32(nm))
		if node == u && m == full {
			return s.unwind(st, u, nm), spent
		}
		if node == u {
			continue // reached u without meeting the requirements; paths through u are longer cycles
		}
		for ei := g.start[node]; ei < g.start[node+1]; ei++ {
			w := g.to[ei]
			if s.local[w] < 0 {
				continue
			}
			spent++
			ks := g.kinds[ei] & sp.path
			for kb := Kind(1); ks != 0 && kb <= Realtime; kb <<= 1 {
				if ks&kb == 0 {
					continue
				}
				ns := state(w, m|maskFor(kb, false))
				if s.stamp[ns] == s.gen {
					continue
				}
				s.stamp[ns] = s.gen
				s.parent[ns] = st
				s.via[ns] = kb
				s.queue = append(s.queue, ns)
			}
		}
		if budget >= 0 && spent > budget {
			return nil, spent
		}
	}
	return nil, spent
}

// unwind rebuilds the cycle ending at state end (node u).
func (s *searcher) unwind(end int32, u int32, nm int) []step {
	var rev []step
	st := end
	for {
		p := s.parent[st]
		node := s.scc[st/int32(nm)]
		if p < 0 {
			rev = append(rev, step{from: u, to: node, kind: s.via[st]})
			break
		}
		rev = append(rev, step{from: s.scc[p/int32(nm)], to: node, kind: s.via[st]})
		st = p
	}
	out := make([]step, len(rev))
	for i := range rev {
		out[i] = rev[len(rev)-1-i]
	}
	return out
}
