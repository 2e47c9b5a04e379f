package server

import (
	"context"
	"fmt"
	"sort"
	"sync"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/meridiandb/meridian/ranges"
	"github.com/meridiandb/meridian/ranges/rangespb"
	"github.com/meridiandb/meridian/replication"
)

// handleLocalRanges reports this node's replicas.
func (n *Node) handleLocalRanges() ([]byte, error) {
	resp := &rangespb.RangesResponse{}
	for _, r := range n.store.Replicas() {
		d := r.Desc()
		if d == nil {
			continue
		}
		info := &rangespb.RangeInfo{Desc: d, Lease: r.Lease(), SafeTime: int64(r.SafeTime())}
		if r.IsLeaseholder() {
			info.LeaseholderNode = uint64(n.NodeID())
		}
		if b, err := r.ApproxBytes(); err == nil {
			info.ApproxBytes = b
		}
		resp.Ranges = append(resp.Ranges, info)
	}
	return proto.Marshal(resp)
}

// Ranges gathers every live node's replicas and merges them: per range the
// newest descriptor and the node serving its lease.
func (n *Node) Ranges(ctx context.Context) ([]*rangespb.RangeInfo, error) {
	byID := map[uint64]*rangespb.RangeInfo{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, id := range n.gossip.NodeIDs() {
		if !n.gossip.NodeLive(id) {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			cctx, cancel := context.WithTimeout(ctx, 3*time.Second)
			defer cancel()
			var out []byte
			var err error
			if id == n.NodeID() {
				out, err = n.handleLocalRanges()
			} else {
				out, err = n.transport.Call(cctx, id, MethodLocalRanges, nil)
			}
			if err != nil {
				return
			}
			resp := &rangespb.RangesResponse{}
			if proto.Unmarshal(out, resp) != nil {
				return
			}
			mu.Lock()
			defer mu.Unlock()
			for _, in := range resp.Ranges {
				cur := byID[in.Desc.RangeId]
				if cur == nil || in.Desc.Generation > cur.Desc.Generation {
					lh := uint64(0)
					if cur != nil {
						lh = cur.LeaseholderNode
					}
					byID[in.Desc.RangeId] = in
					if in.LeaseholderNode == 0 {
						in.LeaseholderNode = lh
					}
				} else if in.LeaseholderNode != 0 {
					cur.LeaseholderNode = in.LeaseholderNode
					cur.Lease = in.Lease
					cur.ApproxBytes = in.ApproxBytes
				}
			}
		}()
	}
	wg.Wait()
	out := make([]*rangespb.RangeInfo, 0, len(byID))
	for _, in := range byID {
		out = append(out, in)
	}
	sort.Slice(out, func(i, j int) bool { return string(out[i].Desc.StartKey) < string(out[j].Desc.StartKey) })
	return out, nil
}

func (n *Node) handleRanges(ctx context.Context) ([]byte, error) {
	rs, err := n.Ranges(ctx)
	if err != nil {
		return nil, err
	}
	return proto.Marshal(&rangespb.RangesResponse{Ranges: rs})
}

// Nodes describes every known node.
func (n *Node) Nodes() []*rangespb.NodeStatus {
	var out []*rangespb.NodeStatus
	for _, id := range n.gossip.NodeIDs() {
		d, _ := n.gossip.Node(id)
		st := &rangespb.NodeStatus{Desc: d, Live: n.gossip.NodeLive(id), Decommissioning: n.gossip.Decommissioning(id)}
		if l, _, ok := n.gossip.Liveness(id); ok {
			st.Draining, st.Replicas, st.Leases = l.Draining, l.Replicas, l.Leases
		}
		out = append(out, st)
	}
	return out
}

func (n *Node) handleNodes() ([]byte, error) {
	return proto.Marshal(&rangespb.NodesResponse{Nodes: n.Nodes()})
}

func (n *Node) handleSetPlacement(ctx context.Context, payload []byte) ([]byte, error) {
	req := &rangespb.SetPlacementRequest{}
	if err := proto.Unmarshal(payload, req); err != nil || req.Rule == nil {
		return nil, fmt.Errorf("bad placement request: %v", err)
	}
	p := req.Rule.Policy
	if p == nil {
		p = &rangespb.PlacementPolicy{}
		req.Rule.Policy = p
	}
	if p.NumReplicas < 0 {
		return nil, fmt.Errorf("replica count %d must be positive", p.NumReplicas)
	}
	if int(p.NumReplicas) != 0 && int(p.NumReplicas) < len(p.Regions) {
		return nil, fmt.Errorf("%d replicas cannot cover %d regions", p.NumReplicas, len(p.Regions))
	}
	if err := ranges.SetPlacement(ctx, n.router, req.Rule); err != nil {
		return nil, err
	}
	_ = n.placement.Refresh(ctx)
	return proto.Marshal(&rangespb.SetPlacementResponse{})
}

func (n *Node) handleDecommission(ctx context.Context, payload []byte) ([]byte, error) {
	req := &rangespb.DecommissionRequest{}
	if err := proto.Unmarshal(payload, req); err != nil {
		return nil, fmt.Errorf("bad decommission request: %w", err)
	}
	id := replication.NodeID(req.NodeId)
	if _, ok := n.gossip.Node(id); !ok {
		return nil, fmt.Errorf("no node n%d in this cluster", id)
	}
	n.gossip.SetDecommissioning(id)
	return proto.Marshal(&rangespb.DecommissionResponse{})
}
