package sqltest

import (
	"bytes"
	"context"
	"slices"
	"sync"

	"github.com/meridiandb/meridian/sql"
	"github.com/meridiandb/meridian/truetime"
	"github.com/meridiandb/meridian/txn"
)

// SingleNode is a sql.Cluster of one node in one region: splits are
// remembered (so SHOW TABLE … REGIONS shows them) and placements recorded,
// with every replica on node 1.
type SingleNode struct {
	Clock  truetime.Clock
	Region string // default "local"

	mu struct {
		sync.Mutex
		splits     [][]byte                   // sorted range boundaries
		placements map[string]PlacementRecord // by start key
	}
}

// PlacementRecord is a placement applied to a span.
type PlacementRecord struct {
	Span   txn.Span
	Policy sql.Placement
}

var _ sql.Cluster = (*SingleNode)(nil)

// NewSingleNode returns a one-node cluster whose clock is clock.
func NewSingleNode(clock truetime.Clock) *SingleNode {
	return &SingleNode{Clock: clock, Region: "local"}
}

func (c *SingleNode) ClockStatuses(ctx context.Context) ([]sql.NodeClock, error) {
	return []sql.NodeClock{{NodeID: 1, Region: c.Region, Status: c.Clock.Status()}}, nil
}

func (c *SingleNode) RangesForSpan(ctx context.Context, span txn.Span) ([]sql.RangeInfo, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	bounds := append([][]byte{{}}, c.mu.splits...)
	var out []sql.RangeInfo
	for i, start := range bounds {
		end := []byte{0xff}
		if i+1 < len(bounds) {
			end = bounds[i+1]
		}
		if bytes.Compare(end, span.Key) <= 0 || bytes.Compare(start, span.EndKey) >= 0 {
			continue
		}
		out = append(out, sql.RangeInfo{
			RangeID: uint64(i + 1), StartKey: start, EndKey: end,
			Replicas:    []sql.Replica{{NodeID: 1, Region: c.Region}},
			Leaseholder: 1,
		})
	}
	return out, nil
}

func (c *SingleNode) SplitAt(ctx context.Context, keys [][]byte) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, k := range keys {
		i, found := slices.BinarySearchFunc(c.mu.splits, k, bytes.Compare)
		if !found && len(k) > 0 {
			c.mu.splits = slices.Insert(c.mu.splits, i, bytes.Clone(k))
		}
	}
	return nil
}

// SetPlacement records p for span (a nil p removes span's record), as the
// cluster keeps one rule per start key.
func (c *SingleNode) SetPlacement(ctx context.Context, span txn.Span, p *sql.Placement) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.mu.placements == nil {
		c.mu.placements = map[string]PlacementRecord{}
	}
	if p == nil {
		delete(c.mu.placements, string(span.Key))
		return nil
	}
	c.mu.placements[string(span.Key)] = PlacementRecord{Span: txn.Span{Key: bytes.Clone(span.Key), EndKey: bytes.Clone(span.EndKey)}, Policy: *p}
	return nil
}

// Placement returns the policy last applied to the span starting at key
// (nil if none, or if it was removed).
func (c *SingleNode) Placement(key []byte) *sql.Placement {
	c.mu.Lock()
	defer c.mu.Unlock()
	r, ok := c.mu.placements[string(key)]
	if !ok {
		return nil
	}
	return &r.Policy
}

// Placements returns every recorded placement, by start key.
func (c *SingleNode) Placements() []PlacementRecord {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]PlacementRecord, 0, len(c.mu.placements))
	for _, r := range c.mu.placements {
		out = append(out, r)
	}
	slices.SortFunc(out, func(a, b PlacementRecord) int { return bytes.Compare(a.Span.Key, b.Span.Key) })
	return out
}
