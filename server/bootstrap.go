package server

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"strings"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"github.com/meridiandb/meridian/ranges"
	"github.com/meridiandb/meridian/ranges/rangespb"
	"github.com/meridiandb/meridian/replication"
	"github.com/meridiandb/meridian/replication/replicationpb"
	"github.com/meridiandb/meridian/storage"
)

// Methods of cluster membership.
const (
	MethodInit  = "init"
	MethodJoin  = "join"
	MethodHello = "hello"
)

// ErrAlreadyInitialized: `meridian init` on a node of a running cluster.
var ErrAlreadyInitialized = errors.New("cluster already initialized")

// bootstrap makes this node node 1 of a new cluster: the meta range and
// the first data range, each with one replica here, their meta entries and
// the id counters.
func (n *Node) bootstrap(clusterID string) (string, error) {
	if clusterID == "" {
		var b [16]byte
		_, _ = rand.Read(b[:])
		clusterID = fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
	}
	replicas := []*replication.ReplicaDescriptor{{NodeId: 1, ReplicaId: 1}}
	meta := &replication.RangeDescriptor{RangeId: ranges.MetaRangeID, StartKey: ranges.KeyMin, EndKey: ranges.DataMin,
		Replicas: replicas, NextReplicaId: 2, Generation: 1}
	data := &replication.RangeDescriptor{RangeId: ranges.FirstDataRangeID, StartKey: ranges.DataMin, EndKey: ranges.KeyMax,
		Replicas: replicas, NextReplicaId: 2, Generation: 1}
	for _, d := range []*replication.RangeDescriptor{meta, data} {
		if err := replication.BootstrapRange(n.eng, d); err != nil {
			return "", err
		}
	}
	ts := int64(n.cfg.Clock.Now().Latest)
	b := n.eng.NewBatch()
	defer b.Close()
	puts := map[string][]byte{
		string(ranges.MetaKey(meta.EndKey)): mustMarshal(meta),
		string(ranges.MetaKey(data.EndKey)): mustMarshal(data),
		string(ranges.KeyRangeIDCounter):    encodeCounter(ranges.FirstDataRangeID),
		string(ranges.KeyNodeIDCounter):     encodeCounter(1),
		string(ranges.KeyClusterID):         []byte(clusterID),
	}
	for k, v := range puts {
		if err := b.PutMVCC([]byte(k), ts, v); err != nil {
			return "", err
		}
	}
	ident, _ := proto.Marshal(&replicationpb.StoreIdent{ClusterId: clusterID, NodeId: 1})
	if err := b.PutLocal(storage.StoreLocalKey("iden"), ident); err != nil {
		return "", err
	}
	if err := b.Commit(true); err != nil {
		return "", err
	}
	n.setIdent(&replicationpb.StoreIdent{ClusterId: clusterID, NodeId: 1})
	n.logger.Info("bootstrapped a new cluster", "cluster", clusterID)
	return clusterID, nil
}

func encodeCounter(v int64) []byte {
	b := make([]byte, 8)
	for i := 7; i >= 0; i-- {
		b[i] = byte(v)
		v >>= 8
	}
	return b
}

func mustMarshal(m proto.Message) []byte {
	b, err := proto.Marshal(m)
	if err != nil {
		panic(err)
	}
	return b
}

// waitForIdentity waits until `meridian init` bootstraps this node or a
// node at one of the join addresses admits it.
func (n *Node) waitForIdentity(ctx context.Context) error {
	if len(n.cfg.Join) == 0 {
		n.logger.Info("waiting for `meridian init`", "addr", n.advertise())
	}
	req := mustMarshal(&rangespb.JoinRequest{Address: n.advertise(), SqlAddress: n.cfg.SQLAddr, HttpAddress: n.httpAddr(), Locality: n.cfg.Locality})
	var lastErr error
	for attempt := 0; ; attempt++ {
		select {
		case <-n.initDone:
			return nil
		case <-ctx.Done():
			if lastErr != nil {
				return fmt.Errorf("could not join the cluster: %w", lastErr)
			}
			return ctx.Err()
		default:
		}
		for _, addr := range n.cfg.Join {
			if addr == n.advertise() || addr == n.Addr() {
				continue
			}
			cctx, cancel := context.WithTimeout(ctx, 3*time.Second)
			out, err := replication.CallAddress(cctx, addr, nil, MethodJoin, req)
			cancel()
			if err != nil {
				if notMeridian(err) {
					return fmt.Errorf("--join %s: not a Meridian node (%v)", addr, err)
				}
				lastErr = fmt.Errorf("%s: %v", addr, err)
				continue
			}
			resp := &rangespb.JoinResponse{}
			if err := proto.Unmarshal(out, resp); err != nil {
				return fmt.Errorf("--join %s: not a Meridian node (bad answer: %v)", addr, err)
			}
			if err := n.writeIdent(&replicationpb.StoreIdent{ClusterId: resp.ClusterId, NodeId: resp.NodeId}); err != nil {
				return err
			}
			n.storeDirectory(resp.Nodes)
			n.logger.Info("joined cluster", "cluster", resp.ClusterId, "node", resp.NodeId, "via", addr)
			return nil
		}
		if attempt%10 == 9 && lastErr != nil {
			n.logger.Info("still waiting to join", "err", lastErr)
		}
		t := time.NewTimer(500 * time.Millisecond)
		select {
		case <-t.C:
		case <-n.initDone:
			t.Stop()
		case <-ctx.Done():
			t.Stop()
		}
	}
}

// notMeridian reports whether a call failed because the peer does not speak
// Meridian's protocol (as opposed to being down or not ready).
func notMeridian(err error) bool {
	if s, ok := status.FromError(err); ok && s.Code() == codes.Unimplemented {
		return true
	}
	msg := err.Error()
	return strings.Contains(msg, "preface") || strings.Contains(msg, "http2") || strings.Contains(msg, "malformed")
}

// hello checks, on restart, that the join addresses belong to this node's
// cluster, and learns the other nodes.
func (n *Node) hello(ctx context.Context) error {
	req := mustMarshal(&rangespb.JoinRequest{Address: n.advertise()})
	for _, addr := range n.cfg.Join {
		if addr == n.advertise() || addr == n.Addr() {
			continue
		}
		cctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		out, err := replication.CallAddress(cctx, addr, nil, MethodHello, req)
		cancel()
		if err != nil {
			if notMeridian(err) {
				return fmt.Errorf("--join %s: not a Meridian node (%v)", addr, err)
			}
			continue
		}
		resp := &rangespb.JoinResponse{}
		if err := proto.Unmarshal(out, resp); err != nil {
			return fmt.Errorf("--join %s: not a Meridian node (bad answer: %v)", addr, err)
		}
		if resp.ClusterId != "" && resp.ClusterId != n.ClusterID() {
			return fmt.Errorf("store %s belongs to cluster %s, but %s is in cluster %s", n.cfg.StoreDir, n.ClusterID(), addr, resp.ClusterId)
		}
		n.storeDirectory(resp.Nodes)
		return nil
	}
	return nil
}

func (n *Node) handleInit(ctx context.Context, _ []byte) ([]byte, error) {
	if id := n.ClusterID(); id != "" {
		return nil, fmt.Errorf("%w (cluster %s)", ErrAlreadyInitialized, id)
	}
	// A node whose join addresses already form a cluster must join it, not
	// start another.
	for _, addr := range n.cfg.Join {
		if addr == n.advertise() || addr == n.Addr() {
			continue
		}
		cctx, cancel := context.WithTimeout(ctx, time.Second)
		out, err := replication.CallAddress(cctx, addr, nil, MethodHello, mustMarshal(&rangespb.JoinRequest{}))
		cancel()
		if err != nil {
			continue
		}
		resp := &rangespb.JoinResponse{}
		if proto.Unmarshal(out, resp) == nil && resp.ClusterId != "" {
			return nil, fmt.Errorf("%w: %s belongs to cluster %s; this node joins it", ErrAlreadyInitialized, addr, resp.ClusterId)
		}
	}
	if id := n.ClusterID(); id != "" {
		return nil, fmt.Errorf("%w (cluster %s)", ErrAlreadyInitialized, id)
	}
	id, err := n.bootstrap("")
	if err != nil {
		return nil, err
	}
	close(n.initDone)
	return mustMarshal(&rangespb.InitResponse{ClusterId: id}), nil
}

func (n *Node) handleJoin(ctx context.Context, payload []byte, allocate bool) ([]byte, error) {
	req := &rangespb.JoinRequest{}
	if err := proto.Unmarshal(payload, req); err != nil {
		return nil, fmt.Errorf("bad join request: %w", err)
	}
	if n.ClusterID() == "" {
		return nil, errors.New("this node is not part of an initialized cluster yet")
	}
	if !n.started() {
		if allocate {
			return nil, errors.New("this node is still starting")
		}
		return mustMarshal(&rangespb.JoinResponse{ClusterId: n.ClusterID()}), nil
	}
	resp := &rangespb.JoinResponse{ClusterId: n.ClusterID(), MetaRange: n.gossip.MetaRange()}
	for _, id := range n.gossip.NodeIDs() {
		if d, ok := n.gossip.Node(id); ok && d.Address != "" {
			resp.Nodes = append(resp.Nodes, d)
		}
	}
	if allocate {
		id, err := n.router.Increment(ctx, ranges.KeyNodeIDCounter, 1)
		if err != nil {
			return nil, fmt.Errorf("allocating a node id: %w", err)
		}
		resp.NodeId = uint64(id)
		n.gossip.SetNode(&rangespb.NodeDescriptor{NodeId: uint64(id), Address: req.Address, SqlAddress: req.SqlAddress,
			HttpAddress: req.HttpAddress, Locality: req.Locality, ClusterId: resp.ClusterId})
	}
	return mustMarshal(resp), nil
}

func (n *Node) started() bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.mu.started
}

// The node directory (the other nodes' descriptors) is saved in the store
// so that a restarted node finds its peers.
var directoryKey = storage.StoreLocalKey("nodes")

func (n *Node) storeDirectory(nodes []*rangespb.NodeDescriptor) {
	b := n.eng.NewBatch()
	defer b.Close()
	if err := b.PutLocal(directoryKey, mustMarshal(&rangespb.JoinResponse{Nodes: nodes})); err == nil {
		_ = b.Commit(false)
	}
}

func (n *Node) loadDirectory() []*rangespb.NodeDescriptor {
	v, found, err := n.eng.GetLocal(directoryKey)
	if err != nil || !found {
		return nil
	}
	r := &rangespb.JoinResponse{}
	if proto.Unmarshal(v, r) != nil {
		return nil
	}
	var out []*rangespb.NodeDescriptor
	for _, d := range r.Nodes {
		if replication.NodeID(d.NodeId) != n.NodeID() {
			out = append(out, d)
		}
	}
	return out
}

func (n *Node) saveDirectory(context.Context) {
	var nodes []*rangespb.NodeDescriptor
	for _, id := range n.gossip.NodeIDs() {
		if d, ok := n.gossip.Node(id); ok && d.Address != "" {
			nodes = append(nodes, d)
		}
	}
	n.storeDirectory(nodes)
}
