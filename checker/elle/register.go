package elle

import (
	"github.com/meridiandb/meridian/checker/anomaly"
	"github.com/meridiandb/meridian/checker/history"
)

// regWriter is the op that wrote a register value, and whether the same op
// wrote the key again afterwards (making the value intermediate).
type regWriter struct {
	op           int32
	intermediate bool
}

// vedge is an inferred version order edge v1 < v2 (version ids of one key).
type vedge struct {
	v1, v2 int32
	src    uint8
	by     int32
}

// regKey is one key's versions: id 0 is the initial nil, ids 1.. are the
// final writes of ok and info ops.
type regKey struct {
	writers map[int64]regWriter
	vid     map[int64]int32
	val     []int64 // vid -> value
	op      []int32 // vid -> writer (-1 for nil)
	readers [][]int32
	edges   []vedge
	seen    map[[2]int32]bool
}

func (rk *regKey) addVersionEdge(e vedge) {
	if e.v1 == e.v2 {
		return
	}
	p := [2]int32{e.v1, e.v2}
	if rk.seen[p] {
		return
	}
	rk.seen[p] = true
	rk.edges = append(rk.edges, e)
}

// opWrite is a final write of an op: key and version id.
type opWrite struct{ key, vid int32 }

// register infers version orders for an rw-register history.
//
// Assumptions: each value is written at most once per key; a key starts as
// nil, so nil precedes every version; within a transaction, a write follows
// the value it read earlier (writes follow reads); and, each key being
// linearizable under strict serializability, a version whose writer
// completed before another writer was invoked precedes that writer's
// version. Reads that followed the transaction's own write of a key are
// checked only for internal consistency.
func (a *analysis) register() error {
	ops := a.h.Ops
	keys := make([]regKey, len(a.keys))
	for k := range keys {
		keys[k] = regKey{writers: map[int64]regWriter{}, vid: map[int64]int32{}, val: []int64{0}, op: []int32{-1}, readers: [][]int32{nil}, seen: map[[2]int32]bool{}}
	}
	finals := make([][]opWrite, len(ops))
	for i := range ops {
		op := &ops[i]
		for j, m := range op.Mops {
			if m.F != history.Write || m.Nil {
				continue
			}
			rk := &keys[a.keyIDs[m.Key]]
			if prev, dup := rk.writers[m.Value]; dup && prev.op != int32(i) {
				return history.Errorf(op.InvokeLine, "value %d written to key %s again (first by the transaction invoked on line %d); register values must be unique per key",
					m.Value, m.Key, ops[prev.op].InvokeLine)
			}
			inter := op.Overwritten(j)
			rk.writers[m.Value] = regWriter{op: int32(i), intermediate: inter}
			if !inter && op.Type != history.Fail {
				k := a.keyIDs[m.Key]
				id := int32(len(rk.val))
				rk.vid[m.Value] = id
				rk.val = append(rk.val, m.Value)
				rk.op = append(rk.op, int32(i))
				rk.readers = append(rk.readers, nil)
				finals[i] = append(finals[i], opWrite{key: k, vid: id})
			}
		}
	}
	for i := range ops {
		if ops[i].Type == history.OK {
			a.registerOp(int32(i), keys, finals[i])
		}
	}
	a.registerRealtime(keys, finals)
	for k := range keys {
		a.registerKey(int32(k), &keys[k])
	}
	return nil
}

// registerOp checks one committed op's reads, records its external reads and
// adds writes-follow-reads version edges.
func (a *analysis) registerOp(i int32, keys []regKey, finals []opWrite) {
	op := &a.h.Ops[i]
	type state struct {
		key      history.Key
		wrote    bool
		last     history.Mop // last own write, or first read
		read     bool
		external int32 // version id of the external read, or -1
	}
	var states []state
	get := func(k history.Key) *state {
		for j := range states {
			if states[j].key == k {
				return &states[j]
			}
		}
		states = append(states, state{key: k, external: -1})
		return &states[len(states)-1]
	}
	for _, m := range op.Mops {
		s := get(m.Key)
		k := a.keyIDs[m.Key]
		if m.F == history.Write {
			s.wrote, s.last = true, m
			continue
		}
		if s.wrote || s.read {
			if m.Nil != s.last.Nil || m.Value != s.last.Value {
				what := "its own write of"
				if !s.wrote {
					what = "its earlier read of"
				}
				a.report(anomaly.Internal, k, []int32{i}, "%s read %s = %s after %s %s",
					name(i), m.Key, regVal(m.Value, m.Nil), what, regVal(s.last.Value, s.last.Nil))
			}
			continue
		}
		s.read, s.last = true, m
		rk := &keys[k]
		if m.Nil {
			s.external = 0
			rk.readers[0] = append(rk.readers[0], i)
			continue
		}
		w, ok := rk.writers[m.Value]
		switch {
		case !ok:
			a.report(anomaly.GarbageRead, k, []int32{i}, "%s read %s = %d, which nobody wrote", name(i), m.Key, m.Value)
		case a.h.Ops[w.op].Type == history.Fail:
			a.report(anomaly.G1a, k, []int32{i, w.op}, "%s read %s = %d, written by %s, which failed", name(i), m.Key, m.Value, name(w.op))
		case w.op == i:
			a.report(anomaly.Internal, k, []int32{i}, "%s read %s = %d before writing it", name(i), m.Key, m.Value)
		case w.intermediate:
			a.report(anomaly.G1b, k, []int32{i, w.op}, "%s read %s = %d, which %s overwrote in the same transaction", name(i), m.Key, m.Value, name(w.op))
		default:
			id := rk.vid[m.Value]
			s.external = id
			rk.readers[id] = append(rk.readers[id], i)
		}
	}
	for _, f := range finals {
		s := get(a.keys[f.key])
		if s.external >= 0 {
			v := s.external
			keys[f.key].addVersionEdge(vedge{v1: v, v2: f.vid, src: srcWFR, by: i})
		}
	}
}

// registerRealtime orders versions by their writers' real time: a per-key
// frontier of completed writers, reduced as in orderEdges.
func (a *analysis) registerRealtime(keys []regKey, finals [][]opWrite) {
	ops := a.h.Ops
	frontier := make([][]opWrite, len(keys)) // per key: (op as key field, vid)
	for _, ev := range a.h.Events {
		op := &ops[ev.Op]
		fs := finals[ev.Op]
		if len(fs) == 0 || op.Type == history.Fail {
			continue
		}
		if !ev.Complete {
			for _, f := range fs {
				for _, p := range frontier[f.key] {
					keys[f.key].addVersionEdge(vedge{v1: p.vid, v2: f.vid, src: srcRealtime, by: -1})
				}
			}
			continue
		}
		if op.Type != history.OK {
			continue
		}
		for _, f := range fs {
			kept := frontier[f.key][:0]
			for _, p := range frontier[f.key] {
				if ops[keys[f.key].op[p.vid]].CompleteEvent > op.InvokeEvent {
					kept = append(kept, p)
				}
			}
			frontier[f.key] = append(kept, opWrite{key: f.key, vid: f.vid})
		}
	}
}

// registerKey completes a key's version graph (nil before versions with no
// other predecessor), rejects cyclic orders, and adds ww, wr and rw edges.
func (a *analysis) registerKey(k int32, rk *regKey) {
	hasPred := make([]bool, len(rk.val))
	for _, e := range rk.edges {
		hasPred[e.v2] = true
	}
	for v := 1; v < len(rk.val); v++ {
		if !hasPred[v] {
			rk.addVersionEdge(vedge{v1: 0, v2: int32(v), src: srcInitial, by: -1})
		}
	}
	// wr: from each version's writer to its external readers.
	for v := 1; v < len(rk.val); v++ {
		for _, r := range rk.readers[v] {
			a.addData(rk.op[v], r, WR, why{key: k, v1: rk.val[v], by: r})
		}
	}
	if a.versionCycle(k, rk) {
		return
	}
	for _, e := range rk.edges {
		w := why{key: k, v1: rk.val[e.v1], v2: rk.val[e.v2], nil1: e.v1 == 0, src: e.src, by: e.by}
		if e.v1 != 0 {
			a.addData(rk.op[e.v1], rk.op[e.v2], WW, w)
		}
		kind := RW
		if e.v1 == 0 {
			kind = RWAbsent
		}
		for _, r := range rk.readers[e.v1] {
			a.addData(r, rk.op[e.v2], kind, w)
		}
	}
}

// versionCycle reports a cycle in a key's inferred version order, if any.
func (a *analysis) versionCycle(k int32, rk *regKey) bool {
	es := make([]edge, len(rk.edges))
	for i, e := range rk.edges {
		es[i] = edge{from: e.v1, to: e.v2, kind: WW}
	}
	g := buildGraph(len(rk.val), es)
	comps := g.sccs()
	if len(comps) == 0 {
		return false
	}
	s := newSearcher(g, -1)
	for i, v := range comps[0] {
		s.local[v] = int32(i)
	}
	s.scc = comps[0]
	c := s.findBudget(spec{start: WW, path: WW}, -1)
	srcOf := make(map[[2]int32]vedge, len(rk.edges))
	for _, e := range rk.edges {
		srcOf[[2]int32{e.v1, e.v2}] = e
	}
	var ops []int32
	detail := ""
	for i, st := range c {
		e := srcOf[[2]int32{st.from, st.to}]
		if i > 0 {
			detail += "; "
		}
		detail += regVal(rk.val[e.v1], e.v1 == 0) + " < " + regVal(rk.val[e.v2], false) + " ("
		switch e.src {
		case srcInitial:
			detail += "initial state"
		case srcWFR:
			detail += name(e.by) + " read one, then wrote the other"
			ops = append(ops, e.by)
		case srcRealtime:
			detail += name(rk.op[e.v1]) + " completed before " + name(rk.op[e.v2]) + " was invoked"
			ops = append(ops, rk.op[e.v1], rk.op[e.v2])
		}
		detail += ")"
	}
	a.report(anomaly.IncompatibleOrder, k, dedupe(ops), "the inferred version order of %s is cyclic: %s", a.keys[k], detail)
	return true
}

func dedupe(ops []int32) []int32 {
	var out []int32
	seen := map[int32]bool{}
	for _, o := range ops {
		if !seen[o] {
			seen[o] = true
			out = append(out, o)
		}
	}
	return out
}
