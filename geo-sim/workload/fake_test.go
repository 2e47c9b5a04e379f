package workload

import (
	"bytes"
	"context"
	"database/sql"
	"slices"
	"sort"
	"sync"

	"github.com/meridiandb/meridian/truetime"
	"github.com/meridiandb/meridian/txn"
)

// store is an in-memory database behind the fakes: transactions run one
// at a time (Begin takes the lock, Commit or Rollback releases it), so
// it is trivially serializable.
type store struct {
	txnMu sync.Mutex // held by the running transaction
	mu    sync.Mutex
	data  map[string][]byte
	ts    truetime.Timestamp
	log   []string // ops seen, for determinism checks
}

func newStore() *store { return &store{data: map[string][]byte{}} }

func (s *store) note(op string, key []byte) {
	s.mu.Lock()
	s.log = append(s.log, op+" "+string(key))
	s.mu.Unlock()
}

type fakeGW struct {
	s      *store
	region string
	noTxn  bool
}

func (g *fakeGW) Region() string { return g.region }
func (g *fakeGW) Node() int      { return 1 }
func (g *fakeGW) KV() KV         { return fakeKV{g.s} }
func (g *fakeGW) SQL() (*sql.DB, error) {
	return nil, ErrNeedsSQL
}
func (g *fakeGW) Txn() (txn.DB, error) {
	if g.noTxn {
		return nil, ErrNeedsTxnLayer
	}
	return fakeDB{g.s}, nil
}

type fakeKV struct{ s *store }

func (k fakeKV) Put(_ context.Context, key, value []byte) (truetime.Timestamp, error) {
	k.s.note("put", key)
	k.s.mu.Lock()
	defer k.s.mu.Unlock()
	k.s.ts++
	k.s.data[string(key)] = slices.Clone(value)
	return k.s.ts, nil
}

func (k fakeKV) Get(_ context.Context, key []byte) ([]byte, bool, error) {
	k.s.note("get", key)
	k.s.mu.Lock()
	defer k.s.mu.Unlock()
	v, ok := k.s.data[string(key)]
	return v, ok, nil
}

func (k fakeKV) ReadAt(ctx context.Context, key []byte, _ truetime.Timestamp, _ bool) ([]byte, bool, error) {
	return k.Get(ctx, key)
}

func (k fakeKV) Now() truetime.Interval { return truetime.Interval{Earliest: 1e18, Latest: 1e18 + 1} }

type fakeDB struct{ s *store }

func (d fakeDB) Clock() truetime.Clock { return nil }

func (d fakeDB) Begin(_ context.Context, o txn.Options) (txn.Txn, error) {
	d.s.txnMu.Lock()
	return &fakeTxn{s: d.s, mode: o.Mode, writes: map[string][]byte{}}, nil
}

type fakeTxn struct {
	s      *store
	mode   txn.Mode
	writes map[string][]byte
	done   bool
}

func (t *fakeTxn) ID() string                        { return "fake" }
func (t *fakeTxn) Mode() txn.Mode                    { return t.mode }
func (t *fakeTxn) ReadTimestamp() truetime.Timestamp { return 0 }
func (t *fakeTxn) Ledger() txn.Ledger                { return txn.Ledger{Total: 3, Raft: 2, Ranges: 1} }

func (t *fakeTxn) Get(_ context.Context, key []byte, _ txn.ReadOptions) ([]byte, bool, error) {
	if v, ok := t.writes[string(key)]; ok {
		return v, true, nil
	}
	t.s.mu.Lock()
	defer t.s.mu.Unlock()
	v, ok := t.s.data[string(key)]
	return v, ok, nil
}

func (t *fakeTxn) Scan(_ context.Context, span txn.Span, _ txn.ScanOptions) (txn.ScanResult, error) {
	t.s.mu.Lock()
	defer t.s.mu.Unlock()
	var r txn.ScanResult
	for k, v := range t.s.data {
		if bytes.Compare([]byte(k), span.Key) >= 0 && bytes.Compare([]byte(k), span.EndKey) < 0 {
			r.Rows = append(r.Rows, txn.KeyValue{Key: []byte(k), Value: v})
		}
	}
	sort.Slice(r.Rows, func(i, j int) bool { return bytes.Compare(r.Rows[i].Key, r.Rows[j].Key) < 0 })
	return r, nil
}

func (t *fakeTxn) Put(_ context.Context, key, value []byte) error {
	if t.mode != txn.ReadWrite {
		return txn.ErrReadOnly
	}
	t.writes[string(key)] = slices.Clone(value)
	return nil
}

func (t *fakeTxn) Delete(context.Context, []byte) error { return nil }

func (t *fakeTxn) Commit(context.Context) (truetime.Timestamp, error) {
	if t.done {
		return 0, txn.ErrFinished
	}
	t.done = true
	t.s.mu.Lock()
	for k, v := range t.writes {
		t.s.data[k] = v
	}
	t.s.ts++
	ts := t.s.ts
	t.s.mu.Unlock()
	t.s.txnMu.Unlock()
	return ts, nil
}

func (t *fakeTxn) Rollback(context.Context) error {
	if !t.done {
		t.done = true
		t.s.txnMu.Unlock()
	}
	return nil
}
