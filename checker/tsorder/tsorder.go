package tsorder

import (
	"cmp"
	"fmt"
	"slices"
	"sort"

	"github.com/meridiandb/meridian/checker/anomaly"
	"github.com/meridiandb/meridian/checker/history"
)

// Result is what Check found.
type Result struct {
	Anomalies []anomaly.Anomaly
	Notes     []string
}

// Check runs both timestamp checks, if any ok op carries a commit_ts.
func Check(h *history.History) *Result {
	r := &Result{}
	with, without := 0, 0
	for i := range h.Ops {
		if h.Ops[i].Type == history.OK {
			if h.Ops[i].HasCommitTS {
				with++
			} else {
				without++
			}
		}
	}
	if with == 0 {
		r.Notes = append(r.Notes, "commit timestamps: none in the history, not checked")
		return r
	}
	if without > 0 {
		r.Notes = append(r.Notes, fmt.Sprintf("commit timestamps: %d ok transactions lack commit_ts; their writes are not placed", without))
	}
	r.realtime(h)
	r.reads(h)
	r.Notes = append(r.Notes, fmt.Sprintf("commit timestamps: %d committed transactions checked against real time and against their reads", with))
	return r
}

func name(i int) string { return history.OpName(i) }

// realtime checks that each op's timestamp is at least the greatest among
// the ops with writes that completed before it was invoked.
func (r *Result) realtime(h *history.History) {
	best := -1 // completed op with the greatest timestamp so far
	for _, ev := range h.Events {
		op := &h.Ops[ev.Op]
		if op.Type != history.OK || !op.HasCommitTS {
			continue
		}
		if ev.Complete {
			if op.ReadOnly() {
				// A read-only transaction does not wait out its
				// timestamp, which may lie ahead of real time; what it
				// read is checked against timestamp order instead.
				continue
			}
			if best < 0 || op.CommitTS > h.Ops[best].CommitTS {
				best = int(ev.Op)
			}
			continue
		}
		if best < 0 {
			continue
		}
		b := &h.Ops[best]
		if b.CommitTS > op.CommitTS || (b.CommitTS == op.CommitTS && !op.ReadOnly()) {
			r.Anomalies = append(r.Anomalies, anomaly.Anomaly{
				Type: anomaly.TimestampRealtime,
				Ops:  []int{best, op.Index},
				Detail: fmt.Sprintf("%s completed (line %d, commit_ts %d) before %s was invoked (line %d), yet %s has commit_ts %d",
					name(best), b.CompleteLine, b.CommitTS, name(op.Index), op.InvokeLine, name(op.Index), op.CommitTS),
			})
		}
	}
}

// placed is a write by an op with a known timestamp.
type placed struct {
	ts    int64
	op    int32
	value int64
}

// reads replays committed writes in timestamp order and compares each read.
func (r *Result) reads(h *history.History) {
	known := func(op *history.Op) bool { return op.Type == history.OK && op.HasCommitTS }
	writes := map[history.Key][]placed{}
	unplaced := map[history.Key]map[int64]bool{} // values written by ops without a timestamp
	unknownWrites := map[history.Key]bool{}      // keys written with a value nobody learned
	for i := range h.Ops {
		op := &h.Ops[i]
		for j, m := range op.Mops {
			if m.F == history.Read {
				continue
			}
			if !known(op) {
				if op.Type != history.Fail && m.Nil {
					unknownWrites[m.Key] = true
				} else if op.Type != history.Fail {
					if unplaced[m.Key] == nil {
						unplaced[m.Key] = map[int64]bool{}
					}
					unplaced[m.Key][m.Value] = true
				}
				continue
			}
			if m.F == history.Write && op.Overwritten(j) {
				continue // only a transaction's last write of a key is visible
			}
			writes[m.Key] = append(writes[m.Key], placed{ts: op.CommitTS, op: int32(i), value: m.Value})
		}
	}
	keys := make([]history.Key, 0, len(writes))
	for k, ws := range writes {
		slices.SortStableFunc(ws, func(a, b placed) int { return cmp.Compare(a.ts, b.ts) })
		keys = append(keys, k)
	}
	slices.SortFunc(keys, history.Key.Compare)
	for _, k := range keys {
		ws := writes[k]
		for i := 1; i < len(ws); i++ {
			if ws[i].ts == ws[i-1].ts && ws[i].op != ws[i-1].op {
				r.Anomalies = append(r.Anomalies, anomaly.Anomaly{
					Type: anomaly.TimestampConflict, Key: k.String(), Ops: []int{int(ws[i-1].op), int(ws[i].op)},
					Detail: fmt.Sprintf("%s and %s both wrote %s at commit_ts %d", name(int(ws[i-1].op)), name(int(ws[i].op)), k, ws[i].ts),
				})
			}
		}
	}
	for i := range h.Ops {
		op := &h.Ops[i]
		if !known(op) {
			continue
		}
		ro := op.ReadOnly()
		// visible counts the writes of key k the op sees at its timestamp.
		visible := func(ws []placed) int {
			return sort.Search(len(ws), func(j int) bool {
				return ws[j].ts > op.CommitTS || (ws[j].ts == op.CommitTS && !ro)
			})
		}
		var own []history.Key
		for _, m := range op.Mops {
			if m.F != history.Read {
				own = append(own, m.Key)
				continue
			}
			if slices.Contains(own, m.Key) {
				continue
			}
			ws := writes[m.Key][:visible(writes[m.Key])]
			if h.Workload == history.ListAppend {
				r.checkList(op, m, ws, unplaced[m.Key])
			} else {
				r.checkRegister(op, m, ws, unplaced[m.Key], unknownWrites[m.Key])
			}
		}
	}
}

func (r *Result) checkList(op *history.Op, m history.Mop, ws []placed, unplaced map[int64]bool) {
	var got []int64
	for _, v := range m.List {
		if !unplaced[v] {
			got = append(got, v)
		}
	}
	want := make([]int64, 0, len(ws))
	for _, w := range ws {
		want = append(want, w.value)
	}
	if slices.Equal(got, want) {
		return
	}
	r.Anomalies = append(r.Anomalies, anomaly.Anomaly{
		Type: anomaly.TimestampRead, Key: m.Key.String(), Ops: []int{op.Index},
		Detail: fmt.Sprintf("%s (commit_ts %d) read %s = %s, but the appends ordered by timestamp give %s",
			name(op.Index), op.CommitTS, m.Key, history.FormatList(m.List), history.FormatList(want)),
	})
}

func (r *Result) checkRegister(op *history.Op, m history.Mop, ws []placed, unplaced map[int64]bool, unknown bool) {
	if (!m.Nil && unplaced[m.Value]) || unknown {
		return
	}
	wantNil := len(ws) == 0
	var want int64
	if !wantNil {
		want = ws[len(ws)-1].value
	}
	if m.Nil == wantNil && (wantNil || m.Value == want) {
		return
	}
	wantS := "nil"
	ops := []int{op.Index}
	if !wantNil {
		wantS = fmt.Sprintf("%d (written by %s at commit_ts %d)", want, name(int(ws[len(ws)-1].op)), ws[len(ws)-1].ts)
		ops = append(ops, int(ws[len(ws)-1].op))
	}
	got := "nil"
	if !m.Nil {
		got = fmt.Sprint(m.Value)
	}
	r.Anomalies = append(r.Anomalies, anomaly.Anomaly{
		Type: anomaly.TimestampRead, Key: m.Key.String(), Ops: ops,
		Detail: fmt.Sprintf("%s (commit_ts %d) read %s = %s, but the writes ordered by timestamp give %s",
			name(op.Index), op.CommitTS, m.Key, got, wantS),
	})
}
