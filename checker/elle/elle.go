package elle

import (
	"fmt"

	"github.com/meridiandb/meridian/checker/anomaly"
	"github.com/meridiandb/meridian/checker/history"
)

// Options configures Check. The zero value is ready to use.
type Options struct {
	// SearchBudget bounds each cycle search inside one strongly connected
	// component, in edge visits. A search out of budget finds nothing; the
	// component is then still reported with any cycle it has. Default 1<<22.
	SearchBudget int
}

// Result is what Check found.
type Result struct {
	Anomalies []anomaly.Anomaly
	// Nodes and Edges describe the dependency graph (pairs of ops).
	Nodes, Edges int
	// Components is the number of strongly connected components with a cycle.
	Components int
}

// Check infers version orders and dependencies from a list-append or
// rw-register history and reports cycles and non-cycle anomalies. An error
// (an *history.Error) means the history cannot be interpreted, for example
// because a value was written twice to one key.
func Check(h *history.History, opts Options) (*Result, error) {
	if opts.SearchBudget == 0 {
		opts.SearchBudget = 1 << 22
	}
	a := newAnalysis(h)
	var err error
	switch h.Workload {
	case history.ListAppend:
		err = a.listAppend()
	case history.Register:
		err = a.register()
	}
	if err != nil {
		return nil, err
	}
	a.orderEdges()
	g := buildGraph(len(h.Ops), a.edges)
	a.edges = nil
	res := &Result{Nodes: len(h.Ops), Edges: g.edgeCount()}
	comps := g.sccs()
	res.Components = len(comps)
	s := newSearcher(g, opts.SearchBudget)
	var cycles [][]step
	for _, c := range comps {
		cycles = append(cycles, s.cycles(c)...)
	}
	a.reportCycles(cycles)
	res.Anomalies = a.anomalies
	return res, nil
}

// analysis is the state of one Check: interned keys, edges, findings.
type analysis struct {
	h         *history.History
	keyIDs    map[history.Key]int32
	keys      []history.Key
	edges     []edge
	evidence  []evidence
	anomalies []anomaly.Anomaly
}

func newAnalysis(h *history.History) *analysis {
	a := &analysis{h: h, keyIDs: make(map[history.Key]int32)}
	for i := range h.Ops {
		for _, m := range h.Ops[i].Mops {
			a.key(m.Key)
		}
	}
	return a
}

func (a *analysis) key(k history.Key) int32 {
	if id, ok := a.keyIDs[k]; ok {
		return id
	}
	id := int32(len(a.keys))
	a.keyIDs[k] = id
	a.keys = append(a.keys, k)
	return id
}

// addData adds a data edge with its evidence; self-edges are dropped.
func (a *analysis) addData(from, to int32, kind Kind, w why) {
	if from == to {
		return
	}
	e := edge{from: from, to: to, kind: kind}
	a.edges = append(a.edges, e)
	a.evidence = append(a.evidence, evidence{edge: e, why: w})
}

func (a *analysis) report(typ string, key int32, ops []int32, format string, args ...any) {
	an := anomaly.Anomaly{Type: typ, Detail: fmt.Sprintf(format, args...)}
	if key >= 0 {
		an.Key = a.keys[key].String()
	}
	for _, o := range ops {
		an.Ops = append(an.Ops, int(o))
	}
	a.anomalies = append(a.anomalies, an)
}

func name(op int32) string { return history.OpName(int(op)) }

// orderEdges adds real-time and process edges between committed (ok) and
// indeterminate (info) ops; failed ops take no part.
//
// Real time is reduced the way Elle does it: a frontier holds the completed
// ops not yet known to precede a later completed op; an invocation gets an
// edge from each, and a completion removes from the frontier the ops that
// completed before it was invoked (they precede it, so they reach everything
// it reaches). The frontier stays near the number of processes, so the edges
// number about ops × processes rather than ops².
func (a *analysis) orderEdges() {
	ops := a.h.Ops
	var frontier []int32
	last := make(map[int64]int32)
	for _, ev := range a.h.Events {
		op := &ops[ev.Op]
		if op.Type == history.Fail {
			continue
		}
		if !ev.Complete {
			for _, f := range frontier {
				a.edges = append(a.edges, edge{from: f, to: ev.Op, kind: Realtime})
			}
			if l, ok := last[op.Process]; ok {
				a.edges = append(a.edges, edge{from: l, to: ev.Op, kind: Process})
			}
			continue
		}
		if op.Type != history.OK {
			continue
		}
		kept := frontier[:0]
		for _, f := range frontier {
			if ops[f].CompleteEvent > op.InvokeEvent {
				kept = append(kept, f)
			}
		}
		frontier = append(kept, ev.Op)
		last[op.Process] = ev.Op
	}
}

// reportCycles turns found cycles into anomalies with explained steps.
func (a *analysis) reportCycles(cycles [][]step) {
	if len(cycles) == 0 {
		return
	}
	need := make(map[edge]bool)
	for _, c := range cycles {
		for _, s := range c {
			if s.kind&data != 0 {
				need[edge{from: s.from, to: s.to, kind: s.kind}] = true
			}
		}
	}
	found := make(map[edge]why, len(need))
	for _, ev := range a.evidence {
		if _, dup := found[ev.edge]; need[ev.edge] && !dup {
			found[ev.edge] = ev.why
		}
	}
	for _, c := range cycles {
		an := anomaly.Anomaly{Type: classify(c)}
		for _, s := range c {
			an.Ops = append(an.Ops, int(s.from))
			an.Cycle = append(an.Cycle, anomaly.Step{
				From: int(s.from), To: int(s.to), Kind: s.kind.name(),
				Why: a.explain(s, found),
			})
		}
		a.anomalies = append(a.anomalies, an)
	}
}

// explain says why one step of a cycle holds, from the evidence found for
// its data edges.
func (a *analysis) explain(s step, found map[edge]why) string {
	ops := a.h.Ops
	from, to := name(s.from), name(s.to)
	switch s.kind {
	case Realtime:
		return fmt.Sprintf("%s completed (line %d) before %s was invoked (line %d)",
			from, ops[s.from].CompleteLine, to, ops[s.to].InvokeLine)
	case Process:
		return fmt.Sprintf("process %d ran %s, then %s", ops[s.from].Process, from, to)
	}
	w, ok := found[edge{from: s.from, to: s.to, kind: s.kind}]
	if !ok {
		panic(fmt.Sprintf("elle: no evidence for edge %s -%s-> %s", from, s.kind.name(), to))
	}
	k := a.keys[w.key].String()
	if a.h.Workload == history.ListAppend {
		return a.explainList(s, w, k, from, to)
	}
	return a.explainRegister(s, w, k, from, to)
}

func (a *analysis) explainList(s step, w why, k, from, to string) string {
	switch s.kind {
	case WW:
		if w.src == srcUnobserved {
			return fmt.Sprintf("%s appended %d to %s, which no read saw, so after %s's %d, the last element any read saw", to, w.v2, k, from, w.v1)
		}
		return fmt.Sprintf("%s appended %d to %s right after %s's %d", to, w.v2, k, from, w.v1)
	case WR:
		return fmt.Sprintf("%s read %s ending in %d, which %s appended", to, k, w.v1, from)
	default:
		seen := fmt.Sprintf("read %s ending in %d", k, w.v1)
		if w.nil1 {
			seen = fmt.Sprintf("found %s empty", k)
		}
		if w.src == srcUnobserved {
			return fmt.Sprintf("%s %s and did not see %d, which %s appended (no read saw it)", from, seen, w.v2, to)
		}
		return fmt.Sprintf("%s %s and did not see %d, which %s appended next", from, seen, w.v2, to)
	}
}

func (a *analysis) explainRegister(s step, w why, k, from, to string) string {
	order := func() string {
		switch w.src {
		case srcWFR:
			return fmt.Sprintf("%s read %s = %s and then wrote %d", name(w.by), k, regVal(w.v1, w.nil1), w.v2)
		case srcRealtime:
			return fmt.Sprintf("the writer of %d completed before the writer of %d was invoked", w.v1, w.v2)
		default:
			return "every version follows the initial nil"
		}
	}
	switch s.kind {
	case WW:
		return fmt.Sprintf("%s: %s's %d precedes %s's %d (%s)", k, from, w.v1, to, w.v2, order())
	case WR:
		return fmt.Sprintf("%s read %s = %d, written by %s", to, k, w.v1, from)
	default:
		return fmt.Sprintf("%s read %s = %s, and %s's %d follows it (%s)", from, k, regVal(w.v1, w.nil1), to, w.v2, order())
	}
}

func regVal(v int64, isNil bool) string {
	if isNil {
		return "nil"
	}
	return fmt.Sprint(v)
}

// Evidence sources.
const (
	srcListOrder  uint8 = iota // list-append: the longest read's order
	srcUnobserved              // list-append: an ok append no read saw
	srcInitial                 // register: nil precedes every version
	srcWFR                     // register: a transaction read v1, then wrote v2
	srcRealtime                // register: v1's writer completed before v2's was invoked
)
