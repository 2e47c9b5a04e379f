package elle

import (
	"slices"
)

// Kind is a set of dependency kinds on an edge between two transactions.
type Kind uint8

const (
	// WW: the source installed a version of a key that the target's write
	// directly follows.
	WW Kind = 1 << iota
	// WR: the target read a version the source installed.
	WR
	// RW: the source read a version that the target's write overwrote
	// (anti-dependency).
	RW
	// RWAbsent: RW where the source found the key absent, i.e. a predicate
	// anti-dependency: the target created the key.
	RWAbsent
	// Process: the same process ran the source, then the target.
	Process
	// Realtime: the source completed before the target was invoked.
	Realtime

	anyRW   = RW | RWAbsent
	data    = WW | WR | RW | RWAbsent
	ordered = Process | Realtime
)

// name is the label of a single kind bit.
func (k Kind) name() string {
	switch k {
	case WW:
		return "ww"
	case WR:
		return "wr"
	case RW, RWAbsent:
		return "rw"
	case Process:
		return "process"
	case Realtime:
		return "realtime"
	}
	return "?"
}

// edge is a dependency between two ops (nodes), of one kind.
type edge struct {
	from, to int32
	kind     Kind // one bit
}

// evidence is a data edge with what justified it, kept so that a reported
// cycle can be explained without re-deriving it. Order edges need none.
type evidence struct {
	edge
	why why
}

// why records the evidence for a data edge.
type why struct {
	key    int32 // interned key
	v1, v2 int64 // versions (v1 the earlier); meaning depends on the kind
	nil1   bool  // v1 is the initial (absent) version
	src    uint8 // how a register version order was inferred (srcInitial...)
	by     int32 // op whose observation or order justified it, or -1
}

// graph is a compressed adjacency structure over ops (nodes are op indices).
// An edge between a pair of ops carries the union of its kinds.
type graph struct {
	n     int
	start []int32 // out-edges of u are to[start[u]:start[u+1]]
	to    []int32
	kinds []Kind
}

func buildGraph(n int, edges []edge) *graph {
	g := &graph{n: n, start: make([]int32, n+1)}
	for _, e := range edges {
		g.start[e.from+1]++
	}
	for i := 1; i <= n; i++ {
		g.start[i] += g.start[i-1]
	}
	to := make([]int32, len(edges))
	kinds := make([]Kind, len(edges))
	fill := slices.Clone(g.start[:n])
	for _, e := range edges {
		i := fill[e.from]
		to[i], kinds[i] = e.to, e.kind
		fill[e.from]++
	}
	// Sort each adjacency list by target and merge duplicate targets.
	out := int32(0)
	type pair struct {
		to   int32
		kind Kind
	}
	var scratch []pair
	for u := 0; u < n; u++ {
		lo, hi := g.start[u], g.start[u+1]
		g.start[u] = out
		scratch = scratch[:0]
		for i := lo; i < hi; i++ {
			scratch = append(scratch, pair{to[i], kinds[i]})
		}
		slices.SortFunc(scratch, func(a, b pair) int { return int(a.to) - int(b.to) })
		for i, p := range scratch {
			if i > 0 && scratch[i-1].to == p.to {
				kinds[out-1] |= p.kind
				continue
			}
			to[out], kinds[out] = p.to, p.kind
			out++
		}
	}
	g.start[n] = out
	g.to, g.kinds = to[:out:out], kinds[:out:out]
	return g
}

func (g *graph) edgeCount() int { return len(g.to) }

// sccs returns the strongly connected components with more than one node
// (self-loops are never added), each sorted, in order of their smallest node.
// Iterative Tarjan: histories have hundreds of thousands of nodes.
func (g *graph) sccs() [][]int32 {
	const unvisited = -1
	index := make([]int32, g.n)
	low := make([]int32, g.n)
	onStack := make([]bool, g.n)
	for i := range index {
		index[i] = unvisited
	}
	var (
		stack []int32
		next  int32
		out   [][]int32
	)
	type frame struct {
		v int32
		i int32 // next edge offset
	}
	var call []frame
	for root := 0; root < g.n; root++ {
		if index[root] != unvisited {
			continue
		}
		call = append(call, frame{v: int32(root), i: g.start[root]})
		index[root], low[root] = next, next
		next++
		stack = append(stack, int32(root))
		onStack[root] = true
		for len(call) > 0 {
			f := &call[len(call)-1]
			v := f.v
			if f.i < g.start[v+1] {
				w := g.to[f.i]
				f.i++
				if index[w] == unvisited {
					index[w], low[w] = next, next
					next++
					stack = append(stack, w)
					onStack[w] = true
					call = append(call, frame{v: w, i: g.start[w]})
				} else if onStack[w] && index[w] < low[v] {
					low[v] = index[w]
				}
				continue
			}
			call = call[:len(call)-1]
			if len(call) > 0 {
				p := call[len(call)-1].v
				if low[v] < low[p] {
					low[p] = low[v]
				}
			}
			if low[v] == index[v] {
				var comp []int32
				for {
					w := stack[len(stack)-1]
					stack = stack[:len(stack)-1]
					onStack[w] = false
					comp = append(comp, w)
					if w == v {
						break
					}
				}
				if len(comp) > 1 {
					slices.Sort(comp)
					out = append(out, comp)
				}
			}
		}
	}
	slices.SortFunc(out, func(a, b []int32) int { return int(a[0]) - int(b[0]) })
	return out
}
