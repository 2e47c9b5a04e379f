package replication

import (
	"go.etcd.io/raft/v3"
	"go.etcd.io/raft/v3/tracker"

	"github.com/meridiandb/meridian/replication/replicationpb"
	"github.com/meridiandb/meridian/truetime"
)

// Quiescence: a leader whose range is idle (no request for ActiveWindow,
// nothing in flight, every replica caught up) tells its followers and stops
// ticking; they stop too. Any raft message, proposal or request wakes the
// range; a follower wakes when the leader's node stops heartbeating.

// tickLocked runs on the worker before raft ticks; it reports whether the
// replica quiesced instead.
func (r *Replica) tickLocked() (quiesced bool) {
	r.dropStaleOutgoingLocked()
	now := r.store.clock.Now()
	r.mu.Lock()
	active := truetime.Mono()-r.mu.lastActive < r.store.opts.ActiveWindow
	leader := r.mu.isLeader
	l := r.mu.lease
	mine := l.GetHolder().GetReplicaId() == uint64(r.replicaID)
	if leader && r.mu.desc != nil {
		expiring := truetime.Timestamp(l.GetExpiration())-now.Latest < truetime.Timestamp(r.store.opts.LeaseRenewBefore)
		switch {
		case mine && active && expiring:
			r.requestLeaseLocked(now)
		case !mine && (l.GetHolder() == nil || now.Earliest > truetime.Timestamp(l.GetExpiration())):
			// Nobody holds a valid lease: the leader takes it.
			r.requestLeaseLocked(now)
		}
	}
	r.mu.Unlock()
	if !leader && mine && now.Latest < truetime.Timestamp(l.GetExpiration()) {
		// We hold the lease but not the leadership: ask for it.
		r.raft.node.TransferLeader(uint64(r.replicaID))
	}
	if leader && !active {
		return r.maybeQuiesceLocked()
	}
	r.raft.idleTicks = 0
	return false
}

// maybeQuiesceLocked quiesces an idle leader whose followers all caught up.
func (r *Replica) maybeQuiesceLocked() bool {
	r.raft.idleTicks++
	if r.raft.idleTicks < 3 {
		return false
	}
	st := r.raft.node.Status()
	if st.RaftState != raft.StateLeader || st.LeadTransferee != 0 {
		return false
	}
	last := r.raft.log.lastIndex
	if st.GetCommit() != last || st.Applied != last || len(r.raft.outgoing) > 0 {
		return false
	}
	for id, pr := range st.Progress {
		if id == uint64(r.replicaID) {
			continue
		}
		if pr.Match != last || pr.State != tracker.StateReplicate || !pr.RecentActive {
			return false
		}
	}
	r.mu.Lock()
	if len(r.mu.pending) > 0 || len(r.mu.proposals) > 0 || len(r.mu.inflight) > 0 || r.mu.leaseProposed || r.mu.desc == nil {
		r.mu.Unlock()
		return false
	}
	desc := r.mu.desc
	r.mu.quiesced = true
	// Under mu, so that a concurrent wake-up cannot be undone.
	r.store.setTicking(r, false)
	r.mu.Unlock()
	// Once woken, tick (and heartbeat) a few times before quiescing again,
	// so that a follower that missed the notice hears from the leader.
	r.raft.idleTicks = 0
	q := &replicationpb.Quiesce{RangeId: uint64(r.rangeID), Term: st.GetTerm(), Commit: st.GetCommit()}
	for _, rd := range desc.Replicas {
		if ReplicaID(rd.ReplicaId) != r.replicaID {
			r.store.sendQuiesce(NodeID(rd.NodeId), q)
		}
	}
	return true
}

// quiesceFollowerLocked stops a follower that is caught up with the
// quiescing leader's term and commit. Called on the worker.
func (r *Replica) quiesceFollowerLocked(q *replicationpb.Quiesce) {
	// A follower of the same term stops ticking even if it has not learned
	// the latest commit index yet: the leader quiesces only once every
	// follower acknowledged its last entry, and the next message wakes it.
	// A follower left ticking under a silent leader would call elections.
	st := r.raft.node.BasicStatus()
	if st.RaftState != raft.StateFollower || st.GetTerm() != q.Term {
		return
	}
	r.mu.Lock()
	if len(r.mu.pending) > 0 || len(r.mu.inbox) > 0 {
		r.mu.Unlock()
		return
	}
	r.mu.quiesced = true
	r.store.setTicking(r, false)
	r.mu.Unlock()
}

// unquiesceLocked resumes ticking. Called with mu held.
func (r *Replica) unquiesceLocked() {
	if !r.mu.quiesced {
		return
	}
	r.mu.quiesced = false
	r.store.setTicking(r, true)
}

// leaderNode returns the node of the raft leader, if known.
func (r *Replica) leaderNode() (NodeID, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.mu.leader == 0 || r.mu.desc == nil {
		return 0, false
	}
	rd, ok := ReplicaByID(r.mu.desc, r.mu.leader)
	if !ok {
		return 0, false
	}
	return NodeID(rd.NodeId), true
}

// wakeIfLeaderDead unquiesces a quiesced follower whose leader's node is
// no longer heard from, so it can elect a new leader.
func (r *Replica) wakeIfLeaderDead() {
	r.mu.Lock()
	quiesced := r.mu.quiesced
	r.mu.Unlock()
	if !quiesced {
		return
	}
	n, ok := r.leaderNode()
	if ok && (n == r.store.nodeID || r.store.NodeLive(n)) {
		return
	}
	r.mu.Lock()
	r.unquiesceLocked()
	r.mu.Unlock()
}
