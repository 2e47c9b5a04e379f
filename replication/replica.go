package replication

import (
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"go.etcd.io/raft/v3"
	"go.etcd.io/raft/v3/raftpb"
	"google.golang.org/protobuf/proto"

	"github.com/meridiandb/meridian/replication/replicationpb"
	"github.com/meridiandb/meridian/storage"
	"github.com/meridiandb/meridian/truetime"
)

// Replica is one replica of a range on this store. Lock order: splitMu,
// then raftMu, then mu. The goroutine holding raftMu (a scheduler worker,
// or a snapshot or destroy path) is the only one touching the raft fields;
// everything other goroutines read lives under mu.
type Replica struct {
	store     *Store
	rangeID   RangeID
	replicaID ReplicaID

	// splitMu makes Split propose one split at a time: each is built from
	// the descriptor the previous one left, so concurrent splits of a
	// range (placement rules set in parallel) cannot both be built from
	// the same one, the later failing to apply.
	splitMu sync.Mutex

	raftMu sync.Mutex
	raft   struct {
		node *raft.RawNode
		log  *raftLog
		// outgoing holds engine snapshots taken for raft snapshots, by id,
		// until they are sent.
		outgoing map[uint64]*outgoingSnapshot
		// incoming holds received snapshot data waiting for raft to accept
		// it, by id.
		incoming map[uint64]*incomingSnapshot
		// lastQuiesceCheck is when quiescence was last considered.
		idleTicks int
	}

	// needsTick is set by the ticker and consumed by the worker.
	needsTick atomic.Bool

	mu struct {
		sync.Mutex
		desc    *RangeDescriptor // nil while uninitialized
		lease   *Lease
		applied *replicationpb.AppliedState
		// The raft leader and term as of the last Ready.
		leader   ReplicaID
		term     uint64
		isLeader bool
		// pending proposals not yet handed to raft; proposals handed to raft
		// and waiting to apply, by id.
		pending   []*proposal
		proposals map[uint64]*proposal
		// inbox holds raft messages and snapshot reports for the worker.
		inbox       []*raftpb.Message
		snapReports []snapReport
		transferTo  ReplicaID // leadership transfer requested
		quiesceReq  *replicationpb.Quiesce
		campaign    bool
		quiesced    bool
		destroyed   error
		// changed is closed and replaced whenever state that waiters watch
		// changes: applied index, lease, closed timestamp, prepared set.
		changed chan struct{}

		// Leaseholder state. tsFloor is the highest timestamp this replica
		// assigned or promised (writes, reads served, closed timestamps); it
		// only grows while the lease lasts. inflight maps write proposals
		// to their timestamps until they apply or fail.
		tsFloor       truetime.Timestamp
		inflight      map[uint64]truetime.Timestamp
		transferring  bool
		leaseProposed bool
		lastActive    time.Duration // truetime.Mono() of the last request

		// Safe time. prepared maps transaction ids to prepare timestamps.
		// closed is the closed timestamp this replica may use; sideClosed
		// is a side-transport update waiting for its index to apply.
		prepared   map[string]truetime.Timestamp
		closed     truetime.Timestamp
		sideClosed *replicationpb.ClosedUpdate

		// approxBytes estimates the bytes of the range's MVCC data; -1
		// when it must be recomputed.
		approxBytes int64
	}
}

// snapReport is the outcome of sending a snapshot to a peer.
type snapReport struct {
	to     ReplicaID
	failed bool
}

// newReplica loads the replica's state from the engine. replicaID is the
// replica's id if known (uninitialized replicas learn theirs from the first
// message); for initialized replicas it comes from the descriptor.
func newReplica(s *Store, rangeID RangeID, replicaID ReplicaID) (*Replica, error) {
	r := &Replica{store: s, rangeID: rangeID, replicaID: replicaID}
	r.raft.outgoing = map[uint64]*outgoingSnapshot{}
	r.raft.incoming = map[uint64]*incomingSnapshot{}
	r.mu.proposals = map[uint64]*proposal{}
	r.mu.inflight = map[uint64]truetime.Timestamp{}
	r.mu.prepared = map[string]truetime.Timestamp{}
	r.mu.changed = make(chan struct{})
	r.mu.approxBytes = -1
	if err := r.loadStateLocked(); err != nil {
		return nil, err
	}
	if r.mu.desc != nil {
		rd, ok := ReplicaOnNode(r.mu.desc, s.nodeID)
		if !ok {
			return nil, fmt.Errorf("r%d: descriptor %s has no replica on n%d", rangeID, DescribeRange(r.mu.desc), s.nodeID)
		}
		if replicaID != 0 && ReplicaID(rd.ReplicaId) != replicaID {
			return nil, fmt.Errorf("r%d: replica id %d, descriptor says %d", rangeID, replicaID, rd.ReplicaId)
		}
		r.replicaID = ReplicaID(rd.ReplicaId)
	}
	if r.replicaID == 0 {
		return nil, fmt.Errorf("r%d: replica id unknown", rangeID)
	}
	if err := r.initRaftLocked(); err != nil {
		return nil, err
	}
	return r, nil
}

// loadStateLocked reads the replicated state from the engine. Called with
// raftMu held (or before the replica is shared).
func (r *Replica) loadStateLocked() error {
	eng := r.store.eng
	id := uint64(r.rangeID)
	desc := &RangeDescriptor{}
	found, err := getProto(eng, storage.RangeLocalKey(id, storage.SuffixDescriptor, nil), desc)
	if err != nil {
		return fmt.Errorf("r%d: %w", r.rangeID, err)
	}
	lease := &Lease{}
	if _, err := getProto(eng, storage.RangeLocalKey(id, storage.SuffixLease, nil), lease); err != nil {
		return fmt.Errorf("r%d: %w", r.rangeID, err)
	}
	applied := &replicationpb.AppliedState{}
	if _, err := getProto(eng, storage.RangeLocalKey(id, storage.SuffixAppliedState, nil), applied); err != nil {
		return fmt.Errorf("r%d: %w", r.rangeID, err)
	}
	prepared := map[string]truetime.Timestamp{}
	pfx := storage.RangeLocalKey(id, storage.SuffixPreparedTxn, nil)
	err = eng.IterateLocal(pfx, storage.PrefixEnd(pfx), func(k, v []byte) error {
		txnID, prepTS, err := DecodePreparedRecordHeader(k[len(pfx):], v)
		if err != nil {
			return err
		}
		prepared[string(txnID)] = prepTS
		return nil
	})
	if err != nil {
		return fmt.Errorf("r%d: loading prepared transactions: %w", r.rangeID, err)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if found {
		r.mu.desc = desc
	} else {
		r.mu.desc = nil
	}
	r.mu.lease = lease
	r.mu.applied = applied
	r.mu.prepared = prepared
	r.mu.closed = truetime.Timestamp(applied.ClosedTs)
	r.notifyLocked()
	return nil
}

// initRaftLocked (re)creates the raft node from the engine's state.
func (r *Replica) initRaftLocked() error {
	l, err := loadRaftLog(r.store.eng, uint64(r.rangeID))
	if err != nil {
		return err
	}
	l.confState = func() *raftpb.ConfState {
		r.mu.Lock()
		defer r.mu.Unlock()
		return r.mu.applied.ConfState
	}
	l.snapshot = r.raftSnapshot
	r.mu.Lock()
	applied := r.mu.applied.Index
	r.mu.Unlock()
	o := r.store.opts
	cfg := &raft.Config{
		ID:                        uint64(r.replicaID),
		ElectionTick:              o.ElectionTicks,
		HeartbeatTick:             o.HeartbeatTicks,
		Storage:                   l,
		Applied:                   applied,
		MaxSizePerMsg:             o.MaxSizePerMsg,
		MaxCommittedSizePerReady:  o.MaxCommittedSizePerReady,
		MaxUncommittedEntriesSize: o.MaxUncommittedEntriesSize,
		MaxInflightMsgs:           o.MaxInflightMsgs,
		CheckQuorum:               true,
		PreVote:                   true,
		DisableProposalForwarding: true,
		StepDownOnRemoval:         true,
		Logger:                    raftLogger{r.store.logger.With("range", r.rangeID)},
	}
	node, err := raft.NewRawNode(cfg)
	if err != nil {
		return fmt.Errorf("r%d: starting raft: %w", r.rangeID, err)
	}
	r.raft.node = node
	r.raft.log = l
	return nil
}

// RangeID returns the replica's range.
func (r *Replica) RangeID() RangeID { return r.rangeID }

// ReplicaID returns the replica's id within its range.
func (r *Replica) ReplicaID() ReplicaID { return r.replicaID }

// Desc returns a copy of the range descriptor, or nil if the replica is not
// initialized yet.
func (r *Replica) Desc() *RangeDescriptor {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.mu.desc == nil {
		return nil
	}
	return proto.Clone(r.mu.desc).(*RangeDescriptor)
}

// Lease returns a copy of the applied lease.
func (r *Replica) Lease() *Lease {
	r.mu.Lock()
	defer r.mu.Unlock()
	return proto.Clone(r.mu.lease).(*Lease)
}

// IsInitialized reports whether the replica has a descriptor.
func (r *Replica) IsInitialized() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.mu.desc != nil
}

// ReplicaStatus describes a replica for status pages and tests.
type ReplicaStatus struct {
	RangeID      RangeID
	ReplicaID    ReplicaID
	Desc         *RangeDescriptor
	Lease        *Lease
	Leader       ReplicaID
	Term         uint64
	IsLeader     bool
	AppliedIndex uint64
	ClosedTS     truetime.Timestamp
	Quiesced     bool
	Prepared     int
	Proposals    int // waiting for raft: not yet handed over, or not yet applied
}

// Status returns a snapshot of the replica's state.
func (r *Replica) Status() ReplicaStatus {
	r.mu.Lock()
	defer r.mu.Unlock()
	st := ReplicaStatus{
		RangeID: r.rangeID, ReplicaID: r.replicaID,
		Lease:  proto.Clone(r.mu.lease).(*Lease),
		Leader: r.mu.leader, Term: r.mu.term, IsLeader: r.mu.isLeader,
		AppliedIndex: r.mu.applied.Index, ClosedTS: r.safeTimeLocked(),
		Quiesced: r.mu.quiesced, Prepared: len(r.mu.prepared),
		Proposals: len(r.mu.pending) + len(r.mu.proposals),
	}
	if r.mu.desc != nil {
		st.Desc = proto.Clone(r.mu.desc).(*RangeDescriptor)
	}
	return st
}

// notifyLocked wakes everything waiting on r.mu.changed.
func (r *Replica) notifyLocked() {
	close(r.mu.changed)
	r.mu.changed = make(chan struct{})
}

// changedLocked returns the channel closed at the next change.
func (r *Replica) changedLocked() <-chan struct{} { return r.mu.changed }

// Store returns the store the replica belongs to.
func (r *Replica) Store() *Store { return r.store }
