package replication

import (
	"errors"
	"fmt"

	"go.etcd.io/raft/v3"
	"go.etcd.io/raft/v3/raftpb"

	"github.com/meridiandb/meridian/truetime"
)

// process is the scheduler's entry point: it runs on a worker with nobody
// else processing this replica. It feeds raft what arrived (messages,
// snapshot reports, a tick, proposals, requests) and handles the Ready that
// results.
func (r *Replica) process() {
	r.raftMu.Lock()
	defer r.raftMu.Unlock()

	r.mu.Lock()
	if r.mu.destroyed != nil {
		r.mu.Unlock()
		return
	}
	msgs := r.mu.inbox
	r.mu.inbox = nil
	reports := r.mu.snapReports
	r.mu.snapReports = nil
	props := r.mu.pending
	r.mu.pending = nil
	transfer := r.mu.transferTo
	r.mu.transferTo = 0
	campaign := r.mu.campaign
	r.mu.campaign = false
	quiesce := r.mu.quiesceReq
	r.mu.quiesceReq = nil
	r.mu.Unlock()

	node := r.raft.node
	for _, m := range msgs {
		if err := node.Step(m); err != nil && !errors.Is(err, raft.ErrStepPeerNotFound) && !errors.Is(err, raft.ErrStepLocalMsg) {
			r.store.logger.Debug("raft step failed", "range", r.rangeID, "type", m.GetType().String(), "err", err)
		}
	}
	for _, rep := range reports {
		status := raft.SnapshotFinish
		if rep.failed {
			status = raft.SnapshotFailure
		}
		node.ReportSnapshot(uint64(rep.to), status)
	}
	if r.needsTick.Swap(false) {
		// An idle leader quiesces instead of ticking, so that no heartbeat
		// follows its quiesce notice.
		if !r.tickLocked() {
			node.Tick()
		}
	}
	if quiesce != nil {
		r.quiesceFollowerLocked(quiesce)
	}
	r.proposeLocked(props)
	if transfer != 0 {
		node.TransferLeader(uint64(transfer))
	}
	if campaign {
		_ = node.Campaign()
	}
	if node.HasReady() {
		if err := r.handleReadyLocked(); err != nil {
			r.store.fatal(fmt.Errorf("r%d: handling raft ready: %w", r.rangeID, err))
		}
	}
	if node.HasReady() {
		r.store.scheduler.enqueue(r.rangeID)
	}
}

// proposeLocked hands proposals to raft. Only the leader accepts them
// (proposal forwarding is off); the others fail at once so the caller can
// find the leader.
func (r *Replica) proposeLocked(props []*proposal) {
	if len(props) == 0 {
		return
	}
	node := r.raft.node
	st := node.BasicStatus()
	for _, p := range props {
		if st.RaftState != raft.StateLeader {
			p.finish(r.notLeaderError("not the raft leader"))
			continue
		}
		var err error
		if p.confChange != nil {
			err = node.ProposeConfChange(p.confChange)
		} else {
			err = node.Propose(p.data)
		}
		if err != nil {
			p.finish(fmt.Errorf("%w: %v", ErrProposalDropped, err))
			continue
		}
		p.term = st.GetTerm()
		r.mu.Lock()
		r.mu.proposals[p.id] = p
		r.mu.Unlock()
	}
}

// notLeaderError describes this replica's view of who leads the range.
func (r *Replica) notLeaderError(reason string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.notLeaseholderLocked(reason)
}

func (r *Replica) notLeaseholderLocked(reason string) error {
	e := &NotLeaseholderError{RangeID: r.rangeID, Node: r.store.nodeID, Reason: reason}
	if r.mu.desc != nil {
		// Prefer a valid lease's holder, then the raft leader.
		if h := r.mu.lease.GetHolder(); h != nil && h.ReplicaId != uint64(r.replicaID) {
			if rd, ok := ReplicaByID(r.mu.desc, ReplicaID(h.ReplicaId)); ok {
				e.Hint = rd
			}
		}
		if e.Hint == nil && r.mu.leader != 0 && r.mu.leader != r.replicaID {
			if rd, ok := ReplicaByID(r.mu.desc, r.mu.leader); ok {
				e.Hint = rd
			}
		}
	}
	return e
}

// handleReadyLocked carries out one raft Ready, in the order doc.go gives.
func (r *Replica) handleReadyLocked() error {
	node := r.raft.node
	rd := node.Ready()

	// 1. Soft state: who leads now.
	if rd.SoftState != nil {
		r.leadershipChangedLocked(rd.SoftState)
	}

	// A leader sends its appends before persisting them, so that its own
	// write and its followers' proceed in parallel (raft thesis §10.2.1):
	// commitment still needs a quorum of persisted logs, and the leader's
	// own counts only after Advance. Other messages wait for persistence.
	early := r.raft.node.BasicStatus().RaftState == raft.StateLeader && rd.Snapshot == nil && leaderOnlyMessages(rd.Messages)
	if early {
		r.sendMessagesLocked(rd.Messages)
	}

	// 2-3. Persist the snapshot, the entries and the HardState in one batch,
	// synced when raft requires it.
	b := r.store.eng.NewBatch()
	defer b.Close()
	var snapApplied *incomingSnapshot
	if rd.Snapshot != nil && !raft.IsEmptySnap(rd.Snapshot) {
		in, err := r.stageSnapshotLocked(b, rd.Snapshot)
		if err != nil {
			return err
		}
		snapApplied = in
	}
	if err := r.raft.log.append(b, rd.Entries); err != nil {
		return err
	}
	if !raft.IsEmptyHardState(rd.HardState) {
		if err := r.raft.log.setHardState(b, rd.HardState); err != nil {
			return err
		}
	}
	if !b.Empty() {
		start := truetime.Mono()
		if err := b.Commit(rd.MustSync || snapApplied != nil); err != nil {
			return err
		}
		r.store.metrics.observeRaftWrite(truetime.Mono() - start)
	}
	if snapApplied != nil {
		if err := r.snapshotCommittedLocked(rd.Snapshot, snapApplied); err != nil {
			return err
		}
	}
	r.raft.log.appendCommitted(rd.Entries)
	if !raft.IsEmptyHardState(rd.HardState) {
		r.raft.log.hardStateCommitted(rd.HardState)
	}

	// 4. Send messages; snapshots go out on their own stream.
	if !early {
		r.sendMessagesLocked(rd.Messages)
	}

	// 5. Apply committed entries.
	if len(rd.CommittedEntries) > 0 {
		if err := r.applyEntriesLocked(rd.CommittedEntries); err != nil {
			return err
		}
	}

	// 6. Advance.
	node.Advance(rd)
	r.maybeTruncateLogLocked()
	return nil
}

// leadershipChangedLocked records the new leader and reacts to gaining or
// losing leadership.
func (r *Replica) leadershipChangedLocked(ss *raft.SoftState) {
	st := r.raft.node.BasicStatus()
	r.mu.Lock()
	lost := false
	defer func() {
		r.mu.Unlock()
		if lost {
			r.store.observer.LeaseLost(r)
		}
	}()
	wasLeader := r.mu.isLeader
	r.mu.leader = ReplicaID(ss.Lead)
	r.mu.term = st.GetTerm()
	r.mu.isLeader = ss.RaftState == raft.StateLeader
	if wasLeader && !r.mu.isLeader {
		// Stop serving as leaseholder at once: the lease may still be valid,
		// but only the leader serves (doc.go).
		r.mu.transferring = false
		r.mu.leaseProposed = false
		lost = true
	}
	if r.mu.isLeader && !wasLeader {
		r.mu.leaseProposed = false
		r.mu.quiesced = false
	}
	r.notifyLocked()
}

// sendMessagesLocked hands raft messages to the store for delivery.
func (r *Replica) sendMessagesLocked(msgs []*raftpb.Message) {
	for _, m := range msgs {
		if m.GetType() == raftpb.MessageType_MsgSnap {
			r.sendSnapshotLocked(m)
			continue
		}
		to := r.nodeForReplicaLocked(ReplicaID(m.GetTo()))
		if to == 0 {
			r.store.logger.Debug("dropping raft message to unknown replica", "range", r.rangeID, "to", m.GetTo())
			continue
		}
		r.store.sendRaft(to, r.rangeID, m)
	}
}

// nodeForReplicaLocked maps a replica id of this range to its node.
func (r *Replica) nodeForReplicaLocked(id ReplicaID) NodeID {
	r.mu.Lock()
	desc := r.mu.desc
	r.mu.Unlock()
	if desc != nil {
		if rd, ok := ReplicaByID(desc, id); ok {
			return NodeID(rd.NodeId)
		}
	}
	// Not under r.mu: the store's lock comes after it.
	return r.store.peerNode(r.rangeID, id)
}

// leaderOnlyMessages reports whether msgs hold only what a leader may send
// before persisting: appends and heartbeats.
func leaderOnlyMessages(msgs []*raftpb.Message) bool {
	for _, m := range msgs {
		switch m.GetType() {
		case raftpb.MessageType_MsgApp, raftpb.MessageType_MsgHeartbeat:
		default:
			return false
		}
	}
	return true
}
