package elle

import (
	"cmp"
	"slices"

	"github.com/meridiandb/meridian/checker/anomaly"
	"github.com/meridiandb/meridian/checker/history"
)

// elemWriter is the op that appended an element, and whether the same op
// appended to the key again afterwards (making the element intermediate).
type elemWriter struct {
	op           int32
	intermediate bool
}

// listRead is one read micro-op of a committed op.
type listRead struct {
	op   int32
	list []int64
}

// listAppend infers each key's version order from its reads (every read must
// be a prefix of the longest) and adds ww, wr and rw edges.
func (a *analysis) listAppend() error {
	ops := a.h.Ops
	writers := make([]map[int64]elemWriter, len(a.keys))
	reads := make([][]listRead, len(a.keys))
	for i := range ops {
		op := &ops[i]
		for j, m := range op.Mops {
			k := a.keyIDs[m.Key]
			switch m.F {
			case history.Append:
				if writers[k] == nil {
					writers[k] = make(map[int64]elemWriter)
				}
				if prev, dup := writers[k][m.Value]; dup {
					return history.Errorf(op.InvokeLine, "value %d appended to key %s again (first by the transaction invoked on line %d); appended values must be unique per key",
						m.Value, m.Key, ops[prev.op].InvokeLine)
				}
				writers[k][m.Value] = elemWriter{op: int32(i), intermediate: op.Overwritten(j)}
			case history.Read:
				if op.Type == history.OK {
					l := m.List
					if m.Nil {
						l = []int64{}
					}
					reads[k] = append(reads[k], listRead{op: int32(i), list: l})
				}
			}
		}
		if op.Type == history.OK {
			a.listInternal(op)
		}
	}
	for k := range a.keys {
		a.listKey(int32(k), writers[k], reads[k])
	}
	return nil
}

// listInternal checks that an op's reads agree with its own earlier reads and
// appends of the same key.
func (a *analysis) listInternal(op *history.Op) {
	type state struct {
		key     history.Key
		hasRead bool
		known   []int64 // whole value, once read
		suffix  []int64 // own appends before any read
	}
	var states []state
	get := func(k history.Key) *state {
		for i := range states {
			if states[i].key == k {
				return &states[i]
			}
		}
		states = append(states, state{key: k})
		return &states[len(states)-1]
	}
	for _, m := range op.Mops {
		s := get(m.Key)
		switch m.F {
		case history.Append:
			if s.hasRead {
				s.known = append(s.known, m.Value)
			} else {
				s.suffix = append(s.suffix, m.Value)
			}
		case history.Read:
			r := m.List
			switch {
			case s.hasRead && !slices.Equal(r, s.known):
				a.report(anomaly.Internal, a.keyIDs[m.Key], []int32{int32(op.Index)},
					"%s read %s = %s, but its earlier reads and appends imply %s",
					name(int32(op.Index)), m.Key, history.FormatList(r), history.FormatList(s.known))
			case !s.hasRead && len(s.suffix) > 0 && !hasSuffix(r, s.suffix):
				a.report(anomaly.Internal, a.keyIDs[m.Key], []int32{int32(op.Index)},
					"%s read %s = %s, which does not end with its own appends %s",
					name(int32(op.Index)), m.Key, history.FormatList(r), history.FormatList(s.suffix))
			}
			s.hasRead = true
			s.known = append(s.known[:0:0], r...)
		}
	}
}

func hasSuffix(l, suffix []int64) bool {
	return len(l) >= len(suffix) && slices.Equal(l[len(l)-len(suffix):], suffix)
}

// listKey checks one key's reads and adds its edges.
func (a *analysis) listKey(k int32, writers map[int64]elemWriter, reads []listRead) {
	ops := a.h.Ops
	// The longest read is the version order; ties go to the earliest op.
	var order listRead
	for _, r := range reads {
		if len(r.list) > len(order.list) {
			order = r
		}
	}
	l := order.list
	pos := make(map[int64]int32, len(l))
	dupAt := -1 // position of the first repeated element in l
	for i, v := range l {
		if _, dup := pos[v]; dup {
			if dupAt < 0 {
				dupAt = i
			}
			continue
		}
		pos[v] = int32(i)
	}
	reported := make(map[int64]bool) // elements already reported as garbage or aborted
	valid := func(v int64) (int32, bool) {
		w, ok := writers[v]
		if !ok || ops[w.op].Type == history.Fail {
			return -1, false
		}
		return w.op, true
	}
	checkElem := func(r listRead, v int64) {
		if reported[v] {
			return
		}
		w, ok := writers[v]
		switch {
		case !ok:
			reported[v] = true
			a.report(anomaly.GarbageRead, k, []int32{r.op}, "%s read %s = %s, but nobody appended %d",
				name(r.op), a.keys[k], history.FormatList(r.list), v)
		case ops[w.op].Type == history.Fail:
			reported[v] = true
			a.report(anomaly.G1a, k, []int32{r.op, w.op}, "%s read %s = %s, including %d, appended by %s, which failed",
				name(r.op), a.keys[k], history.FormatList(r.list), v, name(w.op))
		}
	}
	for _, r := range reads {
		prefix := len(r.list) <= len(l) && slices.Equal(r.list, l[:len(r.list)])
		if !prefix {
			if hasDuplicate(r.list) {
				a.report(anomaly.DuplicateElements, k, []int32{r.op}, "%s read %s = %s, which holds an element twice",
					name(r.op), a.keys[k], history.FormatList(r.list))
			} else {
				a.report(anomaly.IncompatibleOrder, k, []int32{r.op, order.op},
					"%s read %s = %s, which is not a prefix of %s's read %s",
					name(r.op), a.keys[k], history.FormatList(r.list), name(order.op), history.FormatList(l))
			}
			for _, v := range r.list {
				checkElem(r, v)
			}
		} else if dupAt >= 0 && len(r.list) > dupAt {
			a.report(anomaly.DuplicateElements, k, []int32{r.op}, "%s read %s = %s, which holds %d twice",
				name(r.op), a.keys[k], history.FormatList(r.list), l[dupAt])
		}
		if n := len(r.list); n > 0 {
			last := r.list[n-1]
			if w, ok := writers[last]; ok && w.intermediate && w.op != r.op && ops[w.op].Type != history.Fail {
				a.report(anomaly.G1b, k, []int32{r.op, w.op}, "%s read %s = %s, ending in %d, which %s overwrote by appending again in the same transaction",
					name(r.op), a.keys[k], history.FormatList(r.list), last, name(w.op))
			}
		}
	}
	for _, v := range l {
		checkElem(order, v)
	}

	// ww along the order, then from its last element to every committed
	// append no read saw.
	type elem struct {
		op int32
		v  int64
	}
	var unobserved []elem
	for v, w := range writers {
		if _, seen := pos[v]; !seen && ops[w.op].Type == history.OK {
			unobserved = append(unobserved, elem{op: w.op, v: v})
		}
	}
	slices.SortFunc(unobserved, func(a, b elem) int {
		return cmp.Or(cmp.Compare(a.op, b.op), cmp.Compare(a.v, b.v))
	})
	for i := 1; i < len(l); i++ {
		w1, ok1 := valid(l[i-1])
		w2, ok2 := valid(l[i])
		if ok1 && ok2 {
			a.addData(w1, w2, WW, why{key: k, v1: l[i-1], v2: l[i], src: srcListOrder, by: order.op})
		}
	}
	if n := len(l); n > 0 {
		if wl, ok := valid(l[n-1]); ok {
			for _, u := range unobserved {
				a.addData(wl, u.op, WW, why{key: k, v1: l[n-1], v2: u.v, src: srcUnobserved, by: order.op})
			}
		}
	}
	// wr from the writer of each read's last element; rw to the writer of
	// the element after it (or to every unobserved append).
	for _, r := range reads {
		n := len(r.list)
		if n > len(l) || !slices.Equal(r.list, l[:n]) {
			continue
		}
		w := why{key: k, src: srcListOrder, by: r.op, nil1: n == 0}
		if n > 0 {
			w.v1 = l[n-1]
			if wo, ok := valid(l[n-1]); ok {
				a.addData(wo, r.op, WR, w)
			}
		}
		kind := RW
		if n == 0 {
			kind = RWAbsent
		}
		if n < len(l) {
			if wo, ok := valid(l[n]); ok {
				w.v2 = l[n]
				a.addData(r.op, wo, kind, w)
			}
			continue
		}
		w.src = srcUnobserved
		for _, u := range unobserved {
			w.v2 = u.v
			a.addData(r.op, u.op, kind, w)
		}
	}
}

func hasDuplicate(l []int64) bool {
	seen := make(map[int64]struct{}, len(l))
	for _, v := range l {
		if _, ok := seen[v]; ok {
			return true
		}
		seen[v] = struct{}{}
	}
	return false
}
