package replication

import (
	"context"
	"fmt"
	"time"

	"github.com/meridiandb/meridian/replication/replicationpb"
	"github.com/meridiandb/meridian/storage"
	"github.com/meridiandb/meridian/truetime"
)

// WriteTimestamp is a timestamp the leaseholder assigned to a write. Until
// the write is proposed (or the timestamp released) reads above it wait, and
// timestamps are not closed at or above it.
type WriteTimestamp struct {
	TS       truetime.Timestamp
	LeaseSeq uint64
	id       uint64
}

// AssignTimestamp picks a write timestamp s > max(TT.now().latest, every
// timestamp this leaseholder assigned or promised, min). It fails if s would
// lie past the lease's expiration: no timestamp is ever assigned beyond it.
// The caller must Propose or Release it.
func (r *Replica) AssignTimestamp(min truetime.Timestamp) (WriteTimestamp, error) {
	now := r.store.clock.Now()
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.servingLocked(now) {
		return WriteTimestamp{}, r.notLeaseholderLocked("not serving a lease")
	}
	s := max(now.Latest+1, r.mu.tsFloor+1, min)
	if s > truetime.Timestamp(r.mu.lease.Expiration) {
		r.requestLeaseLocked(now)
		return WriteTimestamp{}, r.notLeaseholderLocked(fmt.Sprintf("timestamp %d would pass the lease expiration %d", s, r.mu.lease.Expiration))
	}
	r.mu.tsFloor = s
	id := r.store.nextID()
	r.mu.inflight[id] = s
	return WriteTimestamp{TS: s, LeaseSeq: r.mu.lease.Sequence, id: id}, nil
}

// TimestampFloor returns the highest timestamp this leaseholder assigned,
// served a read at or closed (at least its lease's start): every version
// visible in the range now that this leaseholder wrote is at or below it.
func (r *Replica) TimestampFloor() truetime.Timestamp {
	r.mu.Lock()
	defer r.mu.Unlock()
	return max(r.mu.tsFloor, truetime.Timestamp(r.mu.lease.GetStart()))
}

// ForwardTimestampFloor raises the timestamp floor to ts: later writes get
// timestamps above it. A commit at a timestamp assigned elsewhere (a
// resolved two-phase commit) raises it to its timestamp.
func (r *Replica) ForwardTimestampFloor(ts truetime.Timestamp) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.mu.tsFloor = max(r.mu.tsFloor, ts)
}

// ReleaseTimestamp forgets an assigned timestamp that will not be proposed.
func (r *Replica) ReleaseTimestamp(w WriteTimestamp) {
	r.mu.Lock()
	delete(r.mu.inflight, w.id)
	r.notifyLocked()
	r.mu.Unlock()
}

// ProposeWrite replicates a batch of writes assigned timestamp w and waits
// until it applies. The writes apply only if w's lease is still current.
func (r *Replica) ProposeWrite(ctx context.Context, w WriteTimestamp, wb *WriteBatch) error {
	if err := r.checkWriteSpan(wb); err != nil {
		r.ReleaseTimestamp(w)
		return err
	}
	cmd := &Command{Id: w.id, LeaseSequence: w.LeaseSeq, Write: wb, ClosedTs: int64(r.closeForProposal())}
	return r.proposeCommand(ctx, cmd, true)
}

// ProposeUntimed replicates writes that need no new timestamp, such as the
// commit of a prepared transaction at its decided timestamp or the
// transaction layer's local records. It requires the current lease.
func (r *Replica) ProposeUntimed(ctx context.Context, leaseSeq uint64, wb *WriteBatch) error {
	if err := r.checkWriteSpan(wb); err != nil {
		return err
	}
	return r.proposeCommand(ctx, &Command{LeaseSequence: leaseSeq, Write: wb}, false)
}

// ProposeGC collects versions of the range's data invisible at or above
// threshold.
func (r *Replica) ProposeGC(ctx context.Context, leaseSeq uint64, threshold truetime.Timestamp) error {
	desc := r.Desc()
	if desc == nil {
		return &RangeNotFoundError{RangeID: r.rangeID, Node: r.store.nodeID}
	}
	cmd := &Command{LeaseSequence: leaseSeq, Gc: &replicationpb.GCRequest{StartKey: desc.StartKey, EndKey: desc.EndKey, Threshold: int64(threshold)}}
	return r.proposeCommand(ctx, cmd, false)
}

func (r *Replica) checkWriteSpan(wb *WriteBatch) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, m := range wb.Mvcc {
		if r.mu.desc == nil || !ContainsKey(r.mu.desc, m.Key) {
			return &RangeKeyMismatchError{RangeID: r.rangeID, Start: m.Key, End: m.Key, Desc: r.mu.desc}
		}
	}
	return nil
}

// closeForProposal returns the timestamp a proposal made now may close: the
// present (capped by the lease), below every write still in flight.
func (r *Replica) closeForProposal() truetime.Timestamp {
	now := r.store.clock.Now()
	r.mu.Lock()
	defer r.mu.Unlock()
	c := r.closeTargetLocked(now)
	r.mu.tsFloor = max(r.mu.tsFloor, c)
	return c
}

func (r *Replica) closeTargetLocked(now truetime.Interval) truetime.Timestamp {
	c := min(now.Latest, truetime.Timestamp(r.mu.lease.GetExpiration()))
	for _, t := range r.mu.inflight {
		c = min(c, t-1)
	}
	return c
}

// safeTimeLocked returns t_safe = min(closed timestamp, oldest prepare − 1).
func (r *Replica) safeTimeLocked() truetime.Timestamp {
	t := r.mu.closed
	for _, p := range r.mu.prepared {
		t = min(t, p-1)
	}
	return t
}

// SafeTime returns the replica's t_safe.
func (r *Replica) SafeTime() truetime.Timestamp {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.safeTimeLocked()
}

// LeaseholderReadAt waits until the leaseholder can serve a read at ts: no
// write at or below ts is in flight and no transaction prepared at or below
// ts is unresolved. It raises the timestamp floor to ts so later writes land
// above the read.
func (r *Replica) LeaseholderReadAt(ctx context.Context, at truetime.Timestamp) error {
	for {
		now := r.store.clock.Now()
		r.mu.Lock()
		if !r.servingLocked(now) {
			err := r.notLeaseholderLocked("not serving a lease")
			r.mu.Unlock()
			return err
		}
		if at > truetime.Timestamp(r.mu.lease.Expiration) {
			err := r.notLeaseholderLocked(fmt.Sprintf("read at %d past the lease expiration %d", at, r.mu.lease.Expiration))
			r.mu.Unlock()
			return err
		}
		r.mu.lastActive = truetime.Mono()
		blocked := false
		for _, t := range r.mu.inflight {
			blocked = blocked || t <= at
		}
		for _, p := range r.mu.prepared {
			blocked = blocked || p <= at
		}
		if !blocked {
			r.mu.tsFloor = max(r.mu.tsFloor, at)
			r.mu.Unlock()
			return nil
		}
		changed := r.changedLocked()
		r.mu.Unlock()
		select {
		case <-changed:
		case <-ctx.Done():
			return fmt.Errorf("r%d: read at %d waiting for writes and prepared transactions: %w", r.rangeID, at, ctx.Err())
		case <-r.store.stopper:
			return ErrStopped
		}
	}
}

// FollowerReadAt waits up to maxWait until the replica's safe time reaches
// ts, and fails with ErrFollowerBehind otherwise.
func (r *Replica) FollowerReadAt(ctx context.Context, at truetime.Timestamp, maxWait time.Duration) error {
	var timer *time.Timer
	defer func() {
		if timer != nil {
			timer.Stop()
		}
	}()
	for {
		r.mu.Lock()
		if r.mu.destroyed != nil {
			err := r.mu.destroyed
			r.mu.Unlock()
			return err
		}
		if r.mu.desc == nil {
			r.mu.Unlock()
			return &RangeNotFoundError{RangeID: r.rangeID, Node: r.store.nodeID}
		}
		if at <= r.safeTimeLocked() {
			r.mu.Unlock()
			return nil
		}
		changed := r.changedLocked()
		r.mu.Unlock()
		if timer == nil {
			timer = r.store.newTimer(maxWait)
		}
		select {
		case <-changed:
		case <-timer.C:
			return fmt.Errorf("%w: r%d on n%d: safe time %d < %d", ErrFollowerBehind, r.rangeID, r.store.nodeID, r.SafeTime(), at)
		case <-ctx.Done():
			return fmt.Errorf("r%d: follower read at %d: %w", r.rangeID, at, ctx.Err())
		case <-r.store.stopper:
			return ErrStopped
		}
	}
}

// checkSpan verifies that [start, end) lies in the replica's span.
func (r *Replica) checkSpan(start, end []byte) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.mu.desc == nil {
		return &RangeNotFoundError{RangeID: r.rangeID, Node: r.store.nodeID}
	}
	if !ContainsSpan(r.mu.desc, start, end) {
		return &RangeKeyMismatchError{RangeID: r.rangeID, Start: start, End: end, Desc: r.mu.desc}
	}
	return nil
}

// MVCCGet reads key at ts from the store, after checking it is in the
// range. The caller has established that the read is safe at ts.
func (r *Replica) MVCCGet(key []byte, at truetime.Timestamp) (storage.KeyValue, bool, error) {
	if err := r.checkSpan(key, key); err != nil {
		return storage.KeyValue{}, false, err
	}
	return r.store.eng.MVCCGet(key, int64(at))
}

// MVCCScan scans [start, end) at ts, after checking the span is in the range.
func (r *Replica) MVCCScan(start, end []byte, at truetime.Timestamp, opts storage.ScanOptions) (storage.ScanResult, error) {
	if err := r.checkSpan(start, end); err != nil {
		return storage.ScanResult{}, err
	}
	return r.store.eng.MVCCScan(start, end, int64(at), opts)
}

// ReadLocal reads a local key of the store.
func (r *Replica) ReadLocal(key []byte) ([]byte, bool, error) { return r.store.eng.GetLocal(key) }

// applyClosedUpdate takes a side-transport closed timestamp.
func (r *Replica) applyClosedUpdate(u *replicationpb.ClosedUpdate) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.mu.sideClosed == nil || u.ClosedTs > r.mu.sideClosed.ClosedTs {
		r.mu.sideClosed = u
	}
	r.applySideClosedLocked()
}

// applySideClosedLocked uses the pending side-transport update once the
// replica applied its index under the same lease.
func (r *Replica) applySideClosedLocked() {
	u := r.mu.sideClosed
	if u == nil || r.mu.applied.Index < u.Index {
		return
	}
	r.mu.sideClosed = nil
	if u.LeaseSequence != r.mu.lease.GetSequence() {
		return
	}
	if c := truetime.Timestamp(u.ClosedTs); c > r.mu.closed {
		r.mu.closed = c
		r.notifyLocked()
	}
}

// closeTimestampLocked advances the leaseholder's closed timestamp and
// returns the update for followers, or nil if it does not serve.
func (r *Replica) closeTimestamp() *replicationpb.ClosedUpdate {
	now := r.store.clock.Now()
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.servingLocked(now) {
		return nil
	}
	c := r.closeTargetLocked(now)
	if c > r.mu.closed {
		r.mu.closed = c
		r.notifyLocked()
	}
	r.mu.tsFloor = max(r.mu.tsFloor, r.mu.closed)
	return &replicationpb.ClosedUpdate{
		RangeId:       uint64(r.rangeID),
		LeaseSequence: r.mu.lease.Sequence,
		ClosedTs:      int64(r.mu.closed),
		Index:         r.mu.applied.Index,
	}
}
