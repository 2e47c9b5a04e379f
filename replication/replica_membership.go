package replication

import (
	"bytes"
	"context"
	"fmt"
	"slices"

	"go.etcd.io/raft/v3"
	"go.etcd.io/raft/v3/raftpb"
	"google.golang.org/protobuf/proto"

	"github.com/meridiandb/meridian/replication/replicationpb"
	"github.com/meridiandb/meridian/storage"
)

// Membership changes go through raft one replica at a time as ConfChangeV2s
// whose context carries the range descriptor after the change. A replica is
// added as a learner (raft sends it a snapshot), promoted once it caught up,
// and removed in one step; a removed replica deletes its data.

// Initial raft state of a range created by bootstrap or split: its log starts
// after a fixed index and term, so that every replica of the new range begins
// with the same log.
const (
	initialIndex = 10
	initialTerm  = 5
)

// WriteInitialRangeState writes into b the state of a new range: its
// descriptor, lease, applied state and raft state. hs is the replica's
// existing HardState (votes cast before the range existed here), if any.
func WriteInitialRangeState(b *storage.Batch, desc *RangeDescriptor, lease *Lease, closedTS int64, hs *raftpb.HardState) error {
	id := desc.RangeId
	if err := putProto(b, storage.RangeLocalKey(id, storage.SuffixDescriptor, nil), desc); err != nil {
		return err
	}
	if lease == nil {
		lease = &Lease{}
	}
	if err := putProto(b, storage.RangeLocalKey(id, storage.SuffixLease, nil), lease); err != nil {
		return err
	}
	applied := &replicationpb.AppliedState{Index: initialIndex, Term: initialTerm, ConfState: confStateOf(desc), ClosedTs: closedTS}
	if err := putProto(b, storage.RangeLocalKey(id, storage.SuffixAppliedState, nil), applied); err != nil {
		return err
	}
	if err := putProto(b, storage.RangeLocalKey(id, storage.SuffixRaftTruncated, nil), &replicationpb.TruncatedState{Index: initialIndex, Term: initialTerm}); err != nil {
		return err
	}
	term, vote, commit := uint64(initialTerm), uint64(0), uint64(initialIndex)
	if hs != nil && hs.GetTerm() > initialTerm {
		term, vote = hs.GetTerm(), hs.GetVote()
	}
	return putProto(b, storage.RangeLocalKey(id, storage.SuffixRaftHardState, nil), &raftpb.HardState{Term: &term, Vote: &vote, Commit: &commit})
}

func confStateOf(d *RangeDescriptor) *raftpb.ConfState {
	cs := &raftpb.ConfState{}
	for _, r := range d.Replicas {
		if r.Type == replicationpb.ReplicaType_LEARNER {
			cs.Learners = append(cs.Learners, r.ReplicaId)
		} else {
			cs.Voters = append(cs.Voters, r.ReplicaId)
		}
	}
	return cs
}

// applyConfChange applies a membership change and the descriptor it carries.
func (a *applier) applyConfChange(cc *raftpb.ConfChangeV2) error {
	var cctx replicationpb.ConfChangeContext
	if err := proto.Unmarshal(cc.GetContext(), &cctx); err != nil {
		return fmt.Errorf("decoding conf change context: %w", err)
	}
	r := a.r
	a.state.ConfState = r.raft.node.ApplyConfChange(cc)
	if cctx.Desc != nil {
		next := changedDescriptor(a.desc, cctx.Desc, cc)
		if err := putProto(a.b, storage.RangeLocalKey(uint64(r.rangeID), storage.SuffixDescriptor, nil), next); err != nil {
			return err
		}
		a.desc = next
	}
	a.results = append(a.results, applyResult{id: cctx.Id})
	if _, ok := ReplicaByID(a.desc, r.replicaID); !ok {
		a.removed = true
		a.after = append(a.after, func() { r.store.removeReplicaLocked(r, a.desc) })
	}
	a.after = append(a.after, func() { r.store.replicaInitialized(r) })
	return nil
}

// changedDescriptor applies a committed membership change to the
// descriptor as it is now. The proposer computed proposed from the
// descriptor it saw; a split may have applied since, so only the change
// itself is taken from it, never the span.
func changedDescriptor(cur, proposed *RangeDescriptor, cc *raftpb.ConfChangeV2) *RangeDescriptor {
	if cur == nil {
		return proposed
	}
	next := proto.Clone(cur).(*RangeDescriptor)
	next.Generation++
	next.NextReplicaId = max(next.NextReplicaId, proposed.NextReplicaId)
	for _, ch := range cc.Changes {
		id := ReplicaID(ch.GetNodeId())
		idx := slices.IndexFunc(next.Replicas, func(x *ReplicaDescriptor) bool { return ReplicaID(x.ReplicaId) == id })
		typ := replicationpb.ReplicaType_VOTER
		switch ch.GetType() {
		case raftpb.ConfChangeType_ConfChangeRemoveNode:
			if idx >= 0 {
				next.Replicas = slices.Delete(next.Replicas, idx, idx+1)
			}
			continue
		case raftpb.ConfChangeType_ConfChangeAddLearnerNode:
			typ = replicationpb.ReplicaType_LEARNER
		}
		if idx >= 0 {
			next.Replicas[idx].Type = typ
		} else if rd, ok := ReplicaByID(proposed, id); ok {
			rd = proto.Clone(rd).(*ReplicaDescriptor)
			rd.Type = typ
			next.Replicas = append(next.Replicas, rd)
		}
	}
	return next
}

// ReplicaChangeType is the kind of one membership change.
type ReplicaChangeType int

const (
	AddLearner ReplicaChangeType = iota
	PromoteLearner
	RemoveReplica
)

// ChangeReplicas proposes one membership change computed from the current
// descriptor, which must equal expected (by generation) so that concurrent
// planners do not trample each other. It returns the new descriptor.
func (r *Replica) ChangeReplicas(ctx context.Context, expected *RangeDescriptor, change ReplicaChangeType, node NodeID) (*RangeDescriptor, error) {
	cur := r.Desc()
	if cur == nil {
		return nil, &RangeNotFoundError{RangeID: r.rangeID, Node: r.store.nodeID}
	}
	if expected != nil && expected.Generation != cur.Generation {
		return nil, fmt.Errorf("r%d: descriptor changed (generation %d, expected %d)", r.rangeID, cur.Generation, expected.Generation)
	}
	next := proto.Clone(cur).(*RangeDescriptor)
	next.Generation++
	var ccType raftpb.ConfChangeType
	var replicaID uint64
	switch change {
	case AddLearner:
		if _, ok := ReplicaOnNode(cur, node); ok {
			return nil, fmt.Errorf("r%d already has a replica on n%d", r.rangeID, node)
		}
		replicaID = next.NextReplicaId
		next.NextReplicaId++
		next.Replicas = append(next.Replicas, &ReplicaDescriptor{NodeId: uint64(node), ReplicaId: replicaID, Type: replicationpb.ReplicaType_LEARNER})
		ccType = raftpb.ConfChangeType_ConfChangeAddLearnerNode
	case PromoteLearner:
		rd, ok := ReplicaOnNode(next, node)
		if !ok || rd.Type != replicationpb.ReplicaType_LEARNER {
			return nil, fmt.Errorf("r%d has no learner on n%d", r.rangeID, node)
		}
		rd.Type = replicationpb.ReplicaType_VOTER
		replicaID = rd.ReplicaId
		ccType = raftpb.ConfChangeType_ConfChangeAddNode
	case RemoveReplica:
		rd, ok := ReplicaOnNode(next, node)
		if !ok {
			return nil, fmt.Errorf("r%d has no replica on n%d", r.rangeID, node)
		}
		if ReplicaID(rd.ReplicaId) == r.replicaID {
			return nil, fmt.Errorf("r%d: the leaseholder cannot remove itself; transfer the lease first", r.rangeID)
		}
		replicaID = rd.ReplicaId
		var keep []*ReplicaDescriptor
		for _, x := range next.Replicas {
			if x.ReplicaId != replicaID {
				keep = append(keep, x)
			}
		}
		next.Replicas = keep
		ccType = raftpb.ConfChangeType_ConfChangeRemoveNode
	default:
		return nil, fmt.Errorf("unknown replica change %d", change)
	}
	id := r.store.nextID()
	cctx, err := proto.Marshal(&replicationpb.ConfChangeContext{Id: id, Desc: next})
	if err != nil {
		return nil, err
	}
	cc := &raftpb.ConfChangeV2{
		Changes: []*raftpb.ConfChangeSingle{{Type: &ccType, NodeId: &replicaID}},
		Context: cctx,
	}
	if err := r.submit(ctx, &proposal{id: id, confChange: cc}); err != nil {
		return nil, fmt.Errorf("r%d: %v of n%d: %w", r.rangeID, change, node, err)
	}
	return next, nil
}

func (t ReplicaChangeType) String() string {
	switch t {
	case AddLearner:
		return "adding a learner"
	case PromoteLearner:
		return "promoting the learner"
	case RemoveReplica:
		return "removing the replica"
	}
	return fmt.Sprintf("change %d", int(t))
}

// ReplicaProgress reports, for the leader, each replica's match index and
// the leader's commit index. Others get an error.
func (r *Replica) ReplicaProgress(ctx context.Context) (map[ReplicaID]uint64, uint64, error) {
	type result struct {
		match  map[ReplicaID]uint64
		commit uint64
		err    error
	}
	ch := make(chan result, 1)
	r.runOnWorker(func() {
		st := r.raft.node.Status()
		if st.RaftState != raft.StateLeader {
			ch <- result{err: r.notLeaderError("not the raft leader")}
			return
		}
		m := map[ReplicaID]uint64{}
		for id, pr := range st.Progress {
			m[ReplicaID(id)] = pr.Match
		}
		ch <- result{match: m, commit: st.GetCommit()}
	})
	select {
	case res := <-ch:
		return res.match, res.commit, res.err
	case <-ctx.Done():
		return nil, 0, ctx.Err()
	}
}

// runOnWorker runs fn with raftMu held, as a worker would.
func (r *Replica) runOnWorker(fn func()) {
	r.raftMu.Lock()
	defer r.raftMu.Unlock()
	fn()
}

// Split proposes splitting the range at key into two ranges; the new right
// range gets rightID. Refused while transactions are prepared on the range.
func (r *Replica) Split(ctx context.Context, key []byte, rightID RangeID) (left, right *RangeDescriptor, err error) {
	r.splitMu.Lock()
	defer r.splitMu.Unlock()
	lease, err := r.EnsureLease(ctx)
	if err != nil {
		return nil, nil, err
	}
	r.mu.Lock()
	cur := proto.Clone(r.mu.desc).(*RangeDescriptor)
	prepared := len(r.mu.prepared)
	r.mu.Unlock()
	if bytes.Compare(key, cur.StartKey) <= 0 || bytes.Compare(key, cur.EndKey) >= 0 {
		// A concurrent split moved the key out of this range: a mismatch,
		// which the router retries on the range that holds it now.
		return nil, nil, &RangeKeyMismatchError{RangeID: r.rangeID, Start: key, End: key, Desc: cur}
	}
	if prepared > 0 {
		return nil, nil, fmt.Errorf("r%d: cannot split with %d prepared transactions; retry later", r.rangeID, prepared)
	}
	left = proto.Clone(cur).(*RangeDescriptor)
	left.EndKey = append([]byte(nil), key...)
	left.Generation++
	right = proto.Clone(cur).(*RangeDescriptor)
	right.RangeId = uint64(rightID)
	right.StartKey = append([]byte(nil), key...)
	right.Generation = left.Generation
	cmd := &Command{LeaseSequence: lease.Sequence, Split: &replicationpb.SplitTrigger{Left: left, Right: right}}
	if err := r.proposeCommand(ctx, cmd, false); err != nil {
		return nil, nil, fmt.Errorf("r%d: split at %s: %w", r.rangeID, storage.PrettyKey(key), err)
	}
	return left, right, nil
}

// applySplit shrinks this range to the left descriptor and creates the right
// range's state in the same batch, so a crash leaves both or neither.
func (a *applier) applySplit(s *replicationpb.SplitTrigger) error {
	r := a.r
	cur := a.desc
	l, rt := s.Left, s.Right
	if cur == nil || l.RangeId != cur.RangeId || !bytes.Equal(l.StartKey, cur.StartKey) || !bytes.Equal(rt.EndKey, cur.EndKey) ||
		!bytes.Equal(l.EndKey, rt.StartKey) || l.Generation != cur.Generation+1 {
		return fmt.Errorf("r%d: split %s | %s does not fit %s", r.rangeID, DescribeRange(l), DescribeRange(rt), DescribeRange(cur))
	}
	// Commit what came before, so that the decision records read below are
	// in the store, and write the whole split in one batch after.
	if err := a.flush(); err != nil {
		return err
	}
	if err := putProto(a.b, storage.RangeLocalKey(uint64(r.rangeID), storage.SuffixDescriptor, nil), l); err != nil {
		return err
	}
	// Transaction decisions recorded here go to both halves: a status
	// request routed by a coordinator key finds them on either side.
	from := storage.RangeLocalKey(uint64(r.rangeID), storage.SuffixTxnDecision, nil)
	to := storage.RangeLocalKey(uint64(r.rangeID), storage.SuffixTxnDecisionEnd, nil)
	err := r.store.eng.IterateLocal(from, to, func(k, v []byte) error {
		return a.b.PutLocal(storage.RangeLocalKey(rt.RangeId, storage.SuffixTxnDecision, k[len(from):]), v)
	})
	if err != nil {
		return err
	}
	// The right range starts with a copy of the lease, under which its
	// leaseholder keeps serving.
	lease := proto.Clone(a.lease).(*Lease)
	// A replica of the right range may already exist here, uninitialized,
	// created by its messages: hold its raftMu so that it persists nothing
	// (a vote) between our reading its HardState and our writing it.
	if rhs := r.store.beginSplit(RangeID(rt.RangeId)); rhs != nil {
		rhs.raftMu.Lock()
		a.unlock = append(a.unlock, rhs.raftMu.Unlock)
		a.rhsLocked = rhs
	}
	var hs raftpb.HardState
	if _, err := getProto(r.store.eng, storage.RangeLocalKey(rt.RangeId, storage.SuffixRaftHardState, nil), &hs); err != nil {
		return err
	}
	_, rhsInitialized, err := r.store.eng.GetLocal(storage.RangeLocalKey(rt.RangeId, storage.SuffixDescriptor, nil))
	if err != nil {
		return err
	}
	switch {
	case rhsInitialized:
		// The right range reached this store by snapshot before this split
		// applied here: its state and data are newer than the split's.
	case r.store.rangeTombstoned(RangeID(rt.RangeId), r.replicaID):
		// The right range was already removed from this store: its data
		// belongs to nobody here.
		if err := a.b.ClearMVCCRange(rt.StartKey, rt.EndKey); err != nil {
			return err
		}
	default:
		if err := WriteInitialRangeState(a.b, rt, lease, a.state.ClosedTs, &hs); err != nil {
			return err
		}
	}
	a.desc = l
	a.recount = true
	locked := a.rhsLocked
	a.after = append(a.after, func() { r.store.splitApplied(r, rt, locked) })
	return nil
}
