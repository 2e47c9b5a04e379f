package replication

import (
	"context"
	"errors"
	"fmt"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/meridiandb/meridian/replication/replicationpb"
	"github.com/meridiandb/meridian/truetime"
)

// Leases (doc.go states the rules). A replica serves as leaseholder when it
// is the raft leader, holds the applied lease, the lease's start has passed
// (After(start)) and its expiration has not arrived (Before(expiration)), and
// no transfer is under way.

// servingLocked reports whether this replica may serve as leaseholder at now.
func (r *Replica) servingLocked(now truetime.Interval) bool {
	l := r.mu.lease
	return r.mu.isLeader && !r.mu.transferring && l.GetHolder().GetReplicaId() == uint64(r.replicaID) &&
		now.Earliest > truetime.Timestamp(l.Start) && now.Latest < truetime.Timestamp(l.Expiration)
}

// IsLeaseholder reports whether the replica serves as leaseholder now.
func (r *Replica) IsLeaseholder() bool {
	serving, _ := r.LeaseholderAt()
	return serving
}

// HoldsLease reports whether the replica leads its range and the applied
// lease names it, valid or lapsed (an idle range lets its lease lapse; its
// leader takes it back on the next request).
func (r *Replica) HoldsLease() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.mu.isLeader && r.mu.lease.GetHolder().GetReplicaId() == uint64(r.replicaID)
}

// LeaseholderAt reports whether the replica serves as leaseholder, and the
// clock reading the decision was made at.
func (r *Replica) LeaseholderAt() (bool, truetime.Interval) {
	now := r.store.clock.Now()
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.servingLocked(now), now
}

// EnsureLease returns the lease once this replica serves as leaseholder,
// acquiring or extending it if the replica is the raft leader. Other
// replicas get a NotLeaseholderError naming whom to ask.
func (r *Replica) EnsureLease(ctx context.Context) (*Lease, error) {
	for {
		now := r.store.clock.Now()
		r.mu.Lock()
		if r.mu.destroyed != nil {
			err := r.mu.destroyed
			r.mu.Unlock()
			return nil, err
		}
		r.mu.lastActive = truetime.Mono()
		if r.mu.quiesced {
			r.unquiesceLocked()
		}
		if r.mu.desc == nil {
			err := r.notLeaseholderLocked("not initialized")
			r.mu.Unlock()
			return nil, err
		}
		if !r.mu.isLeader {
			l := r.mu.lease
			if l.GetHolder().GetReplicaId() == uint64(r.replicaID) && now.Latest < truetime.Timestamp(l.Expiration) {
				// We hold the lease (it came by transfer) but raft has not
				// followed yet: ask for the leadership and wait for it.
				r.mu.transferTo = r.replicaID
				changed := r.changedLocked()
				r.mu.Unlock()
				r.store.scheduler.enqueue(r.rangeID)
				if err := r.waitChange(ctx, changed, 0, now); err != nil {
					return nil, err
				}
				continue
			}
			err := r.notLeaseholderLocked("not the raft leader")
			r.mu.Unlock()
			return nil, err
		}
		if r.mu.transferring {
			err := r.notLeaseholderLocked("lease transfer under way")
			r.mu.Unlock()
			return nil, err
		}
		l := r.mu.lease
		mine := l.GetHolder().GetReplicaId() == uint64(r.replicaID)
		if r.servingLocked(now) {
			if truetime.Timestamp(l.Expiration)-now.Latest < truetime.Timestamp(r.store.opts.LeaseRenewBefore) {
				r.requestLeaseLocked(now)
			}
			out := proto.Clone(l).(*Lease)
			r.mu.Unlock()
			return out, nil
		}
		if !mine && l.GetHolder() != nil && now.Earliest <= truetime.Timestamp(l.Expiration) {
			// Another replica's lease may still be in force: it serves (a
			// transfer handed it the lease and raft leadership follows).
			err := r.notLeaseholderLocked("another replica holds the lease")
			r.mu.Unlock()
			return nil, err
		}
		if !(mine && now.Latest < truetime.Timestamp(l.Expiration)) {
			// Expired, or ours and about to expire: ask for a new one.
			r.requestLeaseLocked(now)
		}
		changed := r.changedLocked()
		wait := r.store.clock.Now()
		r.mu.Unlock()
		// Wait for the lease to apply or its start to pass.
		if err := r.waitChange(ctx, changed, truetime.Timestamp(l.Start), wait); err != nil {
			return nil, err
		}
	}
}

// waitChange waits until changed fires, or TrueTime passes start (when it
// lies ahead), or a short retry interval passes.
func (r *Replica) waitChange(ctx context.Context, changed <-chan struct{}, start truetime.Timestamp, now truetime.Interval) error {
	d := r.store.opts.TickInterval
	if start >= now.Earliest {
		if until := time.Duration(start-now.Earliest) + 1; until < d {
			d = until
		}
	}
	t := r.store.newTimer(d)
	defer t.Stop()
	select {
	case <-changed:
		return nil
	case <-t.C:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("r%d waiting for lease: %w", r.rangeID, ctx.Err())
	case <-r.store.stopper:
		return ErrStopped
	}
}

// requestLeaseLocked proposes a lease for this replica, in the background,
// unless one is already on its way. Called with mu held, by the leader.
func (r *Replica) requestLeaseLocked(now truetime.Interval) {
	if r.mu.leaseProposed || !r.mu.isLeader {
		return
	}
	if unsafe := r.store.clockUnsafe(); unsafe != "" {
		r.store.logger.Warn("not taking a lease: clock unsafe", "range", r.rangeID, "reason", unsafe)
		return
	}
	prev := r.mu.lease
	me, ok := ReplicaByID(r.mu.desc, r.replicaID)
	if !ok {
		return
	}
	next := &Lease{
		Holder:     proto.Clone(me).(*ReplicaDescriptor),
		Expiration: int64(now.Latest) + int64(r.store.opts.LeaseDuration),
	}
	if prev.GetHolder().GetReplicaId() == uint64(r.replicaID) {
		// An extension keeps the start and the sequence, so writes in flight
		// under the lease still apply.
		next.Start, next.Sequence = prev.Start, prev.Sequence
		next.Expiration = max(next.Expiration, prev.Expiration)
	} else {
		next.Start, next.Sequence = prev.GetExpiration(), prev.GetSequence()+1
	}
	r.mu.leaseProposed = true
	cmd := &Command{Lease: &replicationpb.LeaseChange{Lease: next, PrevSequence: prev.GetSequence()}}
	r.store.runAsync(func(ctx context.Context) {
		ctx, cancel := context.WithTimeout(ctx, r.store.opts.electionTimeout()*2)
		defer cancel()
		err := r.proposeCommand(ctx, cmd, false)
		r.mu.Lock()
		r.mu.leaseProposed = false
		r.notifyLocked()
		r.mu.Unlock()
		if err != nil && !errors.Is(err, ErrStopped) {
			r.store.logger.Debug("lease request failed", "range", r.rangeID, "err", err)
		}
	})
}

// leaseAppliedLocked runs on the worker after a lease change applied. An
// extension is the same lease lasting longer: observers hear only of new
// leases.
func (r *Replica) leaseAppliedLocked(l *Lease, extension bool) {
	r.mu.Lock()
	mine := l.GetHolder().GetReplicaId() == uint64(r.replicaID)
	if !mine {
		r.mu.transferring = false
	}
	leader := r.mu.isLeader
	r.mu.Unlock()
	if mine {
		if !extension {
			r.store.observer.LeaseAcquired(r, l)
		}
		if !leader {
			// The lease came to us by transfer: take the leadership too.
			r.raft.node.TransferLeader(uint64(r.replicaID))
		}
	}
}

// TransferLease hands the lease to the replica on node target and asks raft
// to move leadership there. It returns once the new lease applied.
func (r *Replica) TransferLease(ctx context.Context, target NodeID) error {
	now := r.store.clock.Now()
	r.mu.Lock()
	if !r.servingLocked(now) {
		err := r.notLeaseholderLocked("cannot transfer a lease it does not serve")
		r.mu.Unlock()
		return err
	}
	to, ok := ReplicaOnNode(r.mu.desc, target)
	if !ok || to.Type != replicationpb.ReplicaType_VOTER {
		r.mu.Unlock()
		return fmt.Errorf("r%d: no voter on n%d to transfer the lease to", r.rangeID, target)
	}
	if to.ReplicaId == uint64(r.replicaID) {
		r.mu.Unlock()
		return nil
	}
	// Stop assigning timestamps; the new lease starts above every one we
	// assigned or promised.
	r.mu.transferring = true
	prev := r.mu.lease
	start := max(r.mu.tsFloor, r.mu.closed, truetime.Timestamp(prev.Start))
	next := &Lease{
		Holder:     proto.Clone(to).(*ReplicaDescriptor),
		Start:      int64(start),
		Expiration: int64(now.Latest) + int64(r.store.opts.LeaseDuration),
		Sequence:   prev.Sequence + 1,
	}
	r.mu.Unlock()
	cmd := &Command{Lease: &replicationpb.LeaseChange{Lease: next, PrevSequence: prev.Sequence, Transfer: true}}
	err := r.proposeCommand(ctx, cmd, false)
	r.mu.Lock()
	if err != nil {
		r.mu.transferring = false
		r.mu.Unlock()
		return fmt.Errorf("r%d: transferring lease to n%d: %w", r.rangeID, target, err)
	}
	r.mu.transferTo = ReplicaID(to.ReplicaId)
	r.mu.Unlock()
	r.store.scheduler.enqueue(r.rangeID)
	return nil
}

// applyLeaseChange validates a lease change against the current lease; the
// rules are deterministic so every replica decides alike.
func applyLeaseChange(cur *Lease, lc *replicationpb.LeaseChange) (*Lease, error) {
	next := lc.Lease
	if lc.PrevSequence != cur.GetSequence() {
		return nil, fmt.Errorf("%w: lease change based on sequence %d, current %d", ErrLeaseChanged, lc.PrevSequence, cur.GetSequence())
	}
	sameHolder := cur.GetHolder().GetReplicaId() == next.GetHolder().GetReplicaId() && cur.GetHolder() != nil
	switch {
	case sameHolder && next.Sequence == cur.Sequence:
		// Extension.
		out := proto.Clone(cur).(*Lease)
		out.Expiration = max(cur.Expiration, next.Expiration)
		return out, nil
	case next.Sequence != cur.GetSequence()+1:
		return nil, fmt.Errorf("%w: new lease sequence %d after %d", ErrLeaseChanged, next.Sequence, cur.GetSequence())
	case !lc.Transfer && next.Start < cur.GetExpiration():
		// A new holder may only start where the old lease ends.
		return nil, fmt.Errorf("%w: new lease starts at %d before the current one expires at %d", ErrLeaseChanged, next.Start, cur.GetExpiration())
	}
	return next, nil
}
