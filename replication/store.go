package replication

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"go.etcd.io/raft/v3/raftpb"

	"github.com/meridiandb/meridian/replication/replicationpb"
	"github.com/meridiandb/meridian/storage"
	"github.com/meridiandb/meridian/truetime"
)

// Store is a node's replicas over its one engine. It owns the replicas, the
// raft scheduler, and the goroutines that tick raft, close timestamps and
// send node heartbeats. Lock order: Replica.raftMu, Store.spanMu,
// Replica.mu, Store.mu, Store.tickMu.
type Store struct {
	opts      StoreOptions
	nodeID    NodeID
	eng       *storage.Engine
	clock     truetime.Clock
	transport Transport
	observer  Observer
	logger    *slog.Logger
	scheduler *scheduler
	metrics   storeMetrics

	idBase  uint64
	idCount atomic.Uint64

	mu struct {
		sync.RWMutex
		replicas map[RangeID]*Replica
		// bySpan lists initialized replicas by start key.
		bySpan []spanEntry
		// peers maps replicas this store heard from to their nodes.
		peers map[peerKey]NodeID
		// heard is when each node last sent anything (truetime.Mono).
		heard map[NodeID]time.Duration
		// splitting marks ranges being created by a split applying here:
		// their messages are dropped until the split is done.
		splitting map[RangeID]bool
		// reserved lists the spans of snapshots being received.
		reserved []*RangeDescriptor
		// failed is set when the store cannot go on (e.g. a failed write to
		// the raft log); every request then returns it.
		failed error
	}
	tickMu  sync.Mutex
	ticking map[RangeID]*Replica
	// spanMu serializes rebuilds of the span index.
	spanMu sync.Mutex

	callHandler atomic.Pointer[CallHandler]

	stopper  chan struct{}
	stopOnce sync.Once
	tasks    sync.WaitGroup
	ctx      context.Context
	cancel   context.CancelFunc
}

type spanEntry struct {
	start, end []byte
	r          *Replica
}

type peerKey struct {
	rangeID   RangeID
	replicaID ReplicaID
}

// CallHandler serves the unary calls of the layers above.
type CallHandler func(ctx context.Context, from NodeID, method string, payload []byte) ([]byte, error)

// NewStore opens the replicas found in the engine. Call Start to begin
// processing.
func NewStore(opts StoreOptions) (*Store, error) {
	if opts.NodeID == 0 || opts.Engine == nil || opts.Clock == nil || opts.Transport == nil {
		return nil, errors.New("replication: StoreOptions needs NodeID, Engine, Clock and Transport")
	}
	opts = opts.withDefaults()
	s := &Store{
		opts: opts, nodeID: opts.NodeID, eng: opts.Engine, clock: opts.Clock,
		transport: opts.Transport, observer: opts.Observer,
		logger:  opts.Logger.With("node", opts.NodeID),
		ticking: map[RangeID]*Replica{},
		stopper: make(chan struct{}),
	}
	var seed [8]byte
	_, _ = rand.Read(seed[:])
	s.idBase = binary.LittleEndian.Uint64(seed[:])
	s.ctx, s.cancel = context.WithCancel(context.Background())
	s.mu.replicas = map[RangeID]*Replica{}
	s.mu.peers = map[peerKey]NodeID{}
	s.mu.heard = map[NodeID]time.Duration{}
	s.mu.splitting = map[RangeID]bool{}
	s.scheduler = newScheduler(s.processRange)
	ids, err := s.initializedRanges()
	if err != nil {
		return nil, err
	}
	for _, id := range ids {
		r, err := newReplica(s, id, 0)
		if err != nil {
			return nil, err
		}
		s.mu.replicas[id] = r
		s.ticking[id] = r
	}
	s.rebuildSpanIndex()
	return s, nil
}

// initializedRanges lists the ranges with a descriptor in the engine.
func (s *Store) initializedRanges() ([]RangeID, error) {
	var ids []RangeID
	cursor := storage.RangeLocalPrefix(0)
	end := storage.PrefixEnd(storage.RangeLocalPrefix(^uint64(0)))
	for {
		var next []byte
		err := s.eng.IterateLocal(cursor, end, func(k, _ []byte) error {
			next = append([]byte(nil), k...)
			return storage.ErrStop
		})
		if err != nil {
			return nil, err
		}
		if next == nil {
			return ids, nil
		}
		id, _, _, err := storage.DecodeRangeLocalKey(next)
		if err != nil {
			return nil, err
		}
		if _, found, err := s.eng.GetLocal(storage.RangeLocalKey(id, storage.SuffixDescriptor, nil)); err != nil {
			return nil, err
		} else if found {
			ids = append(ids, RangeID(id))
		}
		if id == ^uint64(0) {
			return ids, nil
		}
		cursor = storage.RangeLocalPrefix(id + 1)
	}
}

// Start begins processing: raft workers, the ticker, closed timestamps and
// node heartbeats. The transport's inbound traffic reaches the store from
// now on.
func (s *Store) Start() {
	s.scheduler.start(s.opts.SchedulerWorkers)
	s.transport.Serve(s)
	s.loop(s.opts.TickInterval, s.tick)
	s.loop(s.opts.ClosedTSInterval, s.closeTimestamps)
	s.loop(s.opts.NodeHeartbeatInterval, s.heartbeat)
	// Campaign at once where this store is the only voter.
	for _, r := range s.Replicas() {
		s.scheduler.enqueue(r.rangeID)
	}
}

// Close stops the store's goroutines and waits for them. Proposals waiting
// for results get ErrStopped. The engine and transport stay open.
func (s *Store) Close() {
	s.stopOnce.Do(func() {
		close(s.stopper)
		s.cancel()
		s.tasks.Wait()
		s.scheduler.stop()
		for _, r := range s.Replicas() {
			r.raftMu.Lock()
			for id, o := range r.raft.outgoing {
				o.eng.Close()
				delete(r.raft.outgoing, id)
			}
			r.raftMu.Unlock()
		}
	})
}

// loop runs fn every interval until the store stops.
func (s *Store) loop(interval time.Duration, fn func()) {
	s.tasks.Add(1)
	go func() {
		defer s.tasks.Done()
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			select {
			case <-t.C:
				fn()
			case <-s.stopper:
				return
			}
		}
	}()
}

// runAsync runs fn on a goroutine owned by the store; its context ends when
// the store closes.
func (s *Store) runAsync(fn func(ctx context.Context)) {
	select {
	case <-s.stopper:
		return
	default:
	}
	s.tasks.Add(1)
	go func() {
		defer s.tasks.Done()
		fn(s.ctx)
	}()
}

func (s *Store) newTimer(d time.Duration) *time.Timer { return time.NewTimer(d) }

// nextID returns an id unique across this process's proposals, snapshots and
// timestamps, and unlikely to repeat across restarts.
func (s *Store) nextID() uint64 {
	id := s.idBase + s.idCount.Add(1)
	if id == 0 {
		id = s.idBase + s.idCount.Add(1)
	}
	return id
}

// NodeID returns the store's node.
func (s *Store) NodeID() NodeID { return s.nodeID }

// Engine returns the store's engine.
func (s *Store) Engine() *storage.Engine { return s.eng }

// Clock returns the store's clock.
func (s *Store) Clock() truetime.Clock { return s.clock }

// SetCallHandler installs the handler of upper-layer calls.
func (s *Store) SetCallHandler(h CallHandler) { s.callHandler.Store(&h) }

// fatal records an error the store cannot recover from. The store stops
// processing and every request returns the error; the process stays up so
// that operators can see why.
func (s *Store) fatal(err error) {
	s.logger.Error("store failed", "err", err)
	s.mu.Lock()
	if s.mu.failed == nil {
		s.mu.failed = err
	}
	s.mu.Unlock()
}

// Failed returns the error that stopped the store, if any.
func (s *Store) Failed() error {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.mu.failed
}

func (s *Store) processRange(id RangeID) {
	if s.Failed() != nil {
		return
	}
	s.mu.RLock()
	r := s.mu.replicas[id]
	s.mu.RUnlock()
	if r != nil {
		r.process()
	}
}

// GetReplica returns the store's replica of a range.
func (s *Store) GetReplica(id RangeID) (*Replica, error) {
	if err := s.Failed(); err != nil {
		return nil, err
	}
	s.mu.RLock()
	r := s.mu.replicas[id]
	s.mu.RUnlock()
	if r == nil || !r.IsInitialized() {
		return nil, &RangeNotFoundError{RangeID: id, Node: s.nodeID}
	}
	return r, nil
}

// LookupReplica returns the initialized replica whose span holds key.
func (s *Store) LookupReplica(key []byte) *Replica {
	s.mu.RLock()
	defer s.mu.RUnlock()
	i := sort.Search(len(s.mu.bySpan), func(i int) bool {
		return bytes.Compare(s.mu.bySpan[i].end, key) > 0
	})
	if i < len(s.mu.bySpan) && bytes.Compare(s.mu.bySpan[i].start, key) <= 0 {
		return s.mu.bySpan[i].r
	}
	return nil
}

// Replicas returns the store's replicas (initialized or not), by range id.
func (s *Store) Replicas() []*Replica {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make([]*Replica, 0, len(s.mu.replicas))
	for _, r := range s.mu.replicas {
		out = append(out, r)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].rangeID < out[j].rangeID })
	return out
}

// Metrics returns the store's counters.
func (s *Store) Metrics() Metrics {
	m := Metrics{
		Proposals: s.metrics.proposals.Load(), ProposalNanos: s.metrics.proposalNanos.Load(),
		RaftWrites: s.metrics.raftWrites.Load(), RaftWriteNanos: s.metrics.raftWriteNanos.Load(),
		MessagesSent: s.metrics.sent.Load(), MessagesRecv: s.metrics.recv.Load(),
		SnapshotsSent: s.metrics.snapsSent.Load(), SnapshotsRecv: s.metrics.snapsRecv.Load(),
		LogTruncations: s.metrics.truncations.Load(), ClosedTSUpdates: s.metrics.closedUpdates.Load(),
	}
	for _, r := range s.Replicas() {
		m.Replicas++
		st := r.Status()
		if st.Quiesced {
			m.QuiescedRanges++
		}
		if r.IsLeaseholder() {
			m.Leaseholders++
		}
	}
	return m
}

func (s *Store) clockUnsafe() string { return s.clock.Status().Unsafe }

// rebuildSpanIndex recomputes the span index. The replicas' descriptors
// are read without s.mu held (their lock comes first in the lock order).
func (s *Store) rebuildSpanIndex() {
	// One rebuild at a time, so that an older view never replaces a newer.
	s.spanMu.Lock()
	defer s.spanMu.Unlock()
	s.mu.RLock()
	rs := make([]*Replica, 0, len(s.mu.replicas))
	for _, r := range s.mu.replicas {
		rs = append(rs, r)
	}
	s.mu.RUnlock()
	idx := make([]spanEntry, 0, len(rs))
	for _, r := range rs {
		if d := r.Desc(); d != nil {
			idx = append(idx, spanEntry{start: d.StartKey, end: d.EndKey, r: r})
		}
	}
	sort.Slice(idx, func(i, j int) bool { return bytes.Compare(idx[i].start, idx[j].start) < 0 })
	s.mu.Lock()
	defer s.mu.Unlock()
	// Keep only replicas still current.
	kept := idx[:0]
	for _, e := range idx {
		if s.mu.replicas[e.r.rangeID] == e.r {
			kept = append(kept, e)
		}
	}
	s.mu.bySpan = kept
}

// replicaInitialized refreshes the span index after a replica's descriptor
// changed.
func (s *Store) replicaInitialized(*Replica) { s.rebuildSpanIndex() }

func (s *Store) setTicking(r *Replica, on bool) {
	s.tickMu.Lock()
	defer s.tickMu.Unlock()
	if on {
		s.ticking[r.rangeID] = r
	} else {
		delete(s.ticking, r.rangeID)
	}
}

func (s *Store) tick() {
	s.tickMu.Lock()
	rs := make([]*Replica, 0, len(s.ticking))
	for _, r := range s.ticking {
		rs = append(rs, r)
	}
	s.tickMu.Unlock()
	for _, r := range rs {
		r.needsTick.Store(true)
		s.scheduler.enqueue(r.rangeID)
	}
}

// NodeLive reports whether node was heard from within NodeDeadTimeout.
func (s *Store) NodeLive(n NodeID) bool {
	if n == s.nodeID {
		return true
	}
	s.mu.RLock()
	t, ok := s.mu.heard[n]
	s.mu.RUnlock()
	return ok && truetime.Mono()-t < s.opts.NodeDeadTimeout
}

func (s *Store) peerNode(rangeID RangeID, id ReplicaID) NodeID {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.mu.peers[peerKey{rangeID, id}]
}

// peerNodes lists the other nodes that hold replicas of this store's ranges.
func (s *Store) peerNodes() []NodeID {
	seen := map[NodeID]bool{}
	var out []NodeID
	for _, r := range s.Replicas() {
		if d := r.Desc(); d != nil {
			for _, rd := range d.Replicas {
				n := NodeID(rd.NodeId)
				if n != s.nodeID && !seen[n] {
					seen[n] = true
					out = append(out, n)
				}
			}
		}
	}
	return out
}

func (s *Store) heartbeat() {
	for _, n := range s.peerNodes() {
		s.transport.SendRaft(n, &replicationpb.RaftBatch{FromNode: uint64(s.nodeID), ToNode: uint64(n), Heartbeat: true})
	}
	for _, r := range s.Replicas() {
		r.wakeIfLeaderDead()
	}
}

// closeTimestamps closes timestamps on the ranges this store serves and
// sends them to the followers, one batch per node.
func (s *Store) closeTimestamps() {
	byNode := map[NodeID][]*replicationpb.ClosedUpdate{}
	for _, r := range s.Replicas() {
		r.mu.Lock()
		active := r.mu.isLeader && truetime.Mono()-r.mu.lastActive < s.opts.ActiveWindow
		r.mu.Unlock()
		if !active {
			continue
		}
		u := r.closeTimestamp()
		if u == nil {
			continue
		}
		for _, rd := range r.Desc().Replicas {
			if ReplicaID(rd.ReplicaId) != r.replicaID {
				byNode[NodeID(rd.NodeId)] = append(byNode[NodeID(rd.NodeId)], u)
			}
		}
	}
	for n, us := range byNode {
		s.metrics.closedUpdates.Add(int64(len(us)))
		s.transport.SendRaft(n, &replicationpb.RaftBatch{FromNode: uint64(s.nodeID), ToNode: uint64(n), Closed: us})
	}
}

func (s *Store) sendRaft(to NodeID, rangeID RangeID, m *raftpb.Message) {
	s.metrics.sent.Add(1)
	s.transport.SendRaft(to, &replicationpb.RaftBatch{
		FromNode: uint64(s.nodeID), ToNode: uint64(to),
		Messages: []*replicationpb.RaftMessage{{RangeId: uint64(rangeID), Msg: m}},
	})
}

func (s *Store) sendQuiesce(to NodeID, q *replicationpb.Quiesce) {
	s.transport.SendRaft(to, &replicationpb.RaftBatch{FromNode: uint64(s.nodeID), ToNode: uint64(to), Quiesce: []*replicationpb.Quiesce{q}})
}

func (s *Store) String() string { return fmt.Sprintf("store n%d", s.nodeID) }
