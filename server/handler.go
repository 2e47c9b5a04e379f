package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"google.golang.org/protobuf/proto"

	"github.com/meridiandb/meridian/kv/kvpb"
	"github.com/meridiandb/meridian/ranges"
	"github.com/meridiandb/meridian/ranges/gossip"
	"github.com/meridiandb/meridian/replication"
	"github.com/meridiandb/meridian/replication/replicationpb"
)

// Methods served for clients and operators.
const (
	// MethodClientBatch routes each request of a kvpb.BatchRequest through
	// this node's router (operator and test access to keys).
	MethodClientBatch   = "client.batch"
	MethodRanges        = "status.ranges"
	MethodLocalRanges   = "status.local-ranges"
	MethodNodes         = "status.nodes"
	MethodSetPlacement  = "admin.placement"
	MethodDecommission  = "admin.decommission"
	MethodLocalSetDecom = "admin.local-decommission"
)

var (
	errNotStarted = errors.New("node is starting: not part of an initialized cluster yet")
	errStopping   = errors.New("node is stopping")
)

// HandleRaft implements replication.Handler.
func (n *Node) HandleRaft(b *replicationpb.RaftBatch) {
	if !n.enter() {
		return
	}
	defer n.exit()
	if n.started() { // the store is set before started, under n.mu
		n.store.HandleRaft(b)
	}
}

// HandleSnapshot implements replication.Handler.
func (n *Node) HandleSnapshot(ctx context.Context, h *replicationpb.SnapshotHeader, recv func() ([]*replicationpb.KeyValue, error)) error {
	if !n.enter() {
		return errStopping
	}
	defer n.exit()
	if !n.started() {
		return errNotStarted
	}
	return n.store.HandleSnapshot(ctx, h, recv)
}

// HandleCall implements replication.Handler: it dispatches the methods of
// every layer.
func (n *Node) HandleCall(ctx context.Context, from replication.NodeID, method string, payload []byte) ([]byte, error) {
	if !n.enter() {
		return nil, errStopping
	}
	defer n.exit()
	switch method {
	case MethodInit:
		return n.handleInit(ctx, payload)
	case MethodHello:
		return n.handleJoin(ctx, payload, false)
	case MethodJoin:
		return n.handleJoin(ctx, payload, true)
	}
	if !n.started() {
		return nil, errNotStarted
	}
	switch method {
	case ranges.MethodBatch:
		ba := &kvpb.BatchRequest{}
		if err := proto.Unmarshal(payload, ba); err != nil {
			return nil, fmt.Errorf("bad batch: %w", err)
		}
		return proto.Marshal(n.evaluate(ctx, ba))
	case gossip.Method:
		return n.gossip.Handle(payload)
	case MethodClientBatch:
		return n.handleClientBatch(ctx, payload)
	case MethodRanges:
		return n.handleRanges(ctx)
	case MethodLocalRanges:
		return n.handleLocalRanges()
	case MethodNodes:
		return n.handleNodes()
	case MethodSetPlacement:
		return n.handleSetPlacement(ctx, payload)
	case MethodDecommission:
		return n.handleDecommission(ctx, payload)
	case MethodClock:
		return json.Marshal(n.cfg.Clock.Status())
	}
	n.mu.Lock()
	h := n.mu.handlers[method]
	n.mu.Unlock()
	if h == nil {
		return nil, fmt.Errorf("unknown method %q", method)
	}
	return h(ctx, from, payload)
}

// evaluate serves a batch addressed to one of this node's replicas.
func (n *Node) evaluate(ctx context.Context, ba *kvpb.BatchRequest) *kvpb.BatchResponse {
	n.mu.Lock()
	txn := n.mu.txn
	n.mu.Unlock()
	return n.eval.Evaluate(ctx, ba, txn)
}

// handleClientBatch routes each request through the router and returns
// the responses (or the first error).
func (n *Node) handleClientBatch(ctx context.Context, payload []byte) ([]byte, error) {
	ba := &kvpb.BatchRequest{}
	if err := proto.Unmarshal(payload, ba); err != nil {
		return nil, fmt.Errorf("bad batch: %w", err)
	}
	br := &kvpb.BatchResponse{}
	for _, req := range ba.Requests {
		var resp *kvpb.Response
		switch v := req.Value.(type) {
		case *kvpb.Request_Scan:
			rows, err := n.router.Scan(ctx, v.Scan.StartKey, v.Scan.EndKey, int(v.Scan.MaxRows), ranges.SendOptions{})
			if err != nil {
				br.Error = &kvpb.Error{Message: err.Error()}
				return proto.Marshal(br)
			}
			resp = &kvpb.Response{Value: &kvpb.Response_Scan{Scan: &kvpb.ScanResponse{Rows: rows}}}
		default:
			key := requestKey(req)
			if key == nil {
				br.Error = &kvpb.Error{Message: fmt.Sprintf("request %T needs a key", req.Value)}
				return proto.Marshal(br)
			}
			res, err := n.router.Send(ctx, key, ranges.SendOptions{}, []*kvpb.Request{req})
			if err != nil {
				br.Error = &kvpb.Error{Message: err.Error()}
				return proto.Marshal(br)
			}
			resp = res.Resp.Responses[0]
		}
		br.Responses = append(br.Responses, resp)
	}
	return proto.Marshal(br)
}

func requestKey(req *kvpb.Request) []byte {
	switch v := req.Value.(type) {
	case *kvpb.Request_Get:
		return v.Get.Key
	case *kvpb.Request_Put:
		return v.Put.Key
	case *kvpb.Request_Delete:
		return v.Delete.Key
	case *kvpb.Request_Increment:
		return v.Increment.Key
	case *kvpb.Request_AdminSplit:
		return v.AdminSplit.Key
	}
	return nil
}

// Observer implementation: the store tells the node of lease and range
// events (the transaction layer hooks in here).

// LeaseAcquired implements replication.Observer.
func (n *Node) LeaseAcquired(r *replication.Replica, l *replication.Lease) {
	if r.RangeID() == ranges.MetaRangeID && n.gossip != nil {
		n.gossip.SetMetaRange(r.Desc())
	}
	if o := n.observer(); o != nil {
		o.LeaseAcquired(r, l)
	}
}

// LeaseLost implements replication.Observer.
func (n *Node) LeaseLost(r *replication.Replica) {
	if o := n.observer(); o != nil {
		o.LeaseLost(r)
	}
}

// RangeSplit implements replication.Observer.
func (n *Node) RangeSplit(left, right *replication.Replica) {
	if o := n.observer(); o != nil {
		o.RangeSplit(left, right)
	}
}

// ReplicaRemoved implements replication.Observer.
func (n *Node) ReplicaRemoved(r *replication.Replica) {
	n.load.Forget(r.RangeID())
	if o := n.observer(); o != nil {
		o.ReplicaRemoved(r)
	}
}

// SetObserver installs an upper layer's observer of replica events.
func (n *Node) SetObserver(o replication.Observer) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.mu.observer = o
}

func (n *Node) observer() replication.Observer {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.mu.observer
}
