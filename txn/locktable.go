package txn

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/meridiandb/meridian/storage"
	"github.com/meridiandb/meridian/truetime"
	"github.com/meridiandb/meridian/txn/txnpb"
)

// lockMode is shared (reads) or exclusive (writes, FOR UPDATE).
type lockMode uint8

const (
	shared lockMode = iota + 1
	exclusive
)

func (m lockMode) String() string {
	if m == exclusive {
		return "exclusive"
	}
	return "shared"
}

func compatible(a, b lockMode) bool { return a == shared && b == shared }

// txnState says whether a transaction can still be wounded.
type txnState uint8

const (
	active     txnState = iota
	committing          // its commit is under way here: it can no longer be wounded
	prepared            // prepared here: it can no longer be wounded
)

func (s txnState) String() string {
	return [...]string{"active", "committing", "prepared"}[s]
}

// LockTable holds a store's locks: on keys and on spans (what scans read,
// so that rows inserted into a scanned span conflict). One per store, so
// that splits do not move locks. Conflicts are settled by wound-wait: an
// older transaction wounds (aborts) a younger holder that is not yet
// committing or prepared; a younger one waits, up to a timeout. Whether a
// transaction is committing or prepared is known per range (the span it
// commits or prepares on): a store may hold several ranges of one
// transaction, each at its own step. Every method is safe for concurrent
// use.
type LockTable struct {
	mu      sync.Mutex
	keys    map[string]map[string]lockMode // key -> txn -> mode
	spans   []*spanLock
	txns    map[string]*txnLocks
	aborted map[string]abortMark
	changed chan struct{}
}

type spanLock struct {
	txn        string
	start, end []byte
	mode       lockMode
}

type txnLocks struct {
	meta *txnpb.TxnMeta
	keys map[string]lockMode
	// settled are the spans (ranges) where it is committing or prepared;
	// elsewhere it is active.
	settled    []settledSpan
	lastActive time.Duration // when it last took a lock (truetime.Mono)
}

type settledSpan struct {
	start, end []byte
	state      txnState
}

// stateAt returns the transaction's state at key.
func (t *txnLocks) stateAt(key []byte) txnState {
	for _, s := range t.settled {
		if bytes.Compare(s.start, key) <= 0 && bytes.Compare(key, s.end) < 0 {
			return s.state
		}
	}
	return active
}

// settledIn reports whether it is committing or prepared anywhere in
// [start, end) (anywhere at all if start is nil).
func (t *txnLocks) settledIn(start, end []byte) bool {
	for _, s := range t.settled {
		if start == nil || (bytes.Compare(s.start, end) < 0 && bytes.Compare(start, s.end) < 0) {
			return true
		}
	}
	return false
}

// hasActiveLocksLocked reports whether it holds a lock outside the spans
// where it is committing or prepared.
func (lt *LockTable) hasActiveLocksLocked(id string, t *txnLocks) bool {
	for k := range t.keys {
		if t.stateAt([]byte(k)) == active {
			return true
		}
	}
	for _, s := range lt.spans {
		if s.txn == id && t.stateAt(s.start) == active {
			return true
		}
	}
	return false
}

// summary names its state for Describe.
func (t *txnLocks) summary() string {
	if len(t.settled) == 0 {
		return active.String()
	}
	var names []string
	for _, s := range t.settled {
		if n := s.state.String(); !slices.Contains(names, n) {
			names = append(names, n)
		}
	}
	return strings.Join(names, "+")
}

type abortMark struct {
	reason string
	by     []byte
	key    []byte
	at     time.Duration
}

// NewLockTable returns an empty lock table.
func NewLockTable() *LockTable {
	return &LockTable{
		keys:    map[string]map[string]lockMode{},
		txns:    map[string]*txnLocks{},
		aborted: map[string]abortMark{},
		changed: make(chan struct{}),
	}
}

// notifyLocked wakes every waiter.
func (lt *LockTable) notifyLocked() {
	close(lt.changed)
	lt.changed = make(chan struct{})
}

// older reports whether a has priority over b (older wins; ids break ties).
func older(a, b *txnpb.TxnMeta) bool {
	if a.Priority != b.Priority {
		return a.Priority < b.Priority
	}
	return bytes.Compare(a.Id, b.Id) < 0
}

// abortedErrorLocked returns the error of a wounded or aborted transaction.
func (lt *LockTable) abortedErrorLocked(id string) error {
	m, ok := lt.aborted[id]
	if !ok {
		return nil
	}
	return &RetryableError{Txn: txnName([]byte(id)), OtherTxn: txnName(m.by), Key: m.key, Reason: m.reason}
}

// Aborted returns the error of a transaction that was wounded or aborted
// here, or nil.
func (lt *LockTable) Aborted(id []byte) error {
	lt.mu.Lock()
	defer lt.mu.Unlock()
	return lt.abortedErrorLocked(string(id))
}

// conflictsLocked lists the other transactions whose locks conflict with
// taking [start, end) (end nil: the key start) in mode.
func (lt *LockTable) conflictsLocked(id string, start, end []byte, mode lockMode) []string {
	seen := map[string]bool{}
	var out []string
	add := func(t string) {
		if t != id && !seen[t] {
			seen[t] = true
			out = append(out, t)
		}
	}
	if end == nil {
		for t, m := range lt.keys[string(start)] {
			if !compatible(m, mode) {
				add(t)
			}
		}
		for _, s := range lt.spans {
			if !compatible(s.mode, mode) && bytes.Compare(s.start, start) <= 0 && bytes.Compare(start, s.end) < 0 {
				add(s.txn)
			}
		}
		return out
	}
	for k, holders := range lt.keys {
		kb := []byte(k)
		if bytes.Compare(start, kb) <= 0 && bytes.Compare(kb, end) < 0 {
			for t, m := range holders {
				if !compatible(m, mode) {
					add(t)
				}
			}
		}
	}
	for _, s := range lt.spans {
		if !compatible(s.mode, mode) && bytes.Compare(s.start, end) < 0 && bytes.Compare(start, s.end) < 0 {
			add(s.txn)
		}
	}
	return out
}

// AcquireOptions describe one lock request.
type AcquireOptions struct {
	Txn  *txnpb.TxnMeta
	Key  []byte
	End  []byte // nil: lock Key alone; otherwise the span [Key, End)
	Mode lockMode
	// Timeout bounds the wait. Default: 5s.
	Timeout time.Duration
	// Valid, if set, is checked whenever the request wakes; its error (the
	// lease moved) ends the wait.
	Valid func() error
	// Stop, if set, ends the wait when closed (the store is stopping).
	Stop <-chan struct{}
}

// Acquire takes a lock, waiting (or wounding younger holders) as needed,
// and returns how long it waited.
func (lt *LockTable) Acquire(ctx context.Context, o AcquireOptions) (time.Duration, error) {
	if o.Timeout == 0 {
		o.Timeout = 5 * time.Second
	}
	id := string(o.Txn.Id)
	start := truetime.Mono()
	var timer *time.Timer
	defer func() {
		if timer != nil {
			timer.Stop()
		}
	}()
	for {
		lt.mu.Lock()
		if err := lt.abortedErrorLocked(id); err != nil {
			lt.mu.Unlock()
			return truetime.Mono() - start, err
		}
		conflicts := lt.conflictsLocked(id, o.Key, o.End, o.Mode)
		var waitFor string
		for _, other := range conflicts {
			h := lt.txns[other]
			if h != nil && h.stateAt(o.Key) == active && older(o.Txn, h.meta) {
				lt.woundLocked(other, o.Txn.Id, o.Key)
				continue
			}
			waitFor = other
		}
		if waitFor == "" {
			lt.grantLocked(o)
			lt.mu.Unlock()
			return truetime.Mono() - start, nil
		}
		ch := lt.changed
		lt.mu.Unlock()
		if timer == nil {
			timer = time.NewTimer(o.Timeout)
		}
		select {
		case <-ch:
		case <-timer.C:
			return truetime.Mono() - start, &RetryableError{Txn: txnName(o.Txn.Id), OtherTxn: txnName([]byte(waitFor)), Key: o.Key,
				Reason: fmt.Sprintf("lock wait timeout after %v", o.Timeout), Timeout: true}
		case <-ctx.Done():
			return truetime.Mono() - start, ctx.Err()
		case <-o.Stop:
			return truetime.Mono() - start, errStopping
		}
		if o.Valid != nil {
			if err := o.Valid(); err != nil {
				return truetime.Mono() - start, err
			}
		}
	}
}

func (lt *LockTable) grantLocked(o AcquireOptions) {
	id := string(o.Txn.Id)
	t := lt.txns[id]
	if t == nil {
		t = &txnLocks{meta: o.Txn, keys: map[string]lockMode{}}
		lt.txns[id] = t
	}
	t.lastActive = truetime.Mono()
	if o.End == nil {
		k := string(o.Key)
		if t.keys[k] >= o.Mode {
			return
		}
		t.keys[k] = o.Mode
		if lt.keys[k] == nil {
			lt.keys[k] = map[string]lockMode{}
		}
		lt.keys[k][id] = o.Mode
		return
	}
	lt.spans = append(lt.spans, &spanLock{txn: id, start: append([]byte(nil), o.Key...), end: append([]byte(nil), o.End...), mode: o.Mode})
}

// woundLocked aborts a transaction: its locks here go and its next request
// here fails.
func (lt *LockTable) woundLocked(id string, by, key []byte) {
	lt.aborted[id] = abortMark{reason: "wounded by an older transaction", by: by, key: append([]byte(nil), key...), at: truetime.Mono()}
	lt.releaseLocked(id, nil, nil)
}

// releaseLocked drops a transaction's locks inside [start, end) (all of
// them if start is nil).
func (lt *LockTable) releaseLocked(id string, start, end []byte) {
	t := lt.txns[id]
	in := func(k []byte) bool {
		return start == nil || (bytes.Compare(start, k) <= 0 && bytes.Compare(k, end) < 0)
	}
	if t != nil {
		for k := range t.keys {
			if in([]byte(k)) {
				delete(t.keys, k)
				if h := lt.keys[k]; h != nil {
					delete(h, id)
					if len(h) == 0 {
						delete(lt.keys, k)
					}
				}
			}
		}
	}
	kept := lt.spans[:0]
	for _, s := range lt.spans {
		if s.txn == id && in(s.start) {
			continue
		}
		kept = append(kept, s)
	}
	for i := len(kept); i < len(lt.spans); i++ {
		lt.spans[i] = nil
	}
	lt.spans = kept
	if t != nil {
		t.settled = slices.DeleteFunc(t.settled, func(s settledSpan) bool {
			return start == nil || (bytes.Compare(start, s.start) <= 0 && bytes.Compare(s.end, end) <= 0)
		})
	}
	if t != nil && len(t.keys) == 0 && !lt.hasSpansLocked(id) {
		delete(lt.txns, id)
	}
	lt.notifyLocked()
}

func (lt *LockTable) hasSpansLocked(id string) bool {
	for _, s := range lt.spans {
		if s.txn == id {
			return true
		}
	}
	return false
}

// Release drops a transaction's locks inside [start, end).
func (lt *LockTable) Release(id, start, end []byte) {
	lt.mu.Lock()
	defer lt.mu.Unlock()
	lt.releaseLocked(string(id), start, end)
}

// ReleaseShared drops a transaction's shared locks inside [start, end),
// keeping its exclusive ones.
func (lt *LockTable) ReleaseShared(id, start, end []byte) {
	lt.mu.Lock()
	defer lt.mu.Unlock()
	sid := string(id)
	in := func(k []byte) bool { return bytes.Compare(start, k) <= 0 && bytes.Compare(k, end) < 0 }
	if t := lt.txns[sid]; t != nil {
		for k, m := range t.keys {
			if m == shared && in([]byte(k)) {
				delete(t.keys, k)
				if h := lt.keys[k]; h != nil {
					delete(h, sid)
					if len(h) == 0 {
						delete(lt.keys, k)
					}
				}
			}
		}
	}
	lt.spans = slices.DeleteFunc(lt.spans, func(s *spanLock) bool {
		return s.txn == sid && s.mode == shared && in(s.start)
	})
	lt.notifyLocked()
}

// SetState marks a transaction committing or prepared (no longer
// woundable) on the range [start, end), failing if it was already wounded
// or aborted here.
func (lt *LockTable) SetState(meta *txnpb.TxnMeta, s txnState, start, end []byte) error {
	lt.mu.Lock()
	defer lt.mu.Unlock()
	id := string(meta.Id)
	if err := lt.abortedErrorLocked(id); err != nil {
		return err
	}
	t := lt.txns[id]
	if t == nil {
		t = &txnLocks{meta: meta, keys: map[string]lockMode{}}
		lt.txns[id] = t
	}
	t.setLocked(s, start, end)
	return nil
}

func (t *txnLocks) setLocked(s txnState, start, end []byte) {
	for i := range t.settled {
		if bytes.Equal(t.settled[i].start, start) && bytes.Equal(t.settled[i].end, end) {
			t.settled[i].state = s
			return
		}
	}
	t.settled = append(t.settled, settledSpan{start: append([]byte(nil), start...), end: append([]byte(nil), end...), state: s})
}

// Abort marks a transaction aborted here and drops its locks in [start,
// end) (all if start is nil).
func (lt *LockTable) Abort(id []byte, reason string, start, end []byte) {
	lt.mu.Lock()
	defer lt.mu.Unlock()
	if _, ok := lt.aborted[string(id)]; !ok {
		lt.aborted[string(id)] = abortMark{reason: reason, at: truetime.Mono()}
	}
	lt.releaseLocked(string(id), start, end)
}

// AbortActive is Abort for the locks in [start, end) (all if start is nil)
// that lie outside the ranges where the transaction is committing or
// prepared; it reports whether it aborted. A rollback uses it: locks of a
// commit under way or of a prepared transaction stay until their outcome
// is known.
func (lt *LockTable) AbortActive(id []byte, reason string, start, end []byte) bool {
	lt.mu.Lock()
	defer lt.mu.Unlock()
	t := lt.txns[string(id)]
	if t != nil && start != nil && t.settledIn(start, end) {
		return false
	}
	if _, ok := lt.aborted[string(id)]; !ok {
		lt.aborted[string(id)] = abortMark{reason: reason, at: truetime.Mono()}
	}
	if t == nil || len(t.settled) == 0 {
		lt.releaseLocked(string(id), start, end)
		return true
	}
	// Everywhere: release what lies outside the settled ranges, key by key.
	for k := range t.keys {
		if t.stateAt([]byte(k)) == active {
			lt.releaseLocked(string(id), []byte(k), append([]byte(k), 0))
		}
	}
	for _, s := range slices.Clone(lt.spans) {
		if s.txn == string(id) && t.stateAt(s.start) == active {
			lt.releaseLocked(string(id), s.start, append(slices.Clone(s.start), 0))
		}
	}
	return true
}

// Idle returns the transactions holding locks here that are neither
// committing nor prepared and have taken no lock for at least age.
func (lt *LockTable) Idle(age time.Duration) []*txnpb.TxnMeta {
	lt.mu.Lock()
	defer lt.mu.Unlock()
	now := truetime.Mono()
	var out []*txnpb.TxnMeta
	for id, t := range lt.txns {
		if now-t.lastActive >= age && lt.hasActiveLocksLocked(id, t) {
			out = append(out, t.meta)
		}
	}
	return out
}

// ResetSpan forgets the locks inside [start, end) of transactions that are
// still active (not committing or prepared): the lease of the range holding
// them moved or the leader changed, so their locks are void; they are
// aborted. Committing transactions keep theirs until their commit's
// proposal is settled; prepared ones keep theirs (whoever serves the lease
// next restores them from their records).
func (lt *LockTable) ResetSpan(start, end []byte, reason string) {
	lt.mu.Lock()
	defer lt.mu.Unlock()
	hit := map[string]bool{}
	for k, holders := range lt.keys {
		kb := []byte(k)
		if bytes.Compare(start, kb) <= 0 && bytes.Compare(kb, end) < 0 {
			for id := range holders {
				hit[id] = true
			}
		}
	}
	for _, s := range lt.spans {
		if bytes.Compare(start, s.start) <= 0 && bytes.Compare(s.start, end) < 0 {
			hit[s.txn] = true
		}
	}
	for id := range hit {
		if t := lt.txns[id]; t != nil && t.settledIn(start, end) {
			continue
		}
		if _, ok := lt.aborted[id]; !ok {
			lt.aborted[id] = abortMark{reason: reason, at: truetime.Mono()}
		}
		lt.releaseLocked(id, start, end)
	}
	lt.notifyLocked()
}

// Restore takes the locks of a transaction prepared on the range [start,
// end) (after a lease move or a restart) without waiting: they were granted
// before.
func (lt *LockTable) Restore(rec *txnpb.PreparedRecord, start, end []byte) {
	lt.mu.Lock()
	defer lt.mu.Unlock()
	id := string(rec.Txn.Id)
	delete(lt.aborted, id)
	for _, w := range rec.Writes {
		lt.grantLocked(AcquireOptions{Txn: rec.Txn, Key: w.Key, Mode: exclusive})
	}
	for _, s := range rec.Reads {
		end := s.EndKey
		if len(end) == 0 {
			end = nil
		}
		lt.grantLocked(AcquireOptions{Txn: rec.Txn, Key: s.Key, End: end, Mode: shared})
	}
	lt.txns[id].setLocked(prepared, start, end)
}

// GC forgets abort marks older than age.
func (lt *LockTable) GC(age time.Duration) {
	lt.mu.Lock()
	defer lt.mu.Unlock()
	now := truetime.Mono()
	for id, m := range lt.aborted {
		if now-m.at > age {
			delete(lt.aborted, id)
		}
	}
}

// Describe lists the locks, for tests and debugging.
func (lt *LockTable) Describe() string {
	lt.mu.Lock()
	defer lt.mu.Unlock()
	var b bytes.Buffer
	var keys []string
	for k := range lt.keys {
		keys = append(keys, k)
	}
	sortStrings(keys)
	for _, k := range keys {
		var hs []string
		for id, m := range lt.keys[k] {
			hs = append(hs, fmt.Sprintf("%s:%s", txnName([]byte(id)), m))
		}
		sortStrings(hs)
		fmt.Fprintf(&b, "key %s: %v\n", storage.PrettyKey([]byte(k)), hs)
	}
	for _, s := range lt.spans {
		fmt.Fprintf(&b, "span [%s, %s): %s:%s\n", storage.PrettyKey(s.start), storage.PrettyKey(s.end), txnName([]byte(s.txn)), s.mode)
	}
	var ids []string
	for id := range lt.txns {
		ids = append(ids, id)
	}
	sortStrings(ids)
	now := truetime.Mono()
	for _, id := range ids {
		t := lt.txns[id]
		fmt.Fprintf(&b, "txn %s: %s, %d keys, last lock %v ago\n", txnName([]byte(id)), t.summary(), len(t.keys), (now - t.lastActive).Round(time.Millisecond))
	}
	return b.String()
}
