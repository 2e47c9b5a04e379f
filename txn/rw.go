package txn

import (
	"bytes"
	"context"
	"fmt"
	"sort"
	"sync/atomic"

	"google.golang.org/protobuf/proto"

	"github.com/meridiandb/meridian/replication"
	"github.com/meridiandb/meridian/truetime"
	"github.com/meridiandb/meridian/txn/admission"
	"github.com/meridiandb/meridian/txn/txnpb"
)

// participant is a range a read-write transaction touched.
type participant struct {
	desc   *replication.RangeDescriptor
	epoch  *txnpb.Epoch // of the locks taken there, nil if it only writes
	reads  []*txnpb.Span
	anchor []byte // a key in the range to route by
	writes []*txnpb.Write
}

// rwTxn is a read-write transaction: locking reads at leaseholders, writes
// buffered here until Commit.
type rwTxn struct {
	db     *Gateway
	meta   *txnpb.TxnMeta
	opts   Options
	start  timeMark
	writes map[string]*txnpb.Write
	// preparing: Commit has sent prepares (past that point a commit's
	// writes are never grouped again).
	preparing bool
	// observed is the highest observed_ts of the reads: the transaction
	// commits above it (reads run concurrently within a scan).
	observed atomic.Int64
	parts    map[replication.RangeID]*participant
	// failed are ranges where a lock request failed: it may have been
	// granted there all the same, so a rollback goes there too.
	failed map[replication.RangeID][]byte
	ledger Ledger
	done   bool
	// deadline, if set, bounds the commit timestamp.
	deadline truetime.Timestamp
	// ticket is its load-control slot once admitted (Options.LoadControl);
	// conflicted, whether a request failed with a retryable error.
	admitted   bool
	ticket     *admission.Ticket
	conflicted atomic.Bool // set by concurrent two-phase commit requests too
}

// Priority implements Prioritized.
func (t *rwTxn) Priority() int64 { return t.meta.Priority }

// SetDeadline implements Deadliner.
func (t *rwTxn) SetDeadline(ts truetime.Timestamp) { t.deadline = ts }

// requestFailed remembers the range of a failed lock request.
func (t *rwTxn) requestFailed(desc *replication.RangeDescriptor, key []byte) {
	if desc == nil {
		return
	}
	if t.failed == nil {
		t.failed = map[replication.RangeID][]byte{}
	}
	t.failed[replication.RangeID(desc.RangeId)] = append([]byte(nil), key...)
}

func (t *rwTxn) ID() string                        { return txnName(t.meta.Id) }
func (t *rwTxn) Mode() Mode                        { return ReadWrite }
func (t *rwTxn) ReadTimestamp() truetime.Timestamp { return 0 }

func (t *rwTxn) Ledger() Ledger {
	l := t.ledger
	l.Total = t.start.elapsed()
	l.Ranges = len(t.parts)
	return l
}

// touch records a locking read's range and epoch; a second epoch for the
// same range means the first locks may be gone.
func (t *rwTxn) touch(desc *replication.RangeDescriptor, epoch *txnpb.Epoch, read *txnpb.Span) error {
	if desc == nil {
		return nil
	}
	id := replication.RangeID(desc.RangeId)
	p := t.parts[id]
	if p == nil {
		p = &participant{desc: desc, epoch: epoch, anchor: read.Key}
		t.parts[id] = p
	} else if p.epoch == nil {
		p.epoch = epoch
	} else if epoch != nil && (p.epoch.Incarnation != epoch.Incarnation || p.epoch.LeaseSequence != epoch.LeaseSequence) {
		return &RetryableError{Txn: t.ID(), Key: read.Key, Reason: fmt.Sprintf("the lease of r%d moved during the transaction; its locks there are gone", id)}
	}
	p.reads = append(p.reads, read)
	return nil
}

// observe records a read's observed_ts.
func (t *rwTxn) observe(ts int64) {
	for {
		cur := t.observed.Load()
		if ts <= cur || t.observed.CompareAndSwap(cur, ts) {
			return
		}
	}
}

// commitFloor is the lowest timestamp the transaction may commit at: above
// every version its reads saw.
func (t *rwTxn) commitFloor() truetime.Timestamp {
	if o := t.observed.Load(); o > 0 {
		return truetime.Timestamp(o + 1)
	}
	return 0
}

func (t *rwTxn) check() error {
	if t.done {
		return ErrFinished
	}
	return nil
}

// admit waits for a load-control slot before the transaction's first
// request (Options.LoadControl).
func (t *rwTxn) admit(ctx context.Context) error {
	if t.admitted || !t.opts.LoadControl {
		return nil
	}
	t.admitted = true
	tk, waited, err := t.db.admit.Admit(ctx, t.meta.Priority)
	t.ledger.AdmissionWait += waited
	t.ticket = tk
	return err
}

// call sends one of the transaction's requests (see Gateway.call), keeping
// its load-control slot busy meanwhile and noting conflicts.
func (t *rwTxn) call(ctx context.Context, key []byte, method string, in, out proto.Message, l *Ledger) (*replication.RangeDescriptor, error) {
	t.ticket.Enter()
	desc, _, err := t.db.call(ctx, key, method, in, out, l, t.meta.Id)
	t.ticket.Leave()
	if err != nil && IsRetryable(err) {
		t.conflicted.Store(true)
	}
	return desc, err
}

// finishAdmission gives back the load-control slot with the outcome.
func (t *rwTxn) finishAdmission(committed bool) {
	switch {
	case committed:
		t.ticket.Done(admission.Committed)
	case t.conflicted.Load():
		t.ticket.Done(admission.Aborted)
	default:
		t.ticket.Done(admission.Neutral)
	}
}

// Get implements Txn.
func (t *rwTxn) Get(ctx context.Context, key []byte, o ReadOptions) ([]byte, bool, error) {
	if err := t.check(); err != nil {
		return nil, false, err
	}
	if w, ok := t.writes[string(key)]; ok && !o.ForUpdate {
		return w.Value, !w.Delete, nil
	}
	if err := t.admit(ctx); err != nil {
		return nil, false, err
	}
	in := &txnpb.LockReadRequest{Txn: t.meta, Key: key, Exclusive: o.ForUpdate, LockTimeoutNanos: int64(t.opts.LockTimeout)}
	out := &txnpb.LockReadResponse{}
	desc, err := t.call(ctx, key, methodLockRead, in, out, &t.ledger)
	if err != nil {
		t.requestFailed(desc, key)
		return nil, false, err
	}
	if err := t.touch(desc, out.Epoch, &txnpb.Span{Key: key}); err != nil {
		return nil, false, err
	}
	t.observe(out.ObservedTs)
	if w, ok := t.writes[string(key)]; ok {
		return w.Value, !w.Delete, nil
	}
	return out.Value, out.Found, nil
}

// Put implements Txn.
func (t *rwTxn) Put(_ context.Context, key, value []byte) error {
	if err := t.check(); err != nil {
		return err
	}
	t.writes[string(key)] = &txnpb.Write{Key: append([]byte(nil), key...), Value: append([]byte(nil), value...)}
	return nil
}

// Delete implements Txn.
func (t *rwTxn) Delete(_ context.Context, key []byte) error {
	if err := t.check(); err != nil {
		return err
	}
	t.writes[string(key)] = &txnpb.Write{Key: append([]byte(nil), key...), Delete: true}
	return nil
}

// Scan implements Txn: locked scans of each range's part, with the
// transaction's own writes laid over them.
func (t *rwTxn) Scan(ctx context.Context, span Span, o ScanOptions) (ScanResult, error) {
	if err := t.check(); err != nil {
		return ScanResult{}, err
	}
	if err := t.admit(ctx); err != nil {
		return ScanResult{}, err
	}
	// Own writes in the span, in scan order.
	var mine []*txnpb.Write
	for k, w := range t.writes {
		if k >= string(span.Key) && k < string(span.EndKey) {
			mine = append(mine, w)
		}
	}
	sort.Slice(mine, func(i, j int) bool {
		c := bytes.Compare(mine[i].Key, mine[j].Key)
		if o.Reverse {
			return c > 0
		}
		return c < 0
	})
	deletes := 0
	for _, w := range mine {
		if w.Delete {
			deletes++
		}
	}
	fetch := func(ctx context.Context, cur Span, limit int) ([]KeyValue, *Span, error) {
		in := &txnpb.LockScanRequest{Txn: t.meta, Span: &txnpb.Span{Key: cur.Key, EndKey: cur.EndKey}, Reverse: o.Reverse,
			Exclusive: o.ForUpdate, LockTimeoutNanos: int64(t.opts.LockTimeout)}
		if limit > 0 {
			in.MaxRows = int64(limit + deletes)
		}
		route := cur.Key
		if o.Reverse {
			route = t.db.reverseRouteKey(ctx, cur)
		}
		out := &txnpb.LockScanResponse{}
		desc, err := t.call(ctx, route, methodLockScan, in, out, &t.ledger)
		if err != nil {
			t.requestFailed(desc, route)
			return nil, nil, err
		}
		if desc != nil {
			locked := clipSpan(cur, desc)
			if err := t.touch(desc, out.Epoch, &txnpb.Span{Key: locked.Key, EndKey: locked.EndKey}); err != nil {
				return nil, nil, err
			}
		}
		t.observe(out.ObservedTs)
		rows := make([]KeyValue, 0, len(out.Rows))
		for _, kv := range out.Rows {
			rows = append(rows, KeyValue{Key: kv.Key, Value: kv.Value})
		}
		var next *Span
		if len(out.ResumeKey) > 0 {
			if o.Reverse {
				next = &Span{Key: cur.Key, EndKey: out.ResumeKey}
			} else {
				next = &Span{Key: out.ResumeKey, EndKey: cur.EndKey}
			}
		}
		return rows, next, nil
	}
	return mergeScan(ctx, span, o, mine, fetch)
}

// clipSpan returns the part of s inside desc.
func clipSpan(s Span, desc *replication.RangeDescriptor) Span {
	out := s
	if bytes.Compare(out.Key, desc.StartKey) < 0 {
		out.Key = desc.StartKey
	}
	if bytes.Compare(out.EndKey, desc.EndKey) > 0 {
		out.EndKey = desc.EndKey
	}
	return out
}

// mergeScan pages through fetch and lays own writes over its rows,
// returning at most o.MaxRows rows and where to resume.
func mergeScan(ctx context.Context, span Span, o ScanOptions, mine []*txnpb.Write, fetch func(context.Context, Span, int) ([]KeyValue, *Span, error)) (ScanResult, error) {
	var out []KeyValue
	before := func(a, b []byte) bool {
		if o.Reverse {
			return bytes.Compare(a, b) > 0
		}
		return bytes.Compare(a, b) < 0
	}
	full := func() bool { return o.MaxRows > 0 && len(out) >= o.MaxRows }
	emitMine := func(upTo []byte) { // own writes strictly before upTo (nil: all)
		for len(mine) > 0 && !full() && (upTo == nil || before(mine[0].Key, upTo)) {
			if !mine[0].Delete {
				out = append(out, KeyValue{Key: mine[0].Key, Value: mine[0].Value})
			}
			mine = mine[1:]
		}
	}
	cur := &span
	for cur != nil && !full() {
		rows, next, err := fetch(ctx, *cur, o.MaxRows-len(out))
		if err != nil {
			return ScanResult{}, err
		}
		for _, kv := range rows {
			emitMine(kv.Key)
			if full() {
				break
			}
			if len(mine) > 0 && bytes.Equal(mine[0].Key, kv.Key) {
				if !mine[0].Delete {
					out = append(out, KeyValue{Key: kv.Key, Value: mine[0].Value})
				}
				mine = mine[1:]
				continue
			}
			out = append(out, kv)
		}
		cur = next
		if cur == nil {
			emitMine(nil)
		}
	}
	res := ScanResult{Rows: out}
	if full() && len(out) > 0 {
		last := out[len(out)-1].Key
		if o.Reverse {
			res.Resume = &Span{Key: span.Key, EndKey: append([]byte(nil), last...)}
		} else {
			res.Resume = &Span{Key: append(append([]byte(nil), last...), 0), EndKey: span.EndKey}
		}
		if bytes.Compare(res.Resume.Key, res.Resume.EndKey) >= 0 {
			res.Resume = nil
		}
	}
	return res, nil
}
