package replication

import (
	"sync/atomic"
	"time"
)

// Metrics count what the store did.
type Metrics struct {
	Proposals       int64
	ProposalNanos   int64 // sum of proposal latencies
	RaftWrites      int64
	RaftWriteNanos  int64 // sum of raft log write (and fsync) latencies
	MessagesSent    int64
	MessagesRecv    int64
	SnapshotsSent   int64
	SnapshotsRecv   int64
	Replicas        int
	Leaseholders    int
	QuiescedRanges  int
	LogTruncations  int64
	LeaseRequests   int64
	ClosedTSUpdates int64
}

type storeMetrics struct {
	proposals, proposalNanos   atomic.Int64
	raftWrites, raftWriteNanos atomic.Int64
	sent, recv                 atomic.Int64
	snapsSent, snapsRecv       atomic.Int64
	truncations                atomic.Int64
	closedUpdates              atomic.Int64
}

func (m *storeMetrics) observeProposal(d time.Duration) {
	m.proposals.Add(1)
	m.proposalNanos.Add(int64(d))
}

func (m *storeMetrics) observeRaftWrite(d time.Duration) {
	m.raftWrites.Add(1)
	m.raftWriteNanos.Add(int64(d))
}
