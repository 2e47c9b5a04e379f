package replication

import (
	"bytes"
	"errors"
	"fmt"

	"github.com/meridiandb/meridian/replication/replicationpb"
	"github.com/meridiandb/meridian/storage"
	"github.com/meridiandb/meridian/truetime"
)

// NodeID identifies a node (and its one store) in the cluster.
type NodeID uint64

// RangeID identifies a range.
type RangeID uint64

// ReplicaID identifies a replica within its range; it is the raft node id.
// Replica ids are never reused within a range.
type ReplicaID uint64

// The formats shared with the layers above.
type (
	RangeDescriptor   = replicationpb.RangeDescriptor
	ReplicaDescriptor = replicationpb.ReplicaDescriptor
	Lease             = replicationpb.Lease
	WriteBatch        = replicationpb.WriteBatch
	MVCCWrite         = replicationpb.MVCCWrite
	LocalWrite        = replicationpb.LocalWrite
	PreparedChange    = replicationpb.PreparedChange
)

// ContainsKey reports whether key lies in the descriptor's span.
func ContainsKey(d *RangeDescriptor, key []byte) bool {
	return bytes.Compare(key, d.StartKey) >= 0 && bytes.Compare(key, d.EndKey) < 0
}

// ContainsSpan reports whether [start, end) lies in the descriptor's span.
func ContainsSpan(d *RangeDescriptor, start, end []byte) bool {
	return bytes.Compare(start, d.StartKey) >= 0 && bytes.Compare(end, d.EndKey) <= 0 && bytes.Compare(start, end) <= 0
}

// ReplicaOnNode returns the descriptor's replica on node, if any.
func ReplicaOnNode(d *RangeDescriptor, node NodeID) (*ReplicaDescriptor, bool) {
	for _, r := range d.Replicas {
		if NodeID(r.NodeId) == node {
			return r, true
		}
	}
	return nil, false
}

// ReplicaByID returns the descriptor's replica with the given id, if any.
func ReplicaByID(d *RangeDescriptor, id ReplicaID) (*ReplicaDescriptor, bool) {
	for _, r := range d.Replicas {
		if ReplicaID(r.ReplicaId) == id {
			return r, true
		}
	}
	return nil, false
}

// DescribeRange renders a descriptor for logs and errors.
func DescribeRange(d *RangeDescriptor) string {
	if d == nil {
		return "<uninitialized>"
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "r%d [%s, %s) gen %d {", d.RangeId, storage.PrettyKey(d.StartKey), storage.PrettyKey(d.EndKey), d.Generation)
	for i, r := range d.Replicas {
		if i > 0 {
			b.WriteString(" ")
		}
		fmt.Fprintf(&b, "n%d/%d", r.NodeId, r.ReplicaId)
		if r.Type == replicationpb.ReplicaType_LEARNER {
			b.WriteString("(learner)")
		}
	}
	b.WriteString("}")
	return b.String()
}

// Errors the layers above branch on.
var (
	// ErrProposalDropped: the proposal was not (and will never be) applied,
	// typically because leadership changed; the caller may retry.
	ErrProposalDropped = errors.New("replication: proposal dropped")
	// ErrLeaseChanged: a write proposed under a lease was rejected at apply
	// because the lease changed in between; re-evaluate and retry.
	ErrLeaseChanged = errors.New("replication: lease changed before the write applied")
	// ErrRangeRemoved: the replica was removed from its range on this store.
	ErrRangeRemoved = errors.New("replication: replica removed")
	// ErrStopped: the store is shutting down.
	ErrStopped = errors.New("replication: store stopped")
	// ErrFollowerBehind: a follower could not serve a read at the requested
	// timestamp within the allowed wait; read at the leaseholder instead.
	ErrFollowerBehind = errors.New("replication: follower safe time behind read timestamp")
	// ErrResponseLost: a call may have reached its node and run there, but
	// its answer did not come back. Retrying is safe only for idempotent
	// requests.
	ErrResponseLost = errors.New("replication: response lost")
)

// NotLeaseholderError: the replica cannot serve as leaseholder. Hint names
// the replica believed to be the leaseholder (or raft leader), if known.
type NotLeaseholderError struct {
	RangeID RangeID
	Node    NodeID
	Hint    *ReplicaDescriptor
	Reason  string
}

func (e *NotLeaseholderError) Error() string {
	msg := fmt.Sprintf("r%d: n%d is not the leaseholder: %s", e.RangeID, e.Node, e.Reason)
	if e.Hint != nil {
		msg += fmt.Sprintf(" (try n%d)", e.Hint.NodeId)
	}
	return msg
}

// RangeKeyMismatchError: the request's keys are outside the replica's span
// (the range split or merged, or the cache was stale).
type RangeKeyMismatchError struct {
	RangeID    RangeID
	Start, End []byte
	Desc       *RangeDescriptor
}

func (e *RangeKeyMismatchError) Error() string {
	return fmt.Sprintf("r%d: keys [%s, %s) outside %s", e.RangeID, storage.PrettyKey(e.Start), storage.PrettyKey(e.End), DescribeRange(e.Desc))
}

// RangeNotFoundError: the store has no (initialized) replica of the range.
type RangeNotFoundError struct {
	RangeID RangeID
	Node    NodeID
}

func (e *RangeNotFoundError) Error() string {
	return fmt.Sprintf("r%d not found on n%d", e.RangeID, e.Node)
}

// ts converts a truetime timestamp for the storage layer.
func ts(t truetime.Timestamp) int64 { return int64(t) }
