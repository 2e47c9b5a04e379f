package history

import (
	"bytes"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
)

// randomMops draws micro-ops of one workload, filled in as for an ok event.
func randomMops(r *rand.Rand, list bool) []Mop {
	mops := make([]Mop, 1+r.IntN(4))
	for i := range mops {
		m := &mops[i]
		if r.IntN(2) == 0 {
			m.Key = IntKey(r.Int64N(1<<40) - 1<<39)
		} else {
			m.Key = StrKey(string([]byte{'k', byte('a' + r.IntN(26)), '"', '\\'})[:1+r.IntN(4)])
		}
		switch x := r.IntN(4); {
		case x < 2 && list:
			m.F, m.Value = Append, r.Int64()
		case x < 2:
			m.F, m.Value = Write, -r.Int64()
		case x == 2:
			m.F, m.Nil = Read, true
		case list:
			m.F = Read
			m.List = make([]int64, r.IntN(4))
			for j := range m.List {
				m.List[j] = r.Int64()
			}
		default:
			m.F, m.Value = Read, r.Int64()
		}
	}
	return mops
}

// TestRoundTrip: what AppendEvent writes, Parse reads back unchanged.
func TestRoundTrip(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for iter := range 200 {
		list := iter%2 == 0
		var buf []byte
		var want [][]Mop
		var wantTS []int64
		for i := range 1 + r.IntN(10) {
			mops := randomMops(r, list)
			inv := slices.Clone(mops)
			for j := range inv {
				if inv[j].F == Read {
					inv[j].Nil, inv[j].List, inv[j].Value = true, nil, 0
				}
			}
			ts := r.Int64()
			buf = AppendEvent(buf, Event{Type: Invoke, Process: int64(i), Time: int64(2 * i), Value: inv})
			buf = AppendEvent(buf, Event{Type: OK, Process: int64(i), Time: int64(2*i + 1), Value: mops, CommitTS: ts, HasCommitTS: true})
			want = append(want, mops)
			wantTS = append(wantTS, ts)
		}
		h, err := Parse(bytes.NewReader(buf))
		if err != nil {
			t.Fatalf("iteration %d: %v\n%s", iter, err, buf)
		}
		for i, op := range h.Ops {
			if op.Type != OK || op.InvokeLine != 2*i+1 || op.CompleteLine != 2*i+2 || op.CommitTS != wantTS[i] || !op.HasCommitTS {
				t.Fatalf("iteration %d op %d: %+v", iter, i, op)
			}
			if !slices.EqualFunc(op.Mops, want[i], mopEqual) {
				t.Fatalf("iteration %d op %d: got %v, want %v", iter, i, FormatMops(op.Mops), FormatMops(want[i]))
			}
		}
	}
}

func mopEqual(a, b Mop) bool {
	return a.F == b.F && a.Key == b.Key && a.Value == b.Value && a.Nil == b.Nil && slices.Equal(a.List, b.List) && (a.List == nil) == (b.List == nil)
}

// TestWriterConcurrent: concurrent clients produce a history whose lines
// are in clock order and that parses.
func TestWriterConcurrent(t *testing.T) {
	var buf bytes.Buffer
	var now int64
	w := NewWriter(&buf, func() int64 { now += 7; return now }) // called under the Writer's mutex
	var wg sync.WaitGroup
	for p := range 8 {
		wg.Go(func() {
			for i := range 50 {
				mops := []Mop{{F: Append, Key: IntKey(int64(p)), Value: int64(i)}}
				w.Invoke(int64(p), mops)
				w.Complete(OK, int64(p), mops, 0, false)
			}
		})
	}
	wg.Wait()
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	h, err := Parse(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if len(h.Ops) != 400 || len(h.Events) != 800 {
		t.Fatalf("%d ops, %d events", len(h.Ops), len(h.Events))
	}
}
