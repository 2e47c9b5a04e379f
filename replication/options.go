package replication

import (
	"log/slog"
	"time"

	"github.com/meridiandb/meridian/storage"
	"github.com/meridiandb/meridian/truetime"
)

// StoreOptions configure a Store. Fields marked required must be set; for
// the others the zero value means the documented default.
type StoreOptions struct {
	// NodeID of this node. Required.
	NodeID NodeID
	// Engine is the node's store. Required.
	Engine *storage.Engine
	// Clock is the node's TrueTime. Required.
	Clock truetime.Clock
	// Transport connects the node to the others. Required.
	Transport Transport
	// Observer hears of lease and range events. Default: none.
	Observer Observer
	// Logger. Default: discard.
	Logger *slog.Logger

	// TickInterval is the raft tick. Default: 100ms.
	TickInterval time.Duration
	// ElectionTicks is the raft election timeout in ticks. Default: 10.
	ElectionTicks int
	// HeartbeatTicks is the raft heartbeat interval in ticks. Default: 1.
	HeartbeatTicks int
	// LeaseDuration is how long a lease lasts past TT.now().latest when
	// taken or extended. Default: 3s.
	LeaseDuration time.Duration
	// LeaseRenewBefore: an active leaseholder extends its lease when less
	// than this remains. Default: LeaseDuration/2.
	LeaseRenewBefore time.Duration
	// ActiveWindow: a range with no request for this long stops renewing
	// its lease and closing timestamps, and may quiesce. Default: 10s.
	ActiveWindow time.Duration
	// ClosedTSInterval is how often leaseholders close timestamps for
	// followers. Default: 20ms.
	ClosedTSInterval time.Duration
	// NodeHeartbeatInterval is how often the store tells its peers it is
	// alive. Default: 250ms.
	NodeHeartbeatInterval time.Duration
	// NodeDeadTimeout: a peer not heard from for this long is considered
	// down (quiesced ranges it led wake up and elect). Default: 2s.
	NodeDeadTimeout time.Duration
	// SchedulerWorkers process replicas. Default: 8.
	SchedulerWorkers int
	// RaftLogMaxEntries: logs longer than this are truncated (followers
	// further behind catch up by snapshot). Default: 1000.
	RaftLogMaxEntries uint64
	// MaxSizePerMsg bounds a raft append message. Default: 1 MiB.
	MaxSizePerMsg uint64
	// MaxCommittedSizePerReady bounds the entries applied per Ready.
	// Default: 16 MiB.
	MaxCommittedSizePerReady uint64
	// MaxUncommittedEntriesSize bounds a leader's uncommitted log.
	// Default: 64 MiB.
	MaxUncommittedEntriesSize uint64
	// MaxInflightMsgs bounds appends in flight to one follower. Default: 256.
	MaxInflightMsgs int
	// SnapshotChunkBytes sizes the chunks of a snapshot stream. Default: 1 MiB.
	SnapshotChunkBytes int
}

func (o StoreOptions) withDefaults() StoreOptions {
	def := func(v *time.Duration, d time.Duration) {
		if *v == 0 {
			*v = d
		}
	}
	def(&o.TickInterval, 100*time.Millisecond)
	def(&o.LeaseDuration, 3*time.Second)
	def(&o.LeaseRenewBefore, o.LeaseDuration/2)
	def(&o.ActiveWindow, 10*time.Second)
	def(&o.ClosedTSInterval, 20*time.Millisecond)
	def(&o.NodeHeartbeatInterval, 250*time.Millisecond)
	def(&o.NodeDeadTimeout, 2*time.Second)
	if o.ElectionTicks == 0 {
		o.ElectionTicks = 10
	}
	if o.HeartbeatTicks == 0 {
		o.HeartbeatTicks = 1
	}
	if o.SchedulerWorkers == 0 {
		o.SchedulerWorkers = 8
	}
	if o.RaftLogMaxEntries == 0 {
		o.RaftLogMaxEntries = 1000
	}
	if o.MaxSizePerMsg == 0 {
		o.MaxSizePerMsg = 1 << 20
	}
	if o.MaxCommittedSizePerReady == 0 {
		o.MaxCommittedSizePerReady = 16 << 20
	}
	if o.MaxUncommittedEntriesSize == 0 {
		o.MaxUncommittedEntriesSize = 64 << 20
	}
	if o.MaxInflightMsgs == 0 {
		o.MaxInflightMsgs = 256
	}
	if o.SnapshotChunkBytes == 0 {
		o.SnapshotChunkBytes = 1 << 20
	}
	if o.Observer == nil {
		o.Observer = nopObserver{}
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return o
}

func (o StoreOptions) electionTimeout() time.Duration {
	return o.TickInterval * time.Duration(o.ElectionTicks)
}

// Observer hears of events on the store's replicas. Its methods run on the
// goroutine processing the replica (raftMu held, mu not held): they must be
// quick and must not call Replica methods that process raft.
type Observer interface {
	// LeaseAcquired: the lease of r now names r.
	LeaseAcquired(r *Replica, l *Lease)
	// LeaseLost: r stopped serving as leaseholder (it lost the lease or the
	// raft leadership); locks of its unprepared transactions are void.
	LeaseLost(r *Replica)
	// RangeSplit: left was split and right created.
	RangeSplit(left, right *Replica)
	// ReplicaRemoved: r was removed from this store.
	ReplicaRemoved(r *Replica)
}

type nopObserver struct{}

func (nopObserver) LeaseAcquired(*Replica, *Lease) {}
func (nopObserver) LeaseLost(*Replica)             {}
func (nopObserver) RangeSplit(_, _ *Replica)       {}
func (nopObserver) ReplicaRemoved(*Replica)        {}
