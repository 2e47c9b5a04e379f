package txn

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/meridiandb/meridian/kv/kvpb"
	"github.com/meridiandb/meridian/ranges"
	"github.com/meridiandb/meridian/replication"
	"github.com/meridiandb/meridian/storage"
	"github.com/meridiandb/meridian/truetime"
	"github.com/meridiandb/meridian/txn/txnpb"
)

// Methods of the transaction requests (kvpb.TxnRequest.Method).
const (
	methodLockRead = "lock_read"
	methodLockScan = "lock_scan"
	methodCommit   = "commit"
	methodPrepare  = "prepare"
	methodResolve  = "resolve"
	methodRollback = "rollback"
	methodStatus   = "status"
)

// ParticipantOptions configure a Participant.
type ParticipantOptions struct {
	Store  *replication.Store
	Router *ranges.Router
	Logger *slog.Logger
	// RecoveryAge: a transaction prepared here for longer than this is
	// resolved by asking its coordinator (abort wins if it decided
	// nothing). Default: 5s.
	RecoveryAge time.Duration
	// Live asks a gateway which of its transactions are still open (see
	// abandoned.go). Nil: abandoned transactions are not looked for.
	Live LiveFunc
	// IdleAge: the gateway of a transaction whose locks here took nothing
	// new for this long is asked whether it still runs it. Default: 2s.
	IdleAge time.Duration
	// GatewayTimeout: such a transaction is aborted here once its gateway
	// was unreachable for this long. Default: 10s.
	GatewayTimeout time.Duration
	// TestingKnobs are for tests and demonstrations only.
	TestingKnobs TestingKnobs
}

// TestingKnobs alter the protocol for tests. None can be set from the
// command line of a real node.
type TestingKnobs struct {
	// UnsafeNoCommitWait skips commit wait: transactions become visible
	// before their timestamp has surely passed, which breaks external
	// consistency when clocks disagree. For demonstrating exactly that.
	UnsafeNoCommitWait bool
}

// Participant serves transaction requests at this store's leaseholders:
// locking reads and scans, one-phase commits, the prepare and resolve of
// two-phase commit, and coordinator decisions. It restores the locks of
// prepared transactions when a lease arrives and resolves prepared
// transactions whose coordinator went silent. It implements
// replication.Observer.
type Participant struct {
	opts        ParticipantOptions
	store       *replication.Store
	clock       truetime.Clock
	locks       *LockTable
	incarnation uint64
	logger      *slog.Logger

	decisionMu sync.Mutex
	deciding   map[string]*sync.Mutex

	mu struct {
		sync.Mutex
		seen        map[string]time.Duration // prepared txn -> when first seen here
		unreachable map[string]time.Duration // idle txn -> when its gateway first failed to answer
	}
	// restored[range] is the lease sequence under which the range's
	// prepared transactions got their locks back here; no request is
	// served under a lease before that (restoreMu).
	restoreMu sync.Mutex
	restored  map[replication.RangeID]uint64

	stop chan struct{}
	once sync.Once
	wg   sync.WaitGroup
}

// NewParticipant returns the participant of a store.
func NewParticipant(o ParticipantOptions) *Participant {
	if o.RecoveryAge == 0 {
		o.RecoveryAge = 5 * time.Second
	}
	if o.IdleAge == 0 {
		o.IdleAge = 2 * time.Second
	}
	if o.GatewayTimeout == 0 {
		o.GatewayTimeout = 10 * time.Second
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	var b [8]byte
	_, _ = rand.Read(b[:])
	p := &Participant{
		opts: o, store: o.Store, clock: o.Store.Clock(), locks: NewLockTable(),
		incarnation: binary.LittleEndian.Uint64(b[:]), logger: o.Logger,
		deciding: map[string]*sync.Mutex{}, stop: make(chan struct{}),
	}
	p.mu.seen = map[string]time.Duration{}
	p.mu.unreachable = map[string]time.Duration{}
	return p
}

// Locks returns the store's lock table.
func (p *Participant) Locks() *LockTable { return p.locks }

// Start begins the recovery of abandoned prepared transactions and the
// sweep of abandoned locks.
func (p *Participant) Start() {
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		t := time.NewTicker(time.Second)
		defer t.Stop()
		for {
			select {
			case <-t.C:
				p.recover()
				p.sweepAbandoned()
				p.locks.GC(time.Minute)
			case <-p.stop:
				return
			}
		}
	}()
}

// Close stops the recovery loop.
func (p *Participant) Close() {
	p.once.Do(func() { close(p.stop); p.wg.Wait() })
}

// Handle implements ranges.TxnHandler.
func (p *Participant) Handle(ctx context.Context, r *replication.Replica, h *kvpb.Header, req *kvpb.TxnRequest) (*kvpb.TxnResponse, error) {
	var out proto.Message
	var err error
	switch req.Method {
	case methodLockRead:
		in := &txnpb.LockReadRequest{}
		if err = proto.Unmarshal(req.Payload, in); err == nil {
			out, err = p.lockRead(ctx, r, in)
		}
	case methodLockScan:
		in := &txnpb.LockScanRequest{}
		if err = proto.Unmarshal(req.Payload, in); err == nil {
			out, err = p.lockScan(ctx, r, in)
		}
	case methodCommit:
		in := &txnpb.CommitRequest{}
		if err = proto.Unmarshal(req.Payload, in); err == nil {
			out, err = p.commit(ctx, r, in)
		}
	case methodPrepare:
		in := &txnpb.PrepareRequest{}
		if err = proto.Unmarshal(req.Payload, in); err == nil {
			out, err = p.prepare(ctx, r, in)
		}
	case methodResolve:
		in := &txnpb.ResolveRequest{}
		if err = proto.Unmarshal(req.Payload, in); err == nil {
			out, err = p.resolve(ctx, r, in)
		}
	case methodRollback:
		in := &txnpb.RollbackRequest{}
		if err = proto.Unmarshal(req.Payload, in); err == nil {
			out, err = p.rollback(r, in)
		}
	case methodStatus:
		in := &txnpb.StatusRequest{}
		if err = proto.Unmarshal(req.Payload, in); err == nil {
			out, err = p.status(ctx, r, in)
		}
	default:
		return nil, fmt.Errorf("unknown transaction method %q", req.Method)
	}
	if err != nil {
		return nil, toWire(err)
	}
	b, err := proto.Marshal(out)
	if err != nil {
		return nil, err
	}
	return &kvpb.TxnResponse{Payload: b}, nil
}

// lease makes sure this replica serves the lease and returns the epoch
// locks taken now belong to.
func (p *Participant) lease(ctx context.Context, r *replication.Replica) (*txnpb.Epoch, error) {
	l, err := r.EnsureLease(ctx)
	if err != nil {
		return nil, err
	}
	p.ensureRestored(r, l.Sequence, false)
	return &txnpb.Epoch{Incarnation: p.incarnation, LeaseSequence: l.Sequence}, nil
}

// checkEpoch fails a commit or prepare whose locks were taken under another
// lease or process: they may have been lost.
func (p *Participant) checkEpoch(r *replication.Replica, txn *txnpb.TxnMeta, want, have *txnpb.Epoch) error {
	if want == nil {
		return nil
	}
	if want.Incarnation != have.Incarnation || want.LeaseSequence != have.LeaseSequence {
		return &RetryableError{Txn: txnName(txn.Id), Reason: fmt.Sprintf("the locks it took on r%d were lost (the lease moved or the node restarted)", r.RangeID())}
	}
	return nil
}

func (p *Participant) valid(r *replication.Replica, epoch *txnpb.Epoch) func() error {
	return func() error {
		if !r.IsLeaseholder() || r.Lease().Sequence != epoch.LeaseSequence {
			return &replication.NotLeaseholderError{RangeID: r.RangeID(), Node: p.store.NodeID(), Reason: "the lease moved while waiting for a lock"}
		}
		return nil
	}
}

func (p *Participant) span(r *replication.Replica, key, end []byte) error {
	d := r.Desc()
	if d == nil {
		return &replication.RangeNotFoundError{RangeID: r.RangeID(), Node: p.store.NodeID()}
	}
	if end == nil {
		end = key
	}
	if !replication.ContainsSpan(d, key, end) {
		return &replication.RangeKeyMismatchError{RangeID: r.RangeID(), Start: key, End: end, Desc: d}
	}
	return nil
}

// latest is the timestamp locked reads read at: every write to a locked key
// has applied before its writer released the lock.
const latest = truetime.Timestamp(1 << 62)

func (p *Participant) lockRead(ctx context.Context, r *replication.Replica, in *txnpb.LockReadRequest) (*txnpb.LockReadResponse, error) {
	if err := p.span(r, in.Key, nil); err != nil {
		return nil, err
	}
	epoch, err := p.lease(ctx, r)
	if err != nil {
		return nil, err
	}
	mode := shared
	if in.Exclusive {
		mode = exclusive
	}
	waited, err := p.locks.Acquire(ctx, AcquireOptions{Txn: in.Txn, Key: in.Key, Mode: mode, Timeout: time.Duration(in.LockTimeoutNanos), Valid: p.valid(r, epoch), Stop: p.stop})
	if err != nil {
		return nil, err
	}
	kv, found, err := r.MVCCGet(in.Key, latest)
	if err != nil {
		return nil, err
	}
	return &txnpb.LockReadResponse{Found: found, Value: kv.Value, Epoch: epoch, Timings: &txnpb.Timings{LockWaitNanos: int64(waited)},
		ObservedTs: int64(r.TimestampFloor())}, nil
}

func (p *Participant) lockScan(ctx context.Context, r *replication.Replica, in *txnpb.LockScanRequest) (*txnpb.LockScanResponse, error) {
	d := r.Desc()
	if d == nil || in.Span == nil {
		return nil, &replication.RangeNotFoundError{RangeID: r.RangeID(), Node: p.store.NodeID()}
	}
	start, end := in.Span.Key, in.Span.EndKey
	if !replication.ContainsKey(d, start) && !(in.Reverse && string(end) > string(d.StartKey) && string(end) <= string(d.EndKey)) {
		return nil, &replication.RangeKeyMismatchError{RangeID: r.RangeID(), Start: start, End: end, Desc: d}
	}
	// The part of the span in this range; the caller continues past it.
	cs, ce := start, end
	if string(cs) < string(d.StartKey) {
		cs = d.StartKey
	}
	if string(ce) > string(d.EndKey) {
		ce = d.EndKey
	}
	epoch, err := p.lease(ctx, r)
	if err != nil {
		return nil, err
	}
	mode := shared
	if in.Exclusive {
		mode = exclusive
	}
	acquire := func(s, e []byte) (time.Duration, error) {
		return p.locks.Acquire(ctx, AcquireOptions{Txn: in.Txn, Key: s, End: e, Mode: mode, Timeout: time.Duration(in.LockTimeoutNanos), Valid: p.valid(r, epoch), Stop: p.stop})
	}
	opts := storage.ScanOptions{Reverse: in.Reverse, MaxRows: int(in.MaxRows)}
	var waited time.Duration
	ls, le := cs, ce
	if in.MaxRows > 0 {
		// Lock only as far as the rows the scan will return: find the
		// boundary without locks, lock up to it, and check the scan under
		// the lock still ends there.
		pre, err := r.MVCCScan(cs, ce, latest, opts)
		if err != nil {
			return nil, err
		}
		if pre.ResumeSpan != nil && len(pre.Rows) > 0 {
			last := pre.Rows[len(pre.Rows)-1].Key
			if in.Reverse {
				ls = last
			} else {
				le = append(append([]byte(nil), last...), 0)
			}
		}
	}
	w, err := acquire(ls, le)
	waited += w
	if err != nil {
		return nil, err
	}
	res, err := r.MVCCScan(ls, le, latest, opts)
	if err != nil {
		return nil, err
	}
	if (string(ls) != string(cs) || string(le) != string(ce)) && len(res.Rows) < int(in.MaxRows) {
		// Rows vanished meanwhile: lock and scan the whole part.
		w, err := acquire(cs, ce)
		waited += w
		if err != nil {
			return nil, err
		}
		if res, err = r.MVCCScan(cs, ce, latest, opts); err != nil {
			return nil, err
		}
	}
	out := &txnpb.LockScanResponse{Epoch: epoch, Timings: &txnpb.Timings{LockWaitNanos: int64(waited)}, ObservedTs: int64(r.TimestampFloor())}
	for _, kv := range res.Rows {
		out.Rows = append(out.Rows, &txnpb.KeyValue{Key: kv.Key, Value: kv.Value})
	}
	switch {
	case res.ResumeSpan != nil && in.Reverse:
		out.ResumeKey = res.ResumeSpan.EndKey
	case res.ResumeSpan != nil:
		out.ResumeKey = res.ResumeSpan.Key
	case in.Reverse && string(start) < string(cs):
		out.ResumeKey = cs
	case !in.Reverse && string(end) > string(ce):
		out.ResumeKey = ce
	}
	return out, nil
}

// writeLocks takes exclusive locks on a transaction's writes.
func (p *Participant) writeLocks(ctx context.Context, r *replication.Replica, txn *txnpb.TxnMeta, writes []*txnpb.Write, epoch *txnpb.Epoch, timeout int64) (time.Duration, error) {
	var waited time.Duration
	for _, w := range writes {
		if err := p.span(r, w.Key, nil); err != nil {
			return waited, err
		}
		d, err := p.locks.Acquire(ctx, AcquireOptions{Txn: txn, Key: w.Key, Mode: exclusive, Timeout: time.Duration(timeout), Valid: p.valid(r, epoch), Stop: p.stop})
		waited += d
		if err != nil {
			return waited, err
		}
	}
	return waited, nil
}

func mvccWrites(writes []*txnpb.Write, ts truetime.Timestamp) []*replication.MVCCWrite {
	out := make([]*replication.MVCCWrite, 0, len(writes))
	for _, w := range writes {
		out = append(out, &replication.MVCCWrite{Key: w.Key, Value: w.Value, Tombstone: w.Delete, Timestamp: int64(ts)})
	}
	return out
}

// releaseRange drops the transaction's locks on this range.
func (p *Participant) releaseRange(r *replication.Replica, id []byte) {
	if d := r.Desc(); d != nil {
		p.release(d, id)
	}
}

// release drops the transaction's locks in the span of d.
func (p *Participant) release(d *replication.RangeDescriptor, id []byte) {
	p.locks.Release(id, d.StartKey, d.EndKey)
}

// commitWait waits until the commit timestamp has passed everywhere.
func (p *Participant) commitWait(ctx context.Context, ts truetime.Timestamp) (time.Duration, error) {
	if p.opts.TestingKnobs.UnsafeNoCommitWait {
		return 0, nil
	}
	start := truetime.Mono()
	err := p.clock.WaitUntilAfter(ctx, ts)
	return truetime.Mono() - start, err
}

var errNotDecided = errors.New("no decision")
