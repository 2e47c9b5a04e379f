package storage

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"slices"
	"sort"
	"testing"

	"github.com/cockroachdb/pebble/v2/vfs"
)

// model is the reference: for each key, its versions by timestamp (nil data
// means a tombstone).
type model map[string]map[int64][]byte

func (m model) get(key string, ts int64) ([]byte, int64, bool) {
	var best int64
	for vts := range m[key] {
		if vts <= ts && vts > best {
			best = vts
		}
	}
	if best == 0 || m[key][best] == nil {
		return nil, 0, false
	}
	return m[key][best], best, true
}

func (m model) scan(start, end string, ts int64, reverse bool) []KeyValue {
	var keys []string
	for k := range m {
		if k >= start && k < end {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	if reverse {
		slices.Reverse(keys)
	}
	var out []KeyValue
	for _, k := range keys {
		if v, vts, ok := m.get(k, ts); ok {
			out = append(out, KeyValue{Key: []byte(k), Timestamp: vts, Value: v})
		}
	}
	return out
}

// TestDifferentialAgainstModel applies random writes, clears and GCs to the
// engine and to the model and compares every read.
func TestDifferentialAgainstModel(t *testing.T) {
	for seed := uint64(0); seed < 8; seed++ {
		t.Run(fmt.Sprint("seed=", seed), func(t *testing.T) { runDifferential(t, seed) })
	}
}

func runDifferential(t *testing.T, seed uint64) {
	r := rand.New(rand.NewPCG(seed, 99))
	e, err := Open(Options{Dir: "db", FS: vfs.NewMem(), MemTableBytes: 256 << 10})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	m := model{}
	randKey := func() string {
		return string([]byte{'k', byte('a' + r.IntN(12)), byte('a' + r.IntN(3))})[:2+r.IntN(2)]
	}
	randTS := func() int64 { return 1 + r.Int64N(60) }
	var gcThreshold int64 // reads below it are not compared
	for step := 0; step < 3000; step++ {
		switch op := r.IntN(100); {
		case op < 45: // a batch of writes
			b := e.NewBatch()
			n := 1 + r.IntN(5)
			type w struct {
				k    string
				ts   int64
				data []byte
			}
			var ws []w
			for i := 0; i < n; i++ {
				k, ts := randKey(), max(randTS(), gcThreshold+1)
				var data []byte
				if r.IntN(4) > 0 {
					data = []byte(fmt.Sprintf("v%d-%d", step, i))
					if err := b.PutMVCC([]byte(k), ts, data); err != nil {
						t.Fatal(err)
					}
				} else if err := b.DeleteMVCC([]byte(k), ts); err != nil {
					t.Fatal(err)
				}
				ws = append(ws, w{k, ts, data})
			}
			if err := b.Commit(r.IntN(2) == 0); err != nil {
				t.Fatal(err)
			}
			b.Close()
			for _, x := range ws {
				if m[x.k] == nil {
					m[x.k] = map[int64][]byte{}
				}
				m[x.k][x.ts] = x.data
			}
		case op < 47: // clear a span
			s, e2 := randKey(), randKey()
			if s >= e2 {
				continue
			}
			b := e.NewBatch()
			if err := b.ClearMVCCRange([]byte(s), []byte(e2)); err != nil {
				t.Fatal(err)
			}
			if err := b.Commit(false); err != nil {
				t.Fatal(err)
			}
			b.Close()
			for k := range m {
				if k >= s && k < e2 {
					delete(m, k)
				}
			}
		case op < 49: // GC everything below a threshold
			th := gcThreshold + r.Int64N(5)
			if th == 0 {
				continue
			}
			b := e.NewBatch()
			if _, err := GC(e, b, []byte("k"), []byte("l"), th); err != nil {
				t.Fatal(err)
			}
			if err := b.Commit(false); err != nil {
				t.Fatal(err)
			}
			b.Close()
			gcThreshold = th
		case op < 52:
			if err := e.Flush(); err != nil {
				t.Fatal(err)
			}
		case op < 75: // point read
			k, ts := randKey(), max(randTS(), gcThreshold)
			kv, found, err := e.MVCCGet([]byte(k), ts)
			if err != nil {
				t.Fatal(err)
			}
			want, wts, ok := m.get(k, ts)
			if found != ok || (ok && (!bytes.Equal(kv.Value, want) || kv.Timestamp != wts)) {
				t.Fatalf("step %d: get %s@%d = %q@%d (found %v), model %q@%d (found %v)",
					step, k, ts, kv.Value, kv.Timestamp, found, want, wts, ok)
			}
		default: // scan, possibly in pages
			s, end := randKey(), randKey()
			if s > end {
				s, end = end, s
			}
			ts := max(randTS(), gcThreshold)
			reverse := r.IntN(2) == 0
			opts := ScanOptions{Reverse: reverse}
			if r.IntN(2) == 0 {
				opts.MaxRows = 1 + r.IntN(3)
			}
			if r.IntN(3) == 0 {
				opts.MaxBytes = 1 + r.IntN(12)
			}
			var got []KeyValue
			span := Span{Key: []byte(s), EndKey: []byte(end)}
			for pages := 0; ; pages++ {
				res, err := e.MVCCScan(span.Key, span.EndKey, ts, opts)
				if err != nil {
					t.Fatal(err)
				}
				if opts.MaxRows > 0 && len(res.Rows) > opts.MaxRows {
					t.Fatalf("scan returned %d rows, limit %d", len(res.Rows), opts.MaxRows)
				}
				got = append(got, res.Rows...)
				if res.ResumeSpan == nil {
					break
				}
				if len(res.Rows) == 0 || pages > 100 {
					t.Fatalf("scan makes no progress: resume %+v", res.ResumeSpan)
				}
				span = *res.ResumeSpan
			}
			want := m.scan(s, end, ts, reverse)
			if fmt.Sprint(kvStrings(got)) != fmt.Sprint(kvStrings(want)) {
				t.Fatalf("step %d: scan [%s,%s)@%d reverse=%v limits=%+v\n got %v\nwant %v",
					step, s, end, ts, reverse, opts, kvStrings(got), kvStrings(want))
			}
		}
	}
}

func kvStrings(kvs []KeyValue) []string {
	var out []string
	for _, kv := range kvs {
		out = append(out, fmt.Sprintf("%s@%d=%s", kv.Key, kv.Timestamp, kv.Value))
	}
	return out
}
