package ranges

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/meridiandb/meridian/kv/kvpb"
	"github.com/meridiandb/meridian/replication"
	"github.com/meridiandb/meridian/replication/replicationpb"
	"github.com/meridiandb/meridian/storage"
	"github.com/meridiandb/meridian/truetime"
)

// Evaluator serves plain (non-transactional) requests at a replica: reads
// at the leaseholder or at an up-to-date follower, single-key writes at a
// fresh timestamp with commit wait, and read-modify-writes (counters, meta
// updates) serialized per range.
type Evaluator struct {
	store *replication.Store
	// Splitter serves admin splits; Load records requests. Either may be nil.
	Splitter *Splitter
	Load     *LoadTracker
	// rmw serializes read-modify-write requests per range.
	rmw sync.Map // RangeID -> *sync.Mutex
}

// NewEvaluator returns an evaluator for the store's replicas.
func NewEvaluator(s *replication.Store) *Evaluator { return &Evaluator{store: s} }

// TxnHandler evaluates the transaction layer's requests; the server
// installs it.
type TxnHandler func(ctx context.Context, r *replication.Replica, h *kvpb.Header, req *kvpb.TxnRequest) (*kvpb.TxnResponse, error)

// Evaluate runs a batch at the store's replica of h.RangeId.
func (ev *Evaluator) Evaluate(ctx context.Context, ba *kvpb.BatchRequest, txn TxnHandler) *kvpb.BatchResponse {
	h := ba.Header
	if h == nil {
		return &kvpb.BatchResponse{Error: &kvpb.Error{Message: "batch without header"}}
	}
	r, err := ev.store.GetReplica(replication.RangeID(h.RangeId))
	if err != nil {
		return &kvpb.BatchResponse{Error: ToWireError(err, ev.store, firstKey(ba))}
	}
	br := &kvpb.BatchResponse{}
	if d := r.Desc(); d != nil {
		if rd, ok := replication.ReplicaOnNode(d, ev.store.NodeID()); ok {
			br.ServedBy = rd
		}
	}
	for _, req := range ba.Requests {
		if ev.Load != nil {
			ev.Load.Record(r.RangeID(), requestKey(req))
		}
		resp, err := ev.one(ctx, r, h, req, txn, br)
		if err != nil {
			br.Error = ToWireError(err, ev.store, requestKey(req))
			br.Responses = nil
			return br
		}
		br.Responses = append(br.Responses, resp)
	}
	return br
}

// readTS prepares a read: at a follower it waits for safe time; at the
// leaseholder (even for a follower read) it waits only for writes and
// prepares at or below the timestamp, which is the present unless the
// header names one.
func (ev *Evaluator) readTS(ctx context.Context, r *replication.Replica, h *kvpb.Header, br *kvpb.BatchResponse) (truetime.Timestamp, error) {
	if h.ReadMode == kvpb.ReadMode_FOLLOWER && h.ReadTs != 0 && !r.IsLeaseholder() {
		start := truetime.Mono()
		maxWait := time.Duration(h.MaxFollowerWaitNanos)
		if maxWait == 0 {
			maxWait = 50 * time.Millisecond
		}
		err := r.FollowerReadAt(ctx, truetime.Timestamp(h.ReadTs), maxWait)
		br.SafeTimeWaitNanos += int64(truetime.Mono() - start)
		return truetime.Timestamp(h.ReadTs), err
	}
	if _, err := r.EnsureLease(ctx); err != nil {
		return 0, err
	}
	ts := truetime.Timestamp(h.ReadTs)
	if ts == 0 {
		ts = ev.store.Clock().Now().Latest
	}
	start := truetime.Mono()
	err := r.LeaseholderReadAt(ctx, ts)
	br.SafeTimeWaitNanos += int64(truetime.Mono() - start)
	return ts, err
}

func (ev *Evaluator) one(ctx context.Context, r *replication.Replica, h *kvpb.Header, req *kvpb.Request, txn TxnHandler, br *kvpb.BatchResponse) (*kvpb.Response, error) {
	switch v := req.Value.(type) {
	case *kvpb.Request_Get:
		ts, err := ev.readTS(ctx, r, h, br)
		if err != nil {
			return nil, err
		}
		kv, found, err := r.MVCCGet(v.Get.Key, ts)
		if err != nil {
			return nil, err
		}
		return &kvpb.Response{Value: &kvpb.Response_Get{Get: &kvpb.GetResponse{Found: found, Value: kv.Value, Timestamp: kv.Timestamp}}}, nil
	case *kvpb.Request_Scan:
		return ev.scan(ctx, r, h, v.Scan, br)
	case *kvpb.Request_Put:
		ts, err := ev.write(ctx, r, &replicationpb.MVCCWrite{Key: v.Put.Key, Value: v.Put.Value})
		if err != nil {
			return nil, err
		}
		return &kvpb.Response{Value: &kvpb.Response_Put{Put: &kvpb.PutResponse{Timestamp: int64(ts)}}}, nil
	case *kvpb.Request_Delete:
		ts, err := ev.write(ctx, r, &replicationpb.MVCCWrite{Key: v.Delete.Key, Tombstone: true})
		if err != nil {
			return nil, err
		}
		return &kvpb.Response{Value: &kvpb.Response_Delete{Delete: &kvpb.DeleteResponse{Timestamp: int64(ts)}}}, nil
	case *kvpb.Request_Increment:
		val, err := ev.increment(ctx, r, v.Increment)
		if err != nil {
			return nil, err
		}
		return &kvpb.Response{Value: &kvpb.Response_Increment{Increment: &kvpb.IncrementResponse{Value: val}}}, nil
	case *kvpb.Request_UpdateMeta:
		n, err := ev.updateMeta(ctx, r, v.UpdateMeta)
		if err != nil {
			return nil, err
		}
		return &kvpb.Response{Value: &kvpb.Response_UpdateMeta{UpdateMeta: &kvpb.UpdateMetaResponse{Written: int32(n)}}}, nil
	case *kvpb.Request_AdminSplit:
		if ev.Splitter == nil {
			return nil, fmt.Errorf("n%d does not split ranges", ev.store.NodeID())
		}
		if _, err := r.EnsureLease(ctx); err != nil {
			return nil, err
		}
		key := v.AdminSplit.Key
		if d := r.Desc(); d != nil && string(d.StartKey) == string(key) {
			return &kvpb.Response{Value: &kvpb.Response_AdminSplit{AdminSplit: &kvpb.AdminSplitResponse{Right: d}}}, nil
		}
		left, right, err := ev.Splitter.Split(ctx, r, key)
		if err != nil {
			return nil, err
		}
		return &kvpb.Response{Value: &kvpb.Response_AdminSplit{AdminSplit: &kvpb.AdminSplitResponse{Left: left, Right: right}}}, nil
	case *kvpb.Request_Txn:
		if txn == nil {
			return nil, fmt.Errorf("n%d serves no transactions", ev.store.NodeID())
		}
		resp, err := txn(ctx, r, h, v.Txn)
		if err != nil {
			return nil, err
		}
		return &kvpb.Response{Value: &kvpb.Response_Txn{Txn: resp}}, nil
	}
	return nil, fmt.Errorf("unknown request %T", req.Value)
}

func (ev *Evaluator) scan(ctx context.Context, r *replication.Replica, h *kvpb.Header, s *kvpb.ScanRequest, br *kvpb.BatchResponse) (*kvpb.Response, error) {
	ts, err := ev.readTS(ctx, r, h, br)
	if err != nil {
		return nil, err
	}
	// Scan the part of the span inside this range; the rest is the
	// caller's to continue at the resume key.
	desc := r.Desc()
	if desc == nil {
		return nil, &replication.RangeNotFoundError{RangeID: r.RangeID(), Node: ev.store.NodeID()}
	}
	// The scan must begin here (its start, or in reverse its end): a
	// router that routed it by a stale descriptor learns the current one
	// instead of getting an empty answer that resumes where it started.
	here := replication.ContainsKey(desc, s.StartKey)
	if s.Reverse {
		here = string(s.EndKey) > string(desc.StartKey) && string(s.EndKey) <= string(desc.EndKey)
	}
	if !here {
		return nil, &replication.RangeKeyMismatchError{RangeID: r.RangeID(), Start: s.StartKey, End: s.EndKey, Desc: desc}
	}
	start, end := clip(s.StartKey, s.EndKey, desc)
	res, err := r.MVCCScan(start, end, ts, storage.ScanOptions{Reverse: s.Reverse, MaxRows: int(s.MaxRows)})
	if err != nil {
		return nil, err
	}
	out := &kvpb.ScanResponse{}
	for _, kv := range res.Rows {
		out.Rows = append(out.Rows, &kvpb.KeyValue{Key: kv.Key, Value: kv.Value, Timestamp: kv.Timestamp})
	}
	switch {
	case res.ResumeSpan != nil && s.Reverse:
		out.ResumeKey = res.ResumeSpan.EndKey
	case res.ResumeSpan != nil:
		out.ResumeKey = res.ResumeSpan.Key
	case s.Reverse && string(s.StartKey) < string(start):
		out.ResumeKey = start
	case !s.Reverse && string(s.EndKey) > string(end):
		out.ResumeKey = end
	}
	return &kvpb.Response{Value: &kvpb.Response_Scan{Scan: out}}, nil
}

// clip returns the part of [start, end) inside desc.
func clip(start, end []byte, desc *replication.RangeDescriptor) ([]byte, []byte) {
	if string(start) < string(desc.StartKey) {
		start = desc.StartKey
	}
	if string(end) > string(desc.EndKey) {
		end = desc.EndKey
	}
	return start, end
}

// write replicates one write at a fresh timestamp and commit-waits.
func (ev *Evaluator) write(ctx context.Context, r *replication.Replica, w *replicationpb.MVCCWrite) (truetime.Timestamp, error) {
	if _, err := r.EnsureLease(ctx); err != nil {
		return 0, err
	}
	wt, err := r.AssignTimestamp(0)
	if err != nil {
		return 0, err
	}
	w.Timestamp = int64(wt.TS)
	if err := r.ProposeWrite(ctx, wt, &replicationpb.WriteBatch{Mvcc: []*replicationpb.MVCCWrite{w}}); err != nil {
		return 0, err
	}
	return wt.TS, ev.store.Clock().WaitUntilAfter(ctx, wt.TS)
}

func (ev *Evaluator) lockRMW(id replication.RangeID) func() {
	m, _ := ev.rmw.LoadOrStore(id, &sync.Mutex{})
	mu := m.(*sync.Mutex)
	mu.Lock()
	return mu.Unlock
}

func (ev *Evaluator) increment(ctx context.Context, r *replication.Replica, inc *kvpb.IncrementRequest) (int64, error) {
	defer ev.lockRMW(r.RangeID())()
	ts, err := ev.readTS(ctx, r, &kvpb.Header{}, &kvpb.BatchResponse{})
	if err != nil {
		return 0, err
	}
	kv, _, err := r.MVCCGet(inc.Key, ts)
	if err != nil {
		return 0, err
	}
	cur, err := decodeInt(kv.Value)
	if err != nil {
		return 0, fmt.Errorf("increment of %s: %w", storage.PrettyKey(inc.Key), err)
	}
	next := cur + inc.Delta
	if _, err := ev.write(ctx, r, &replicationpb.MVCCWrite{Key: inc.Key, Value: encodeInt(next)}); err != nil {
		return 0, err
	}
	return next, nil
}

// updateMeta writes descriptors into meta entries whose generation is lower.
// A descriptor also replaces entries inside its span that an older
// descriptor left (after a merge of cache and meta views, or a split whose
// left half was recorded first).
func (ev *Evaluator) updateMeta(ctx context.Context, r *replication.Replica, u *kvpb.UpdateMetaRequest) (int, error) {
	defer ev.lockRMW(r.RangeID())()
	ts, err := ev.readTS(ctx, r, &kvpb.Header{}, &kvpb.BatchResponse{})
	if err != nil {
		return 0, err
	}
	if _, err := r.EnsureLease(ctx); err != nil {
		return 0, err
	}
	wb := &replicationpb.WriteBatch{}
	for _, d := range u.Descs {
		key := MetaKey(d.EndKey)
		kv, found, err := r.MVCCGet(key, ts)
		if err != nil {
			return 0, err
		}
		if found {
			old := &replication.RangeDescriptor{}
			if err := unmarshalDesc(kv.Value, old); err != nil {
				return 0, err
			}
			if old.Generation >= d.Generation && old.RangeId == d.RangeId {
				continue
			}
			if old.RangeId != d.RangeId && old.Generation > d.Generation && string(old.StartKey) <= string(d.StartKey) {
				// A newer range already covers this end key.
				continue
			}
		}
		wb.Mvcc = append(wb.Mvcc, &replicationpb.MVCCWrite{Key: key, Value: marshal(d)})
	}
	if len(wb.Mvcc) == 0 {
		return 0, nil
	}
	wt, err := r.AssignTimestamp(0)
	if err != nil {
		return 0, err
	}
	for _, w := range wb.Mvcc {
		w.Timestamp = int64(wt.TS)
	}
	if err := r.ProposeWrite(ctx, wt, wb); err != nil {
		return 0, err
	}
	return len(wb.Mvcc), ev.store.Clock().WaitUntilAfter(ctx, wt.TS)
}

func firstKey(ba *kvpb.BatchRequest) []byte {
	if len(ba.Requests) == 0 {
		return nil
	}
	return requestKey(ba.Requests[0])
}

func requestKey(req *kvpb.Request) []byte {
	switch v := req.Value.(type) {
	case *kvpb.Request_Get:
		return v.Get.Key
	case *kvpb.Request_Scan:
		return v.Scan.StartKey
	case *kvpb.Request_Put:
		return v.Put.Key
	case *kvpb.Request_Delete:
		return v.Delete.Key
	case *kvpb.Request_Increment:
		return v.Increment.Key
	}
	return nil
}
