package server

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/meridiandb/meridian/ranges"
	"github.com/meridiandb/meridian/ranges/gossip"
	"github.com/meridiandb/meridian/ranges/rangespb"
	"github.com/meridiandb/meridian/replication"
)

// clusterView gives the allocator the gossiped nodes and cached policies.
type clusterView struct{ n *Node }

func (v clusterView) Nodes() []ranges.NodeInfo {
	g := v.n.gossip
	var out []ranges.NodeInfo
	for _, id := range g.NodeIDs() {
		d, _ := g.Node(id)
		info := ranges.NodeInfo{ID: id, Locality: d.GetLocality(), Live: g.NodeLive(id), DeadFor: g.NodeDeadFor(id), Decommissioning: g.Decommissioning(id)}
		if l, _, ok := g.Liveness(id); ok {
			info.Draining, info.Replicas, info.Leases = l.Draining, int(l.Replicas), int(l.Leases)
			if l.ClockUnsafe != "" {
				info.Draining = true // a node that cannot take leases gets no new work
			}
		}
		out = append(out, info)
	}
	return out
}

func (v clusterView) Policy(d *replication.RangeDescriptor) *rangespb.PlacementPolicy {
	return v.n.placement.Policy(d)
}

// runQueues is one pass over the ranges this node leads: repair their meta
// entries, split those too big or too busy, and let the allocator fix or
// improve their placement (balancing moves are limited per pass).
func (n *Node) runQueues(ctx context.Context) {
	if n.Draining() {
		return
	}
	if err := n.placement.Refresh(ctx); err != nil {
		n.logger.Debug("refreshing placement rules", "err", err)
	}
	rebalances := 4
	for _, r := range n.store.Replicas() {
		if ctx.Err() != nil {
			return
		}
		if r.RangeID() == ranges.MetaRangeID {
			if d := r.Desc(); d != nil {
				n.gossip.SetMetaRange(d)
			}
		}
		// The raft leader looks after its range, even while its lease has
		// lapsed for lack of requests (it takes the lease back to act).
		if !r.Status().IsLeader {
			continue
		}
		n.repairMeta(ctx, r)
		if err := n.splitter.MaybeSplit(ctx, r); err != nil {
			n.logger.Debug("split", "range", r.RangeID(), "err", err)
		}
		ch, err := n.allocator.Process(ctx, r, rebalances > 0)
		if err != nil {
			n.logger.Debug("allocator", "range", r.RangeID(), "err", err)
			continue
		}
		if ch.Kind != "" {
			rebalances--
			n.repairMeta(ctx, r)
		}
	}
}

// repairMeta makes sure the meta range holds the range's current
// descriptor (after a split, a membership change, or a crash in between).
func (n *Node) repairMeta(ctx context.Context, r *replication.Replica) {
	d := r.Desc()
	if d == nil {
		return
	}
	id := r.RangeID()
	n.mu.Lock()
	done := n.mu.metaGen[id] >= d.Generation
	n.mu.Unlock()
	if done {
		return
	}
	cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := n.router.UpdateMeta(cctx, d); err != nil {
		n.logger.Debug("meta repair", "range", id, "err", err)
		return
	}
	n.mu.Lock()
	n.mu.metaGen[id] = d.Generation
	n.mu.Unlock()
}

// Draining reports whether the node is draining.
func (n *Node) Draining() bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.mu.draining
}

// Drain moves the node's leases to other nodes (it announces it is
// draining, so none come back) and returns once it holds none, or none can
// move (every other replica's node is down or draining too), or ctx ends.
func (n *Node) Drain(ctx context.Context) error {
	n.mu.Lock()
	n.mu.draining = true
	n.mu.Unlock()
	if !n.started() {
		return nil
	}
	// Let the others hear that this node drains before handing them leases.
	n.gossip.PublishProto(gossip.LivenessKey(n.NodeID()), n.liveness())
	for {
		held, moved := 0, 0
		for _, r := range n.store.Replicas() {
			if !r.IsLeaseholder() {
				continue
			}
			held++
			if n.transferAway(ctx, r) {
				moved++
			}
		}
		if held == 0 || moved == 0 {
			if held > 0 {
				return fmt.Errorf("drain: %d leases have no live, undrained replica to go to", held)
			}
			return nil
		}
		t := time.NewTimer(100 * time.Millisecond)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return errors.New("drain: leases still held when the deadline passed")
		}
	}
}

// transferAway moves r's lease to a live replica on a node that is not
// draining, and reports whether it did.
func (n *Node) transferAway(ctx context.Context, r *replication.Replica) bool {
	d := r.Desc()
	if d == nil {
		return false
	}
	for _, rd := range d.Replicas {
		target := replication.NodeID(rd.NodeId)
		if target == n.NodeID() || rd.Type != 0 || !n.gossip.NodeLive(target) {
			continue
		}
		if l, _, ok := n.gossip.Liveness(target); ok && l.Draining {
			continue
		}
		cctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		err := r.TransferLease(cctx, target)
		cancel()
		if err == nil {
			return true
		}
	}
	return false
}
