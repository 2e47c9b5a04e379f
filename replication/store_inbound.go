package replication

import (
	"bytes"
	"context"
	"errors"
	"fmt"

	"go.etcd.io/raft/v3/raftpb"
	"google.golang.org/protobuf/proto"

	"github.com/meridiandb/meridian/replication/replicationpb"
	"github.com/meridiandb/meridian/storage"
	"github.com/meridiandb/meridian/truetime"
)

// HandleRaft implements Handler: it routes raft messages, closed timestamps
// and quiesce notices to replicas, creating a replica when a message names
// a range this store does not have yet (a replica being added).
func (s *Store) HandleRaft(b *replicationpb.RaftBatch) {
	from := NodeID(b.FromNode)
	s.mu.Lock()
	s.mu.heard[from] = truetime.Mono()
	s.mu.Unlock()
	if s.Failed() != nil {
		return
	}
	for _, rm := range b.Messages {
		s.metrics.recv.Add(1)
		m := rm.Msg
		rangeID := RangeID(rm.RangeId)
		s.mu.Lock()
		s.mu.peers[peerKey{rangeID, ReplicaID(m.GetFrom())}] = from
		s.mu.Unlock()
		r, err := s.getOrCreateReplica(rangeID, ReplicaID(m.GetTo()))
		if err != nil || r == nil {
			if err != nil {
				s.logger.Debug("dropping raft message", "range", rangeID, "err", err)
			}
			continue
		}
		r.mu.Lock()
		r.mu.inbox = append(r.mu.inbox, m)
		// Late heartbeat responses do not wake a quiesced leader.
		if m.GetType() != raftpb.MessageType_MsgHeartbeatResp {
			r.unquiesceLocked()
		}
		r.mu.Unlock()
		s.scheduler.enqueue(rangeID)
	}
	for _, u := range b.Closed {
		if r := s.replica(RangeID(u.RangeId)); r != nil {
			r.applyClosedUpdate(u)
		}
	}
	for _, q := range b.Quiesce {
		if r := s.replica(RangeID(q.RangeId)); r != nil {
			r.mu.Lock()
			r.mu.quiesceReq = q
			r.mu.Unlock()
			s.scheduler.enqueue(r.rangeID)
		}
	}
}

func (s *Store) replica(id RangeID) *Replica {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.mu.replicas[id]
}

// getOrCreateReplica returns the replica of rangeID with the given id,
// creating an uninitialized one if there is none. It returns nil for
// messages to replicas that were removed from this store.
func (s *Store) getOrCreateReplica(rangeID RangeID, id ReplicaID) (*Replica, error) {
	s.mu.RLock()
	r := s.mu.replicas[rangeID]
	s.mu.RUnlock()
	if r != nil {
		switch {
		case r.replicaID == id:
			return r, nil
		case r.replicaID > id:
			return nil, fmt.Errorf("r%d: message for replica %d, this store has replica %d", rangeID, id, r.replicaID)
		default:
			// A newer replica of the range was added here: the old one is
			// gone from the range and must make way.
			r.raftMu.Lock()
			s.removeReplicaLocked(r, r.Desc())
			r.raftMu.Unlock()
		}
	}
	if s.rangeTombstoned(rangeID, id) {
		return nil, nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if r := s.mu.replicas[rangeID]; r != nil {
		return r, nil
	}
	if s.mu.splitting[rangeID] {
		return nil, nil // a split is creating it; raft will resend
	}
	r, err := newReplica(s, rangeID, id)
	if err != nil {
		return nil, err
	}
	s.mu.replicas[rangeID] = r
	s.tickMu.Lock()
	s.ticking[rangeID] = r
	s.tickMu.Unlock()
	return r, nil
}

// rangeTombstoned reports whether replica id of the range was removed from
// this store (so messages to it must be ignored).
func (s *Store) rangeTombstoned(rangeID RangeID, id ReplicaID) bool {
	var t replicationpb.RangeTombstone
	found, err := getProto(s.eng, storage.RangeLocalKey(uint64(rangeID), storage.SuffixRangeTombstone, nil), &t)
	return err == nil && found && uint64(id) < t.NextReplicaId
}

// HandleSnapshot implements Handler: it receives a range's data and hands
// it to the replica's raft.
func (s *Store) HandleSnapshot(ctx context.Context, h *replicationpb.SnapshotHeader, recv func() ([]*replicationpb.KeyValue, error)) error {
	if err := s.Failed(); err != nil {
		return err
	}
	m := h.GetMessage().GetMsg()
	rangeID := RangeID(h.GetMessage().GetRangeId())
	desc := h.GetDesc()
	if m == nil || desc == nil || RangeID(desc.RangeId) != rangeID {
		return fmt.Errorf("malformed snapshot header for r%d", rangeID)
	}
	release, err := s.reserveSnapshot(desc)
	if err != nil {
		return err
	}
	defer release()
	r, err := s.getOrCreateReplica(rangeID, ReplicaID(m.GetTo()))
	if err != nil {
		return err
	}
	if r == nil {
		return fmt.Errorf("r%d: replica %d was removed from n%d", rangeID, m.GetTo(), s.nodeID)
	}
	id, err := snapshotID(m.GetSnapshot())
	if err != nil {
		return err
	}
	in := &incomingSnapshot{id: id, desc: desc}
	for {
		kvs, err := recv()
		if err != nil {
			return fmt.Errorf("r%d: receiving snapshot: %w", rangeID, err)
		}
		if kvs == nil {
			break
		}
		in.kvs = append(in.kvs, kvs...)
	}
	s.metrics.snapsRecv.Add(1)
	s.mu.Lock()
	s.mu.peers[peerKey{rangeID, ReplicaID(m.GetFrom())}] = NodeID(h.FromNode)
	s.mu.Unlock()
	return r.receiveSnapshot(in, m)
}

// reserveSnapshot refuses a snapshot whose span overlaps another range's
// replica here, or another snapshot being received: that replica must first
// apply a split (or be removed), after which the sender retries. Otherwise
// it reserves the span until release is called.
func (s *Store) reserveSnapshot(desc *RangeDescriptor) (release func(), err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	overlaps := func(start, end []byte) bool {
		return bytes.Compare(start, desc.EndKey) < 0 && bytes.Compare(desc.StartKey, end) < 0
	}
	for _, e := range s.mu.bySpan {
		if e.r.rangeID != RangeID(desc.RangeId) && overlaps(e.start, e.end) {
			return nil, fmt.Errorf("snapshot of %s overlaps r%d on n%d", DescribeRange(desc), e.r.rangeID, s.nodeID)
		}
	}
	for _, res := range s.mu.reserved {
		if overlaps(res.StartKey, res.EndKey) {
			return nil, fmt.Errorf("snapshot of %s overlaps a snapshot of r%d being received on n%d", DescribeRange(desc), res.RangeId, s.nodeID)
		}
	}
	s.mu.reserved = append(s.mu.reserved, desc)
	return func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		for i, res := range s.mu.reserved {
			if res == desc {
				s.mu.reserved = append(s.mu.reserved[:i:i], s.mu.reserved[i+1:]...)
				return
			}
		}
	}, nil
}

// HandleCall implements Handler by passing the call to the installed
// CallHandler.
func (s *Store) HandleCall(ctx context.Context, from NodeID, method string, payload []byte) ([]byte, error) {
	h := s.callHandler.Load()
	if h == nil {
		return nil, fmt.Errorf("n%d is not serving %s yet", s.nodeID, method)
	}
	return (*h)(ctx, from, method, payload)
}

// removeReplicaLocked destroys a replica removed from its range: its data
// and state are deleted and a tombstone keeps stale messages away. Called
// with r.raftMu held.
func (s *Store) removeReplicaLocked(r *Replica, desc *RangeDescriptor) {
	r.mu.Lock()
	if r.mu.destroyed != nil {
		r.mu.Unlock()
		return
	}
	r.mu.destroyed = fmt.Errorf("%w: r%d replica %d on n%d", ErrRangeRemoved, r.rangeID, r.replicaID, s.nodeID)
	for _, p := range r.mu.proposals {
		r.finishProposalLocked(p, r.mu.destroyed)
	}
	for _, p := range r.mu.pending {
		p.finish(r.mu.destroyed)
	}
	r.mu.pending = nil
	r.notifyLocked()
	r.mu.Unlock()

	b := s.eng.NewBatch()
	defer b.Close()
	err := func() error {
		if desc != nil && bytes.Compare(desc.StartKey, desc.EndKey) < 0 && s.spanOwnedOnlyBy(r, desc) {
			if err := b.ClearMVCCRange(desc.StartKey, desc.EndKey); err != nil {
				return err
			}
		}
		pfx := storage.RangeLocalPrefix(uint64(r.rangeID))
		if err := b.ClearLocalRange(pfx, storage.PrefixEnd(pfx)); err != nil {
			return err
		}
		return putProto(b, storage.RangeLocalKey(uint64(r.rangeID), storage.SuffixRangeTombstone, nil),
			&replicationpb.RangeTombstone{NextReplicaId: uint64(r.replicaID) + 1})
	}()
	if err == nil {
		err = b.Commit(true)
	}
	if err != nil {
		s.fatal(fmt.Errorf("r%d: removing replica: %w", r.rangeID, err))
		return
	}
	for id, o := range r.raft.outgoing {
		o.eng.Close()
		delete(r.raft.outgoing, id)
	}
	s.mu.Lock()
	if s.mu.replicas[r.rangeID] == r {
		delete(s.mu.replicas, r.rangeID)
	}
	s.mu.Unlock()
	s.rebuildSpanIndex()
	s.setTicking(r, false)
	s.observer.ReplicaRemoved(r)
	s.logger.Info("replica removed", "range", r.rangeID, "replica", r.replicaID)
}

// spanOwnedOnlyBy reports whether no other replica here overlaps desc's span.
func (s *Store) spanOwnedOnlyBy(r *Replica, desc *RangeDescriptor) bool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	for _, e := range s.mu.bySpan {
		if e.r != r && bytes.Compare(e.start, desc.EndKey) < 0 && bytes.Compare(desc.StartKey, e.end) < 0 {
			return false
		}
	}
	return true
}

// splitApplied creates (or initializes) the right-hand replica of a split
// that left applied. Called on left's worker with left.raftMu held, and
// with locked.raftMu held if the right replica existed already.
func (s *Store) splitApplied(left *Replica, right *RangeDescriptor, locked *Replica) {
	rightID := RangeID(right.RangeId)
	defer func() {
		s.mu.Lock()
		delete(s.mu.splitting, rightID)
		s.mu.Unlock()
	}()
	rd, ok := ReplicaOnNode(right, s.nodeID)
	if !ok || s.rangeTombstoned(rightID, ReplicaID(rd.ReplicaId)) {
		s.replicaInitialized(left)
		return
	}
	s.mu.Lock()
	existing := s.mu.replicas[rightID]
	s.mu.Unlock()
	var r *Replica
	if existing != nil && existing != locked {
		existing.raftMu.Lock()
		defer existing.raftMu.Unlock()
	}
	if existing != nil && existing.IsInitialized() {
		// The right range arrived by snapshot first; it is up to date.
		s.replicaInitialized(left)
		s.replicaInitialized(existing)
		return
	}
	if existing != nil && existing.replicaID == ReplicaID(rd.ReplicaId) {
		// Messages of the new range arrived before the split: initialize
		// that replica in place.
		err := existing.loadStateLocked()
		if err == nil {
			err = existing.initRaftLocked()
		}
		if err != nil {
			s.fatal(fmt.Errorf("r%d: initializing after split: %w", rightID, err))
			return
		}
		r = existing
	} else {
		if existing != nil {
			s.removeReplicaLocked(existing, nil)
		}
		var err error
		r, err = newReplica(s, rightID, 0)
		if err != nil {
			s.fatal(fmt.Errorf("r%d: creating after split: %w", rightID, err))
			return
		}
		s.mu.Lock()
		if other := s.mu.replicas[rightID]; other != nil && other != existing {
			s.mu.Unlock()
			s.fatal(fmt.Errorf("r%d: replica created twice during a split", rightID))
			return
		}
		s.mu.replicas[rightID] = r
		s.mu.Unlock()
	}
	left.mu.Lock()
	floor, leader, active := left.mu.tsFloor, left.mu.isLeader, left.mu.lastActive
	left.mu.Unlock()
	r.mu.Lock()
	r.mu.tsFloor = max(r.mu.tsFloor, floor)
	r.mu.lastActive = active
	r.mu.campaign = leader
	r.mu.Unlock()
	s.mu.Lock()
	s.mu.replicas[rightID] = r
	s.mu.Unlock()
	s.rebuildSpanIndex()
	s.setTicking(r, true)
	s.scheduler.enqueue(rightID)
	s.observer.RangeSplit(left, r)
}

// beginSplit marks a range as being created by a split so that no replica
// of it is created from messages meanwhile, and returns the replica that
// already exists, if any.
func (s *Store) beginSplit(id RangeID) *Replica {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.mu.splitting[id] = true
	return s.mu.replicas[id]
}

// BootstrapRange writes the first range of a new cluster into an engine: a
// single replica on node, covering desc's span.
func BootstrapRange(eng *storage.Engine, desc *RangeDescriptor) error {
	if len(desc.Replicas) == 0 {
		return errors.New("bootstrap range needs a replica")
	}
	if _, found, err := eng.GetLocal(storage.RangeLocalKey(desc.RangeId, storage.SuffixDescriptor, nil)); err != nil {
		return err
	} else if found {
		return fmt.Errorf("r%d already exists", desc.RangeId)
	}
	b := eng.NewBatch()
	defer b.Close()
	if err := WriteInitialRangeState(b, proto.Clone(desc).(*RangeDescriptor), nil, 0, nil); err != nil {
		return err
	}
	return b.Commit(true)
}
