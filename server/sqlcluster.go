package server

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/meridiandb/meridian/ranges"
	"github.com/meridiandb/meridian/ranges/rangespb"
	"github.com/meridiandb/meridian/replication"
	msql "github.com/meridiandb/meridian/sql"
	"github.com/meridiandb/meridian/sql/wire"
	"github.com/meridiandb/meridian/truetime"
	"github.com/meridiandb/meridian/txn"
)

// MethodClock returns the node's TrueTime status as JSON.
const MethodClock = "status.clock"

// sqlCluster gives the SQL layer the cluster: clocks, ranges, splits and
// placement.
type sqlCluster struct{ n *Node }

var _ msql.Cluster = sqlCluster{}

func (c sqlCluster) region(id replication.NodeID) string {
	if d, ok := c.n.gossip.Node(id); ok && d.Locality != nil {
		return d.Locality.Region
	}
	return ""
}

func (c sqlCluster) ClockStatuses(ctx context.Context) ([]msql.NodeClock, error) {
	var out []msql.NodeClock
	for _, id := range c.n.gossip.NodeIDs() {
		if !c.n.gossip.NodeLive(id) {
			continue
		}
		var st truetime.Status
		if id == c.n.NodeID() {
			st = c.n.cfg.Clock.Status()
		} else {
			cctx, cancel := context.WithTimeout(ctx, 2*time.Second)
			b, err := c.n.transport.Call(cctx, id, MethodClock, nil)
			cancel()
			if err != nil || json.Unmarshal(b, &st) != nil {
				continue
			}
		}
		out = append(out, msql.NodeClock{NodeID: uint64(id), Region: c.region(id), Status: st})
	}
	return out, nil
}

func (c sqlCluster) RangesForSpan(ctx context.Context, span txn.Span) ([]msql.RangeInfo, error) {
	rs, err := c.n.Ranges(ctx)
	if err != nil {
		return nil, err
	}
	var out []msql.RangeInfo
	for _, r := range rs {
		d := r.Desc
		if bytes.Compare(d.StartKey, span.EndKey) >= 0 || bytes.Compare(span.Key, d.EndKey) >= 0 {
			continue
		}
		info := msql.RangeInfo{RangeID: d.RangeId, StartKey: d.StartKey, EndKey: d.EndKey, Leaseholder: r.LeaseholderNode}
		for _, rd := range d.Replicas {
			info.Replicas = append(info.Replicas, msql.Replica{NodeID: rd.NodeId, Region: c.region(replication.NodeID(rd.NodeId))})
		}
		out = append(out, info)
	}
	return out, nil
}

func (c sqlCluster) SplitAt(ctx context.Context, keys [][]byte) error {
	for _, k := range keys {
		if err := c.n.router.AdminSplit(ctx, k); err != nil {
			return fmt.Errorf("splitting at %q: %w", k, err)
		}
	}
	return nil
}

func (c sqlCluster) SetPlacement(ctx context.Context, span txn.Span, p *msql.Placement) error {
	if p == nil {
		if err := ranges.ClearPlacement(ctx, c.n.router, span.Key); err != nil {
			return fmt.Errorf("clearing the placement rule at %q: %w", span.Key, err)
		}
		return c.n.placement.Refresh(ctx)
	}
	pol := &rangespb.PlacementPolicy{NumReplicas: int32(p.Replicas()), Regions: p.Regions, LeaderRegion: p.PrimaryRegion, Name: p.Name}
	if err := ranges.SetPlacement(ctx, c.n.router, &rangespb.PlacementRule{StartKey: span.Key, EndKey: span.EndKey, Policy: pol}); err != nil {
		return err
	}
	return c.n.placement.Refresh(ctx)
}

// startSQL serves the MySQL protocol if configured.
func (n *Node) startSQL(ctx context.Context) error {
	if n.cfg.SQLAddr == "" {
		return nil
	}
	s := wire.NewServer(wire.Options{Addr: n.cfg.SQLAddr, DB: n.gateway, Cluster: sqlCluster{n}, Clock: n.cfg.Clock, Logger: n.logger})
	if err := s.Start(ctx); err != nil {
		return fmt.Errorf("SQL on %s: %w", n.cfg.SQLAddr, err)
	}
	n.sqlServer = s
	n.gossip.SetNode(n.descriptor())
	return nil
}

// SQLAddr returns the address SQL clients connect to ("" if none).
func (n *Node) SQLAddr() string {
	if n.sqlServer != nil {
		return n.sqlServer.Addr()
	}
	return n.cfg.SQLAddr
}
