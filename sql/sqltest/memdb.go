package sqltest

import (
	"bytes"
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/RaduBerinde/btreemap"
	"github.com/meridiandb/meridian/truetime"
	"github.com/meridiandb/meridian/txn"
)

// MemDBOptions configure a MemDB.
type MemDBOptions struct {
	// Clock gives commit and read timestamps. Required.
	Clock truetime.Clock
	// NoCommitWait skips waiting out the clock uncertainty after choosing a
	// commit timestamp (useful with a ManualClock). Timestamps stay
	// monotonic either way: MemDB never assigns a commit timestamp at or
	// below one it has already served reads at.
	NoCommitWait bool
	// LockTimeout is the default lock wait timeout. Default 5s.
	LockTimeout time.Duration
	// OnCommit, if set, is called with every read-write commit's timestamp
	// and writes (Value nil for deletions), under MemDB's lock: it must not
	// call back into the MemDB.
	OnCommit func(ts truetime.Timestamp, writes []txn.KeyValue)
}

// MemDB is an in-memory, strictly serializable txn.DB for tests: a B-tree of
// multi-version values under one mutex, strict two-phase locking with
// shared and exclusive span locks and wound-wait, commit timestamps from the
// injected clock, snapshot reads for read-only and stale transactions.
// It is a test double, not a storage engine: versions are never collected.
type MemDB struct {
	opts MemDBOptions

	mu struct {
		sync.Mutex
		data    *btreemap.BTreeMap[string, []version]
		locks   []*lock
		nextSeq uint64
		// maxTS is the highest timestamp assigned to a commit or served to
		// a snapshot read; new commits go above it.
		maxTS truetime.Timestamp
		// changed is closed (and replaced) whenever locks are released or
		// a transaction is wounded.
		changed chan struct{}
	}
}

type version struct {
	ts      truetime.Timestamp
	value   []byte
	deleted bool
}

type lock struct {
	owner     *memTxn
	key, end  []byte // [key, end)
	exclusive bool
}

var _ txn.DB = (*MemDB)(nil)

// NewMemDB returns an empty MemDB.
func NewMemDB(opts MemDBOptions) *MemDB {
	if opts.LockTimeout == 0 {
		opts.LockTimeout = 5 * time.Second
	}
	db := &MemDB{opts: opts}
	db.mu.data = btreemap.New[string, []version](16, func(a, b string) int {
		return bytesCompareStrings(a, b)
	})
	db.mu.changed = make(chan struct{})
	return db
}

func bytesCompareStrings(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// Clock returns the clock.
func (db *MemDB) Clock() truetime.Clock { return db.opts.Clock }

// Begin starts a transaction.
func (db *MemDB) Begin(ctx context.Context, opts txn.Options) (txn.Txn, error) {
	db.mu.Lock()
	defer db.mu.Unlock()
	db.mu.nextSeq++
	t := &memTxn{db: db, seq: db.mu.nextSeq, mode: opts.Mode, start: truetime.Mono()}
	t.lockTimeout = opts.LockTimeout
	if t.lockTimeout == 0 {
		t.lockTimeout = db.opts.LockTimeout
	}
	switch opts.Mode {
	case txn.ReadOnly:
		ts := db.opts.Clock.Now().Latest
		t.readTS = max(ts, db.mu.maxTS)
		db.mu.maxTS = t.readTS
	case txn.Stale:
		ts := opts.ReadTimestamp
		if ts == 0 {
			ts = db.opts.Clock.Now().Earliest - truetime.Timestamp(opts.MaxStaleness)
		}
		t.readTS = ts
		if ts > db.mu.maxTS {
			db.mu.maxTS = ts
		}
	}
	return t, nil
}

// memTxn is one MemDB transaction.
type memTxn struct {
	db          *MemDB
	seq         uint64 // lower is older (wins under wound-wait)
	mode        txn.Mode
	readTS      truetime.Timestamp
	lockTimeout time.Duration
	start       time.Duration
	lockWait    time.Duration
	commitWait  time.Duration

	// Guarded by db.mu.
	writes  *btreemap.BTreeMap[string, *[]byte] // nil value pointer target = delete
	wounded *txn.RetryableError
	done    bool
	// deadline, if not zero, is the latest commit timestamp allowed.
	deadline truetime.Timestamp
}

// SetDeadline implements catalog.Deadliner: Commit fails with a
// retryable error, without effects, if its timestamp would be past ts.
func (t *memTxn) SetDeadline(ts truetime.Timestamp) {
	t.db.mu.Lock()
	defer t.db.mu.Unlock()
	t.deadline = ts
}

func (t *memTxn) ID() string     { return fmt.Sprintf("mem-%d", t.seq) }
func (t *memTxn) Mode() txn.Mode { return t.mode }
func (t *memTxn) ReadTimestamp() truetime.Timestamp {
	return t.readTS
}

func (t *memTxn) Ledger() txn.Ledger {
	return txn.Ledger{Total: truetime.Mono() - t.start, LockWait: t.lockWait, CommitWait: t.commitWait, Ranges: 1}
}

// checkLocked returns an error if the transaction can no longer be used.
func (t *memTxn) checkLocked() error {
	if t.done {
		return txn.ErrFinished
	}
	if t.wounded != nil {
		return t.wounded
	}
	return nil
}

// acquire takes a lock on [key, end), waiting (wound-wait) for conflicting
// locks. Called and returns with db.mu held.
func (t *memTxn) acquireLocked(ctx context.Context, key, end []byte, exclusive bool) error {
	_, err := t.acquireWaitLocked(ctx, key, end, exclusive)
	return err
}

// acquireWaitLocked is acquireLocked that also reports whether it released
// db.mu to wait.
func (t *memTxn) acquireWaitLocked(ctx context.Context, key, end []byte, exclusive bool) (waited bool, _ error) {
	db := t.db
	var deadline <-chan time.Time
	var timer *time.Timer
	defer func() {
		if timer != nil {
			timer.Stop()
		}
	}()
	for {
		if err := t.checkLocked(); err != nil {
			return waited, err
		}
		var blocker *lock
		covered := false
		for _, l := range db.mu.locks {
			if bytes.Compare(l.key, end) >= 0 || bytes.Compare(key, l.end) >= 0 {
				continue
			}
			if l.owner == t {
				if (l.exclusive || !exclusive) && bytes.Compare(l.key, key) <= 0 && bytes.Compare(end, l.end) <= 0 {
					covered = true
				}
				continue
			}
			if !l.exclusive && !exclusive {
				continue
			}
			if blocker == nil || l.owner.seq < blocker.owner.seq {
				blocker = l
			}
		}
		if blocker == nil {
			if !covered {
				db.mu.locks = append(db.mu.locks, &lock{owner: t, key: bytes.Clone(key), end: bytes.Clone(end), exclusive: exclusive})
			}
			return waited, nil
		}
		if t.seq < blocker.owner.seq && !blocker.owner.done {
			// Older wounds younger: abort the holder and release its locks.
			// (A holder that is committing cannot be wounded; wait for it.)
			blocker.owner.woundLocked(&txn.RetryableError{Txn: blocker.owner.ID(), OtherTxn: t.ID(), Key: bytes.Clone(key), Reason: "wounded by an older transaction"})
			continue
		}
		// Younger waits.
		if deadline == nil {
			timer = time.NewTimer(t.lockTimeout)
			deadline = timer.C
		}
		ch := db.mu.changed
		begin := truetime.Mono()
		db.mu.Unlock()
		var err error
		select {
		case <-ch:
		case <-ctx.Done():
			err = ctx.Err()
		case <-deadline:
			err = &txn.RetryableError{Txn: t.ID(), OtherTxn: blocker.owner.ID(), Key: bytes.Clone(key), Reason: "lock wait timeout", Timeout: true}
		}
		db.mu.Lock()
		waited = true
		t.lockWait += truetime.Mono() - begin
		if err != nil {
			return waited, err
		}
	}
}

func (t *memTxn) woundLocked(err *txn.RetryableError) {
	if t.wounded == nil && !t.done {
		t.wounded = err
		t.writes = nil
		t.releaseLocked()
	}
}

func (t *memTxn) releaseLocked() {
	db := t.db
	kept := db.mu.locks[:0]
	for _, l := range db.mu.locks {
		if l.owner != t {
			kept = append(kept, l)
		}
	}
	for i := len(kept); i < len(db.mu.locks); i++ {
		db.mu.locks[i] = nil
	}
	db.mu.locks = kept
	close(db.mu.changed)
	db.mu.changed = make(chan struct{})
}

// visibleLocked returns the value of key visible to t.
func (t *memTxn) visibleLocked(key string) ([]byte, bool) {
	if t.writes != nil {
		if _, w, ok := t.writes.Get(key); ok {
			if w == nil {
				return nil, false
			}
			return *w, true
		}
	}
	_, vs, ok := t.db.mu.data.Get(key)
	if !ok {
		return nil, false
	}
	return t.pickLocked(vs)
}

func (t *memTxn) pickLocked(vs []version) ([]byte, bool) {
	for i := len(vs) - 1; i >= 0; i-- {
		if t.mode == txn.ReadWrite || vs[i].ts <= t.readTS {
			if vs[i].deleted {
				return nil, false
			}
			return vs[i].value, true
		}
	}
	return nil, false
}

func keyEnd(k []byte) []byte { return append(bytes.Clone(k), 0) }

func (t *memTxn) Get(ctx context.Context, key []byte, opts txn.ReadOptions) ([]byte, bool, error) {
	db := t.db
	db.mu.Lock()
	defer db.mu.Unlock()
	if err := t.checkLocked(); err != nil {
		return nil, false, err
	}
	if t.mode == txn.ReadWrite {
		if err := t.acquireLocked(ctx, key, keyEnd(key), opts.ForUpdate); err != nil {
			return nil, false, err
		}
	}
	v, ok := t.visibleLocked(string(key))
	return bytes.Clone(v), ok, nil
}

func (t *memTxn) Scan(ctx context.Context, span txn.Span, opts txn.ScanOptions) (txn.ScanResult, error) {
	db := t.db
	db.mu.Lock()
	defer db.mu.Unlock()
	if err := t.checkLocked(); err != nil {
		return txn.ScanResult{}, err
	}
	if bytes.Compare(span.Key, span.EndKey) >= 0 {
		return txn.ScanResult{}, nil
	}
	for {
		res, scanned := t.scanLocked(span, opts)
		if t.mode != txn.ReadWrite {
			return res, nil
		}
		waited, err := t.acquireWaitLocked(ctx, scanned.Key, scanned.EndKey, opts.ForUpdate)
		if err != nil {
			return txn.ScanResult{}, err
		}
		if !waited {
			return res, nil
		}
		// The lock wait let writers in: scan again under the lock.
	}
}

// scanLocked reads span as t sees it and returns the rows and the part of
// the span that was scanned.
func (t *memTxn) scanLocked(span txn.Span, opts txn.ScanOptions) (txn.ScanResult, txn.Span) {
	var res txn.ScanResult
	var last []byte
	keys := t.mergedKeysLocked(string(span.Key), string(span.EndKey), opts.Reverse)
	stopped := false
	for _, k := range keys {
		v, ok := t.visibleLocked(k)
		if ok {
			res.Rows = append(res.Rows, txn.KeyValue{Key: []byte(k), Value: bytes.Clone(v)})
		}
		last = []byte(k)
		if opts.MaxRows > 0 && len(res.Rows) >= opts.MaxRows {
			stopped = true
			break
		}
	}
	scanned := span
	if stopped {
		if opts.Reverse {
			scanned = txn.Span{Key: last, EndKey: span.EndKey}
			if bytes.Compare(span.Key, last) < 0 {
				res.Resume = &txn.Span{Key: bytes.Clone(span.Key), EndKey: bytes.Clone(last)}
			}
		} else {
			scanned = txn.Span{Key: span.Key, EndKey: keyEnd(last)}
			if bytes.Compare(keyEnd(last), span.EndKey) < 0 {
				res.Resume = &txn.Span{Key: keyEnd(last), EndKey: bytes.Clone(span.EndKey)}
			}
		}
	}
	return res, scanned
}

// mergedKeysLocked returns the keys in [lo, hi) present in the data or the
// write buffer, in order (reverse if asked).
func (t *memTxn) mergedKeysLocked(lo, hi string, reverse bool) []string {
	var a, b []string
	for k := range t.db.mu.data.Ascend(btreemap.GE(lo), btreemap.LT(hi)) {
		a = append(a, k)
	}
	if t.writes != nil {
		for k := range t.writes.Ascend(btreemap.GE(lo), btreemap.LT(hi)) {
			b = append(b, k)
		}
	}
	out := make([]string, 0, len(a)+len(b))
	i, j := 0, 0
	for i < len(a) || j < len(b) {
		switch {
		case j >= len(b) || (i < len(a) && a[i] < b[j]):
			out = append(out, a[i])
			i++
		case i >= len(a) || b[j] < a[i]:
			out = append(out, b[j])
			j++
		default:
			out = append(out, a[i])
			i++
			j++
		}
	}
	if reverse {
		for l, r := 0, len(out)-1; l < r; l, r = l+1, r-1 {
			out[l], out[r] = out[r], out[l]
		}
	}
	return out
}

func (t *memTxn) write(ctx context.Context, key []byte, value *[]byte) error {
	db := t.db
	db.mu.Lock()
	defer db.mu.Unlock()
	if err := t.checkLocked(); err != nil {
		return err
	}
	if t.mode != txn.ReadWrite {
		return txn.ErrReadOnly
	}
	if err := t.acquireLocked(ctx, key, keyEnd(key), true); err != nil {
		return err
	}
	if t.writes == nil {
		t.writes = btreemap.New[string, *[]byte](8, bytesCompareStrings)
	}
	t.writes.ReplaceOrInsert(string(key), value)
	return nil
}

func (t *memTxn) Put(ctx context.Context, key, value []byte) error {
	v := bytes.Clone(value)
	if v == nil {
		v = []byte{}
	}
	return t.write(ctx, key, &v)
}

func (t *memTxn) Delete(ctx context.Context, key []byte) error {
	return t.write(ctx, key, nil)
}

func (t *memTxn) Commit(ctx context.Context) (truetime.Timestamp, error) {
	db := t.db
	db.mu.Lock()
	if err := t.checkLocked(); err != nil {
		if t.wounded != nil {
			t.done = true
		}
		db.mu.Unlock()
		return 0, err
	}
	if t.mode != txn.ReadWrite {
		t.done = true
		db.mu.Unlock()
		return t.readTS, nil
	}
	ts := db.opts.Clock.Now().Latest + 1
	if ts <= db.mu.maxTS {
		ts = db.mu.maxTS + 1
	}
	if t.deadline != 0 && ts > t.deadline {
		t.done = true
		t.releaseLocked()
		db.mu.Unlock()
		return 0, &txn.RetryableError{Txn: t.ID(), Reason: fmt.Sprintf("commit timestamp %v past the deadline %v", ts, t.deadline)}
	}
	db.mu.maxTS = ts
	var committed []txn.KeyValue
	if t.writes != nil {
		for k, w := range t.writes.Ascend(btreemap.Min[string](), btreemap.Max[string]()) {
			v := version{ts: ts}
			if w == nil {
				v.deleted = true
			} else {
				v.value = *w
			}
			_, vs, _ := db.mu.data.Get(k)
			db.mu.data.ReplaceOrInsert(k, append(vs, v))
			if db.opts.OnCommit != nil {
				committed = append(committed, txn.KeyValue{Key: []byte(k), Value: v.value})
			}
		}
	}
	if db.opts.OnCommit != nil {
		db.opts.OnCommit(ts, committed)
	}
	t.done = true
	// Commit wait happens before the locks are released (Spanner §4.1.2).
	if !db.opts.NoCommitWait {
		db.mu.Unlock()
		begin := truetime.Mono()
		err := db.opts.Clock.WaitUntilAfter(ctx, ts)
		t.commitWait = truetime.Mono() - begin
		db.mu.Lock()
		if err != nil {
			// The writes are applied; only the wait was cut short.
			t.releaseLocked()
			db.mu.Unlock()
			return ts, err
		}
	}
	t.releaseLocked()
	db.mu.Unlock()
	return ts, nil
}

func (t *memTxn) Rollback(ctx context.Context) error {
	db := t.db
	db.mu.Lock()
	defer db.mu.Unlock()
	if t.done {
		return nil
	}
	t.done = true
	t.writes = nil
	t.releaseLocked()
	return nil
}
