package checker

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/meridiandb/meridian/checker/anomaly"
	"github.com/meridiandb/meridian/checker/history"
	"github.com/meridiandb/meridian/checker/internal/sim"
	"github.com/meridiandb/meridian/checker/workload"
)

var kinds = []struct {
	kind     workload.Kind
	workload Workload
}{
	{workload.ListAppend, ListAppend},
	{workload.Register, Register},
	{workload.Bank, Bank},
}

func simConfig(seed uint64, kind workload.Kind) sim.Config {
	r := rand.New(rand.NewPCG(seed, uint64(kind)))
	return sim.Config{
		Kind:      kind,
		Processes: 1 + r.IntN(10),
		Txns:      100 + r.IntN(300),
		Rand:      r,
		Gen:       workload.GenOptions{ActiveKeys: 2 + r.IntN(8), MaxWritesPerKey: 4 + r.IntN(30)},
		FailProb:  0.05,
		InfoProb:  0.05,
		CommitTS:  seed%2 == 0,
	}
}

func mustParse(t *testing.T, b []byte) *history.History {
	t.Helper()
	h, err := history.Parse(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("simulated history does not parse: %v", err)
	}
	return h
}

func check(t *testing.T, h *history.History, w Workload) *Result {
	t.Helper()
	res, err := Check(h, Options{Workload: w})
	if err != nil {
		t.Fatalf("check: %v", err)
	}
	return res
}

func report(r *Result) string {
	var b strings.Builder
	_ = r.WriteText(&b, 3)
	return b.String()
}

// TestRandomized: histories of a serial database always pass; the same
// histories with one injected anomaly are always caught.
func TestRandomized(t *testing.T) {
	seeds := 30
	if testing.Short() {
		seeds = 5
	}
	injected := map[string]int{}
	defer func() {
		// The injections must actually happen, not just pass vacuously.
		for _, name := range []string{"list-append stale", "rw-register stale", "bank stale", "lost append"} {
			if injected[name] < seeds/2 {
				t.Errorf("%s injected in only %d of %d histories", name, injected[name], seeds)
			}
		}
	}()
	for seed := range uint64(seeds) {
		for _, k := range kinds {
			t.Run(fmt.Sprintf("%s/seed=%d", k.kind, seed), func(t *testing.T) {
				cfg := simConfig(seed, k.kind)
				data := sim.Encode(sim.Run(cfg))
				if res := check(t, mustParse(t, data), k.workload); !res.Valid {
					t.Fatalf("serial history flagged:\n%s", report(res))
				}
				r := rand.New(rand.NewPCG(seed, 99))

				h := mustParse(t, data)
				// Bank transfers' reads may follow indeterminate transfers whose
				// written balances nobody knows; bank reads never do.
				if desc, ok := injectStaleRead(h, r, k.kind == workload.Bank); ok {
					injected[k.kind.String()+" stale"]++
					if res := check(t, h, k.workload); res.Valid {
						t.Errorf("stale read not caught: %s", desc)
					}
				}
				if k.kind == workload.ListAppend {
					h := mustParse(t, data)
					if desc, ok := injectLostAppend(h, r); ok {
						injected["lost append"]++
						if res := check(t, h, k.workload); res.Valid {
							t.Errorf("lost append not caught: %s", desc)
						}
					}
				}
				if k.kind != workload.Bank {
					cfg := simConfig(seed, k.kind)
					cfg.WriteSkewAt = cfg.Txns / 2
					res := check(t, mustParse(t, sim.Encode(sim.Run(cfg))), k.workload)
					if res.Valid {
						t.Fatalf("write skew not caught")
					}
					if !slices.ContainsFunc(res.countNames(), func(n string) bool { return strings.HasPrefix(n, anomaly.G2) }) {
						t.Errorf("write skew not named G2 or G2-item:\n%s", report(res))
					}
				}
			})
		}
	}
}

// committedBefore reports whether op a completed before op b was invoked.
func committedBefore(a, b *history.Op) bool {
	return a.Type == history.OK && a.CompleteEvent < b.InvokeEvent
}

// firstTouch reports whether mop j is op's first micro-op on its key.
func firstTouch(op *history.Op, j int) bool {
	for _, m := range op.Mops[:j] {
		if m.Key == op.Mops[j].Key {
			return false
		}
	}
	return true
}

// injectStaleRead makes one committed read return the state from before a
// write that completed before the reader was invoked; readOnly restricts it
// to read-only transactions.
func injectStaleRead(h *history.History, r *rand.Rand, readOnly bool) (string, bool) {
	type cand struct {
		op, mop int
		list    []int64 // list-append: the stale value
		value   int64   // register or bank: the stale value
		isNil   bool
	}
	var cands []cand
	ops := h.Ops
	// Register writes by key: ok ops' final writes, in invocation order; and,
	// for bank, the value each transfer read before writing.
	type write struct {
		op       int
		value    int64
		before   int64 // bank: value read before the write
		isBefore bool
	}
	writes := map[history.Key][]write{}
	for i := range ops {
		if ops[i].Type != history.OK {
			continue
		}
		last := map[history.Key]int{}
		for j, m := range ops[i].Mops {
			if m.F == history.Write {
				last[m.Key] = j
			}
		}
		for j, m := range ops[i].Mops {
			if m.F != history.Write || last[m.Key] != j {
				continue
			}
			w := write{op: i, value: m.Value}
			for _, rm := range ops[i].Mops[:j] {
				if rm.F == history.Read && rm.Key == m.Key && !rm.Nil {
					w.before, w.isBefore = rm.Value, true
				}
			}
			writes[m.Key] = append(writes[m.Key], w)
		}
	}
	for i := range ops {
		R := &ops[i]
		if R.Type != history.OK || (readOnly && !R.ReadOnly()) {
			continue
		}
		for j, m := range R.Mops {
			if m.F != history.Read || m.Nil || !firstTouch(R, j) {
				continue
			}
			switch h.Workload {
			case history.ListAppend:
				for p, e := range m.List {
					for wi := range ops {
						W := &ops[wi]
						if wi != i && committedBefore(W, R) && appends(W, m.Key, e) {
							cands = append(cands, cand{op: i, mop: j, list: slices.Clone(m.List[:p])})
						}
					}
				}
			default:
				ws := writes[m.Key]
				for a := range ws {
					for b := range ws {
						W0, W := &ops[ws[a].op], &ops[ws[b].op]
						if ws[a].op == i || ws[b].op == i || ws[a].value == m.Value {
							continue
						}
						if committedBefore(W0, W) && committedBefore(W, R) {
							cands = append(cands, cand{op: i, mop: j, value: ws[a].value})
						}
						if a == b && ws[a].isBefore && committedBefore(W, R) && ws[a].before != m.Value {
							cands = append(cands, cand{op: i, mop: j, value: ws[a].before})
						}
					}
				}
			}
		}
	}
	if len(cands) == 0 {
		return "", false
	}
	c := cands[r.IntN(len(cands))]
	m := &ops[c.op].Mops[c.mop]
	before := m.String()
	if h.Workload == history.ListAppend {
		m.List = c.list
	} else {
		m.Value = c.value
	}
	return fmt.Sprintf("%s: %s became %s", history.OpName(c.op), before, m), true
}

func appends(op *history.Op, k history.Key, v int64) bool {
	for _, m := range op.Mops {
		if m.F == history.Append && m.Key == k && m.Value == v {
			return true
		}
	}
	return false
}

// injectLostAppend removes one acknowledged append from every other
// transaction's reads, choosing one that a later transaction read.
func injectLostAppend(h *history.History, r *rand.Rand) (string, bool) {
	type cand struct {
		op int
		m  history.Mop
	}
	var cands []cand
	ops := h.Ops
	for i := range ops {
		W := &ops[i]
		if W.Type != history.OK {
			continue
		}
		for _, m := range W.Mops {
			if m.F != history.Append {
				continue
			}
			for ri := range ops {
				if ri != i && committedBefore(W, &ops[ri]) && ops[ri].Type == history.OK && reads(&ops[ri], m.Key) {
					cands = append(cands, cand{op: i, m: m})
					break
				}
			}
		}
	}
	if len(cands) == 0 {
		return "", false
	}
	c := cands[r.IntN(len(cands))]
	for i := range ops {
		if i == c.op {
			continue
		}
		for j := range ops[i].Mops {
			m := &ops[i].Mops[j]
			if m.F == history.Read && m.Key == c.m.Key && m.List != nil {
				m.List = slices.DeleteFunc(slices.Clone(m.List), func(v int64) bool { return v == c.m.Value })
			}
		}
	}
	return fmt.Sprintf("%s's %s", history.OpName(c.op), c.m), true
}

func reads(op *history.Op, k history.Key) bool {
	for _, m := range op.Mops {
		if m.F == history.Read && m.Key == k {
			return true
		}
	}
	return false
}
