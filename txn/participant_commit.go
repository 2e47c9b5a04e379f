package txn

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/meridiandb/meridian/replication"
	"github.com/meridiandb/meridian/storage"
	"github.com/meridiandb/meridian/truetime"
	"github.com/meridiandb/meridian/txn/txnpb"
)

// Coordinator decisions live in the coordinator range's local keyspace:
//
//	RangeLocalKey(range, SuffixTxnDecision, TxnID) -> txnpb.Decision
//
// Splits copy them to both halves, so that a status request routed by the
// coordinator key finds the decision wherever the key went.

func decisionKey(rangeID replication.RangeID, txnID []byte) []byte {
	return storage.RangeLocalKey(uint64(rangeID), storage.SuffixTxnDecision, txnID)
}

func (p *Participant) readDecision(r *replication.Replica, txnID []byte) (*txnpb.Decision, error) {
	v, found, err := r.ReadLocal(decisionKey(r.RangeID(), txnID))
	if err != nil || !found {
		return nil, err
	}
	d := &txnpb.Decision{}
	if err := proto.Unmarshal(v, d); err != nil {
		return nil, fmt.Errorf("decoding decision of txn %s: %w", txnName(txnID), err)
	}
	return d, nil
}

// decisionLock serializes deciding one transaction's fate at this store.
func (p *Participant) decisionLock(txnID []byte) func() {
	p.decisionMu.Lock()
	m := p.deciding[string(txnID)]
	if m == nil {
		m = &sync.Mutex{}
		p.deciding[string(txnID)] = m
	}
	p.decisionMu.Unlock()
	m.Lock()
	return func() {
		m.Unlock()
		p.decisionMu.Lock()
		delete(p.deciding, string(txnID))
		p.decisionMu.Unlock()
	}
}

// commit commits at this range: a transaction whose only range this is
// (one phase), the coordinator's decision of a two-phase commit, or the
// release of a read-only transaction's locks at its timestamp.
func (p *Participant) commit(ctx context.Context, r *replication.Replica, in *txnpb.CommitRequest) (*txnpb.CommitResponse, error) {
	epoch, err := p.lease(ctx, r)
	if err != nil {
		return nil, err
	}
	// The locks go by the span the range has now: a split while the commit
	// runs must not strand the locks that land in the new right half.
	span := r.Desc()
	if span == nil {
		return nil, &replication.RangeNotFoundError{RangeID: r.RangeID()}
	}
	if err := p.checkEpoch(r, in.Txn, in.Epoch, epoch); err != nil {
		return nil, err
	}
	if err := p.locks.Aborted(in.Txn.Id); err != nil {
		return nil, err
	}
	tm := &txnpb.Timings{}
	if in.ReadOnly {
		// Nothing to write: the locks held until now protected the reads up
		// to the timestamp the gateway waited out.
		if err := p.locks.SetState(in.Txn, committing, span.StartKey, span.EndKey); err != nil {
			return nil, err
		}
		p.release(span, in.Txn.Id)
		return &txnpb.CommitResponse{CommitTs: in.ReadOnlyTs, Timings: tm}, nil
	}
	waited, err := p.writeLocks(ctx, r, in.Txn, in.Writes, epoch, in.LockTimeoutNanos)
	tm.LockWaitNanos = int64(waited)
	if err != nil {
		return nil, err
	}
	if err := p.locks.SetState(in.Txn, committing, span.StartKey, span.EndKey); err != nil {
		return nil, err
	}
	if in.TwoPhase {
		unlock := p.decisionLock(in.Txn.Id)
		defer unlock()
		d, err := p.readDecision(r, in.Txn.Id)
		if err != nil {
			return nil, err
		}
		if d != nil && d.Aborted {
			p.locks.Abort(in.Txn.Id, "aborted by recovery", nil, nil)
			return nil, fmt.Errorf("%w: txn %s was aborted by its participants' recovery", errAborted, txnName(in.Txn.Id))
		}
		if d != nil && d.Committed {
			// A repeated decision: it stands at the timestamp taken first.
			p.release(span, in.Txn.Id)
			return &txnpb.CommitResponse{CommitTs: d.CommitTs, Timings: tm}, nil
		}
	}
	w, err := r.AssignTimestamp(truetime.Timestamp(in.MinTs))
	if err != nil {
		p.proposalFailed(span, in.Txn.Id, err)
		return nil, err
	}
	if in.MaxTs != 0 && int64(w.TS) > in.MaxTs {
		r.ReleaseTimestamp(w)
		err := &RetryableError{Txn: txnName(in.Txn.Id), Reason: fmt.Sprintf("its commit timestamp %v would pass its deadline %v",
			w.TS, truetime.Timestamp(in.MaxTs))}
		p.proposalFailed(span, in.Txn.Id, err)
		return nil, err
	}
	// The reads here need no lock past this point: every write this range
	// takes from now on gets a timestamp above w.TS (the range's floor),
	// so nothing can change what they read at w.TS. Writers waiting for
	// them go ahead during raft and commit wait. (A prepared participant
	// elsewhere keeps its read locks until it learns the timestamp.)
	p.locks.ReleaseShared(in.Txn.Id, span.StartKey, span.EndKey)
	wb := &replication.WriteBatch{Mvcc: mvccWrites(in.Writes, w.TS)}
	if in.TwoPhase {
		rec, _ := proto.Marshal(&txnpb.Decision{Committed: true, CommitTs: int64(w.TS)})
		wb.Local = append(wb.Local, &replication.LocalWrite{Key: decisionKey(r.RangeID(), in.Txn.Id), Value: rec})
	}
	// From here the commit runs to its end even if the gateway goes away:
	// its locks must be held until the proposal's fate is known.
	pctx, cancel := detached(ctx)
	defer cancel()
	start := truetime.Mono()
	if err := r.ProposeWrite(pctx, w, wb); err != nil {
		p.proposalFailed(span, in.Txn.Id, err)
		return nil, err
	}
	tm.RaftNanos = int64(truetime.Mono() - start)
	// The writes have applied: the locks go now, before the commit wait.
	// A transaction that reads them before w.TS has passed sees a timestamp
	// floor at or above w.TS (observed_ts) and commits above it, so it
	// still serializes after this one; only this transaction's own answer
	// waits for w.TS to pass.
	p.release(span, in.Txn.Id)
	cw, err := p.commitWait(pctx, w.TS)
	tm.CommitWaitNanos = int64(cw)
	if err != nil {
		return nil, err
	}
	return &txnpb.CommitResponse{CommitTs: int64(w.TS), Timings: tm}, nil
}

// prepare holds a participant's locks durably and picks its prepare
// timestamp, above every timestamp the leaseholder assigned.
func (p *Participant) prepare(ctx context.Context, r *replication.Replica, in *txnpb.PrepareRequest) (*txnpb.PrepareResponse, error) {
	epoch, err := p.lease(ctx, r)
	if err != nil {
		return nil, err
	}
	span := r.Desc()
	if span == nil {
		return nil, &replication.RangeNotFoundError{RangeID: r.RangeID()}
	}
	if err := p.checkEpoch(r, in.Txn, in.Epoch, epoch); err != nil {
		return nil, err
	}
	if err := p.locks.Aborted(in.Txn.Id); err != nil {
		return nil, err
	}
	tm := &txnpb.Timings{}
	waited, err := p.writeLocks(ctx, r, in.Txn, in.Writes, epoch, in.LockTimeoutNanos)
	tm.LockWaitNanos = int64(waited)
	if err != nil {
		return nil, err
	}
	if in.LockOnly {
		return &txnpb.PrepareResponse{Timings: tm}, nil
	}
	if err := p.locks.SetState(in.Txn, prepared, span.StartKey, span.EndKey); err != nil {
		return nil, err
	}
	w, err := r.AssignTimestamp(0)
	if err != nil {
		p.proposalFailed(span, in.Txn.Id, err)
		return nil, err
	}
	rec, _ := proto.Marshal(&txnpb.PreparedRecord{Txn: in.Txn, Writes: in.Writes, Reads: in.Reads, CoordinatorKey: in.CoordinatorKey})
	wb := &replication.WriteBatch{Prepared: []*replication.PreparedChange{{TxnId: in.Txn.Id, PrepareTs: int64(w.TS), Record: rec}}}
	pctx, cancel := detached(ctx)
	defer cancel()
	start := truetime.Mono()
	if err := r.ProposeWrite(pctx, w, wb); err != nil {
		p.proposalFailed(span, in.Txn.Id, err)
		return nil, err
	}
	tm.RaftNanos = int64(truetime.Mono() - start)
	return &txnpb.PrepareResponse{PrepareTs: int64(w.TS), Timings: tm}, nil
}

// detached returns a context for a proposal that must be seen through even
// if the request's caller goes away.
func detached(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
}

// proposalFailed releases a transaction's locks on this range after its
// commit or prepare did not get to propose or its proposal definitely did
// not apply; when the outcome is
// unknown they stay (releasing them could let another transaction read
// around a write that still applies).
func (p *Participant) proposalFailed(span *replication.RangeDescriptor, txnID []byte, err error) {
	if errors.Is(err, replication.ErrAmbiguousResult) {
		return
	}
	p.locks.Abort(txnID, "its commit failed: "+err.Error(), span.StartKey, span.EndKey)
}

// resolve applies a prepared transaction's outcome here.
func (p *Participant) resolve(ctx context.Context, r *replication.Replica, in *txnpb.ResolveRequest) (*txnpb.ResolveResponse, error) {
	l, err := r.EnsureLease(ctx)
	if err != nil {
		return nil, err
	}
	tm := &txnpb.Timings{}
	rec, err := p.preparedRecord(r, in.Txn.Id)
	if err != nil {
		return nil, err
	}
	if rec == nil {
		// Resolved already (or never prepared): nothing is left but locks.
		if !in.Commit {
			p.locks.Abort(in.Txn.Id, "aborted", nil, nil)
		}
		p.releaseRange(r, in.Txn.Id)
		return &txnpb.ResolveResponse{Timings: tm}, nil
	}
	wb := &replication.WriteBatch{Prepared: []*replication.PreparedChange{{TxnId: in.Txn.Id, Remove: true}}}
	if in.Commit {
		wb.Mvcc = mvccWrites(rec.Writes, truetime.Timestamp(in.CommitTs))
		// Readers of these writes see the floor at or above their timestamp.
		r.ForwardTimestampFloor(truetime.Timestamp(in.CommitTs))
	}
	start := truetime.Mono()
	if err := r.ProposeUntimed(ctx, l.Sequence, wb); err != nil {
		return nil, err
	}
	tm.RaftNanos = int64(truetime.Mono() - start)
	p.releaseRange(r, in.Txn.Id)
	p.mu.Lock()
	delete(p.mu.seen, string(in.Txn.Id))
	p.mu.Unlock()
	return &txnpb.ResolveResponse{Timings: tm}, nil
}

// preparedRecord returns the transaction's prepared record on this range.
func (p *Participant) preparedRecord(r *replication.Replica, txnID []byte) (*txnpb.PreparedRecord, error) {
	recs, err := r.PreparedRecords()
	if err != nil {
		return nil, err
	}
	for _, pr := range recs {
		if string(pr.TxnID) == string(txnID) {
			rec := &txnpb.PreparedRecord{}
			if err := proto.Unmarshal(pr.Record, rec); err != nil {
				return nil, fmt.Errorf("decoding prepared record of %s: %w", txnName(txnID), err)
			}
			return rec, nil
		}
	}
	return nil, nil
}

// rollback drops an active transaction's locks on this range (not those
// of a commit under way or of a prepared transaction).
func (p *Participant) rollback(r *replication.Replica, in *txnpb.RollbackRequest) (*txnpb.RollbackResponse, error) {
	if d := r.Desc(); d != nil {
		p.locks.AbortActive(in.Txn.Id, "rolled back", d.StartKey, d.EndKey)
	}
	return &txnpb.RollbackResponse{}, nil
}

// status returns a coordinator's decision; asked to, it decides abort if
// there is none yet (abort wins).
func (p *Participant) status(ctx context.Context, r *replication.Replica, in *txnpb.StatusRequest) (*txnpb.StatusResponse, error) {
	l, err := r.EnsureLease(ctx)
	if err != nil {
		return nil, err
	}
	unlock := p.decisionLock(in.TxnId)
	defer unlock()
	d, err := p.readDecision(r, in.TxnId)
	if err != nil {
		return nil, err
	}
	if d == nil && in.AbortIfMissing {
		d = &txnpb.Decision{Aborted: true}
		rec, _ := proto.Marshal(d)
		wb := &replication.WriteBatch{Local: []*replication.LocalWrite{{Key: decisionKey(r.RangeID(), in.TxnId), Value: rec}}}
		if err := r.ProposeUntimed(ctx, l.Sequence, wb); err != nil {
			return nil, err
		}
		p.locks.Abort(in.TxnId, "aborted by recovery", nil, nil)
	}
	if d == nil {
		d = &txnpb.Decision{}
	}
	return &txnpb.StatusResponse{Decision: d}, nil
}
