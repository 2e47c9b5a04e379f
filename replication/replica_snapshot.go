package replication

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"time"

	"go.etcd.io/raft/v3"
	"go.etcd.io/raft/v3/raftpb"
	"google.golang.org/protobuf/proto"

	"github.com/meridiandb/meridian/replication/replicationpb"
	"github.com/meridiandb/meridian/storage"
	"github.com/meridiandb/meridian/truetime"
)

// Raft snapshots carry only metadata and an id through raft; the range's
// data travels beside them on a snapshot stream:
//
//	Snapshot.Data = uvarint(id)
//	stream        = SnapshotHeader, then chunks of raw engine key/values:
//	                the range's replicated local keys, then its MVCC data.

// outgoingSnapshot is an engine snapshot taken when raft asked for a raft
// snapshot, kept until the message is sent.
type outgoingSnapshot struct {
	eng     *storage.Snapshot
	desc    *RangeDescriptor
	created time.Duration
}

// incomingSnapshot is received data waiting for raft to accept its message.
type incomingSnapshot struct {
	id   uint64
	desc *RangeDescriptor
	kvs  []*replicationpb.KeyValue
	// applied is set once the data was written.
	applied bool
}

func snapshotID(s *raftpb.Snapshot) (uint64, error) {
	id, n := binary.Uvarint(s.GetData())
	if n <= 0 {
		return 0, fmt.Errorf("raft snapshot without an id")
	}
	return id, nil
}

// raftSnapshot implements raft.Storage.Snapshot. Raft calls it on the worker
// (raftMu held), so the applied state cannot move while it runs.
func (r *Replica) raftSnapshot() (*raftpb.Snapshot, error) {
	r.mu.Lock()
	applied := proto.Clone(r.mu.applied).(*replicationpb.AppliedState)
	var desc *RangeDescriptor
	if r.mu.desc != nil {
		desc = proto.Clone(r.mu.desc).(*RangeDescriptor)
	}
	r.mu.Unlock()
	if desc == nil {
		return nil, raft.ErrSnapshotTemporarilyUnavailable
	}
	id := r.store.nextID()
	r.raft.outgoing[id] = &outgoingSnapshot{eng: r.store.eng.NewSnapshot(), desc: desc, created: truetime.Mono()}
	cs := applied.ConfState
	if cs == nil {
		cs = &raftpb.ConfState{}
	}
	idx, term := applied.Index, applied.Term
	return &raftpb.Snapshot{
		Data:     binary.AppendUvarint(nil, id),
		Metadata: &raftpb.SnapshotMetadata{Index: &idx, Term: &term, ConfState: cs},
	}, nil
}

// sendSnapshotLocked streams a MsgSnap and its data in the background and
// reports the outcome to raft.
func (r *Replica) sendSnapshotLocked(m *raftpb.Message) {
	to := ReplicaID(m.GetTo())
	id, err := snapshotID(m.GetSnapshot())
	out := r.raft.outgoing[id]
	delete(r.raft.outgoing, id)
	node := r.nodeForReplicaLocked(to)
	if err != nil || out == nil || node == 0 {
		if out != nil {
			out.eng.Close()
		}
		r.reportSnapshot(to, true)
		return
	}
	header := &replicationpb.SnapshotHeader{
		FromNode: uint64(r.store.nodeID),
		ToNode:   uint64(node),
		Message:  &replicationpb.RaftMessage{RangeId: uint64(r.rangeID), Msg: m},
		Desc:     out.desc,
	}
	r.store.runAsync(func(ctx context.Context) {
		defer out.eng.Close()
		err := r.store.transport.SendSnapshot(ctx, node, header, snapshotChunks(out.eng, r.rangeID, out.desc, r.store.opts.SnapshotChunkBytes))
		if err != nil {
			r.store.logger.Info("snapshot send failed", "range", r.rangeID, "to", node, "err", err)
		}
		r.reportSnapshot(to, err != nil)
	})
}

func (r *Replica) reportSnapshot(to ReplicaID, failed bool) {
	r.mu.Lock()
	r.mu.snapReports = append(r.mu.snapReports, snapReport{to: to, failed: failed})
	r.mu.Unlock()
	r.store.scheduler.enqueue(r.rangeID)
}

// snapshotChunks returns an iterator over a range's data in chunks of about
// chunkBytes: first its replicated local keys, then its MVCC versions.
func snapshotChunks(rd storage.Reader, rangeID RangeID, desc *RangeDescriptor, chunkBytes int) func() ([]*replicationpb.KeyValue, error) {
	var kvs []*replicationpb.KeyValue
	size := 0
	var chunks [][]*replicationpb.KeyValue
	add := func(k, v []byte) error {
		kvs = append(kvs, &replicationpb.KeyValue{Key: append([]byte(nil), k...), Value: append([]byte(nil), v...)})
		size += len(k) + len(v)
		if size >= chunkBytes {
			chunks = append(chunks, kvs)
			kvs, size = nil, 0
		}
		return nil
	}
	pfx := storage.RangeLocalPrefix(uint64(rangeID))
	err := rd.IterateRaw(storage.EncodeBareKey(nil, pfx), storage.EncodeBareKey(nil, storage.PrefixEnd(pfx)), func(ek, v []byte) error {
		key, _, err := storage.DecodeEngineKey(ek)
		if err != nil {
			return err
		}
		_, suffix, _, err := storage.DecodeRangeLocalKey(key)
		if err != nil || !suffix.Replicated() {
			return err
		}
		return add(ek, v)
	})
	if err == nil {
		err = rd.IterateRaw(storage.EncodeBareKey(nil, desc.StartKey), storage.EncodeBareKey(nil, desc.EndKey), add)
	}
	if len(kvs) > 0 {
		chunks = append(chunks, kvs)
	}
	i := 0
	return func() ([]*replicationpb.KeyValue, error) {
		if err != nil {
			return nil, err
		}
		if i >= len(chunks) {
			return nil, nil
		}
		i++
		return chunks[i-1], nil
	}
}

// receiveSnapshot hands received snapshot data and its message to raft and
// reports whether raft took it. It runs on the receiving stream's goroutine
// and takes raftMu, like a worker.
func (r *Replica) receiveSnapshot(in *incomingSnapshot, m *raftpb.Message) error {
	r.raftMu.Lock()
	defer r.raftMu.Unlock()
	r.mu.Lock()
	destroyed := r.mu.destroyed
	r.mu.Unlock()
	if destroyed != nil {
		return destroyed
	}
	r.raft.incoming[in.id] = in
	defer delete(r.raft.incoming, in.id)
	if err := r.raft.node.Step(m); err != nil {
		return fmt.Errorf("r%d: raft refused snapshot: %w", r.rangeID, err)
	}
	for r.raft.node.HasReady() && !in.applied {
		if err := r.handleReadyLocked(); err != nil {
			r.store.fatal(fmt.Errorf("r%d: applying snapshot: %w", r.rangeID, err))
			return err
		}
	}
	if !in.applied {
		return fmt.Errorf("r%d: raft did not apply snapshot at index %d (stale)", r.rangeID, m.GetSnapshot().GetMetadata().GetIndex())
	}
	r.store.scheduler.enqueue(r.rangeID)
	return nil
}

// stageSnapshotLocked writes the data of the snapshot raft accepted into b:
// the replica's replicated state and data are replaced and its log reset.
func (r *Replica) stageSnapshotLocked(b *storage.Batch, snap *raftpb.Snapshot) (*incomingSnapshot, error) {
	id, err := snapshotID(snap)
	if err != nil {
		return nil, err
	}
	in := r.raft.incoming[id]
	if in == nil {
		return nil, fmt.Errorf("raft applied snapshot %d whose data is not here", id)
	}
	rid := uint64(r.rangeID)
	for _, s := range []storage.RangeSuffix{storage.SuffixDescriptor, storage.SuffixLease, storage.SuffixAppliedState,
		storage.SuffixClosedTS, storage.SuffixPreparedTxn, storage.SuffixTxnDecision} {
		k := storage.RangeLocalKey(rid, s, nil)
		if err := b.ClearLocalRange(k, storage.PrefixEnd(k)); err != nil {
			return nil, err
		}
	}
	// Clear the old span and the new one.
	r.mu.Lock()
	old := r.mu.desc
	r.mu.Unlock()
	for _, d := range []*RangeDescriptor{old, in.desc} {
		if d != nil && bytes.Compare(d.StartKey, d.EndKey) < 0 {
			if err := b.ClearMVCCRange(d.StartKey, d.EndKey); err != nil {
				return nil, err
			}
		}
	}
	for _, kv := range in.kvs {
		if err := b.PutRaw(kv.Key, kv.Value); err != nil {
			return nil, err
		}
	}
	md := snap.GetMetadata()
	if err := r.raft.log.resetToSnapshot(b, md.GetIndex(), md.GetTerm()); err != nil {
		return nil, err
	}
	return in, nil
}

// snapshotCommittedLocked reloads the in-memory state from the snapshot
// just written.
func (r *Replica) snapshotCommittedLocked(snap *raftpb.Snapshot, in *incomingSnapshot) error {
	md := snap.GetMetadata()
	r.raft.log.resetCommitted(md.GetIndex(), md.GetTerm())
	if err := r.loadStateLocked(); err != nil {
		return err
	}
	in.applied = true
	r.store.replicaInitialized(r)
	r.mu.Lock()
	defer r.mu.Unlock()
	r.mu.approxBytes = -1
	// Proposals from before the snapshot can no longer be matched.
	for _, p := range r.mu.proposals {
		r.finishProposalLocked(p, fmt.Errorf("%w: r%d replaced by snapshot", ErrProposalDropped, r.rangeID))
	}
	return nil
}

// dropStaleOutgoingLocked closes engine snapshots raft never sent.
func (r *Replica) dropStaleOutgoingLocked() {
	for id, o := range r.raft.outgoing {
		if truetime.Mono()-o.created > time.Minute {
			o.eng.Close()
			delete(r.raft.outgoing, id)
		}
	}
}
