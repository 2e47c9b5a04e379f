package sql

import (
	"context"

	"github.com/meridiandb/meridian/truetime"
	"github.com/meridiandb/meridian/txn"
)

// Cluster is what the SQL layer needs from the cluster beyond
// transactions. The server implements it over ranges/ and replication/;
// sqltest.SingleNode is a one-node implementation for tests. Every method
// is safe for concurrent use.
type Cluster interface {
	// ClockStatuses returns each live node's TrueTime status (SHOW CLOCK).
	ClockStatuses(ctx context.Context) ([]NodeClock, error)
	// RangesForSpan returns the ranges overlapping span, in key order
	// (SHOW TABLE t REGIONS).
	RangesForSpan(ctx context.Context, span txn.Span) ([]RangeInfo, error)
	// SplitAt splits the ranges containing keys so that each key starts a
	// range (SPLIT TABLE). Keys already at a range boundary are no-ops.
	SplitAt(ctx context.Context, keys [][]byte) error
	// SetPlacement applies a placement policy to the ranges of span (ALTER
	// TABLE … PLACEMENT POLICY=, a partition's PLACEMENT POLICY, and
	// changes to a policy in use). Spans nest (a table's partitions lie
	// inside the table's span): the innermost span's policy governs its
	// ranges. A nil policy removes span's own policy, so that the
	// enclosing span's, or the default placement, applies.
	SetPlacement(ctx context.Context, span txn.Span, policy *Placement) error
}

// NodeClock is one node's clock as SHOW CLOCK reports it.
type NodeClock struct {
	NodeID uint64
	Region string
	Status truetime.Status
}

// Replica is one replica of a range.
type Replica struct {
	NodeID uint64
	Region string
}

// RangeInfo describes one range.
type RangeInfo struct {
	RangeID          uint64
	StartKey, EndKey []byte
	Replicas         []Replica
	// Leaseholder is the node holding the lease, 0 if unknown.
	Leaseholder uint64
}

// Placement is a placement policy as the SQL layer stores it (TiDB syntax:
// CREATE PLACEMENT POLICY p PRIMARY_REGION="us-east" REGIONS="us-east,eu-west"
// FOLLOWERS=2).
type Placement struct {
	Name string
	// PrimaryRegion is where leases (leaders) should be.
	PrimaryRegion string
	// Regions must each hold at least one voter.
	Regions []string
	// Followers is the number of replicas besides the leader (0: default,
	// replicas = 3).
	Followers int
}

// Replicas returns the number of voters the policy asks for.
func (p *Placement) Replicas() int {
	if p == nil || p.Followers == 0 {
		return 3
	}
	return p.Followers + 1
}
