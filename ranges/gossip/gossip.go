package gossip

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/meridiandb/meridian/ranges/rangespb"
	"github.com/meridiandb/meridian/replication"
	"github.com/meridiandb/meridian/truetime"
)

// Method is the transport method of a gossip exchange.
const Method = "gossip"

// Keys of gossiped facts.
const (
	KeyMetaRange = "meta-range"
)

func nodeKey(id replication.NodeID) string     { return "node:" + strconv.FormatUint(uint64(id), 10) }
func livenessKey(id replication.NodeID) string { return "live:" + strconv.FormatUint(uint64(id), 10) }
func decomKey(id replication.NodeID) string    { return "decom:" + strconv.FormatUint(uint64(id), 10) }

// Caller sends a request to a node.
type Caller interface {
	Call(ctx context.Context, to replication.NodeID, method string, payload []byte) ([]byte, error)
}

// Options configure a Gossip.
type Options struct {
	NodeID replication.NodeID
	Caller Caller
	Clock  truetime.Clock
	Logger *slog.Logger
	// Interval between rounds. Default: 250ms.
	Interval time.Duration
	// Fanout: peers contacted per round. Default: 3.
	Fanout int
	// LiveTimeout: a node whose liveness was not republished for this long
	// is not live. Default: 4s.
	LiveTimeout time.Duration
	// Liveness returns what this node publishes about itself every round.
	Liveness func() *rangespb.Liveness
	// Seed seeds the choice of peers. Default: the node id.
	Seed uint64
}

// Gossip is one node's view of the cluster.
type Gossip struct {
	opts Options
	mu   struct {
		sync.Mutex
		infos map[string]*rangespb.GossipInfo
		// changed records when each key's version last grew (truetime.Mono).
		changed    map[string]time.Duration
		rng        *rand.Rand
		exchanging map[replication.NodeID]bool
	}
	stop chan struct{}
	wg   sync.WaitGroup
	once sync.Once
}

// New returns a Gossip; call Start to begin exchanging.
func New(o Options) *Gossip {
	if o.Interval == 0 {
		o.Interval = 250 * time.Millisecond
	}
	if o.Fanout == 0 {
		o.Fanout = 3
	}
	if o.LiveTimeout == 0 {
		o.LiveTimeout = 4 * time.Second
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Seed == 0 {
		o.Seed = uint64(o.NodeID)
	}
	g := &Gossip{opts: o, stop: make(chan struct{})}
	g.mu.infos = map[string]*rangespb.GossipInfo{}
	g.mu.changed = map[string]time.Duration{}
	g.mu.exchanging = map[replication.NodeID]bool{}
	g.mu.rng = rand.New(rand.NewPCG(o.Seed, 77))
	return g
}

// Start begins the gossip rounds.
func (g *Gossip) Start() {
	g.wg.Add(1)
	go func() {
		defer g.wg.Done()
		t := time.NewTicker(g.opts.Interval)
		defer t.Stop()
		for {
			g.round()
			select {
			case <-t.C:
			case <-g.stop:
				return
			}
		}
	}()
}

// Close stops the rounds.
func (g *Gossip) Close() {
	g.once.Do(func() { close(g.stop); g.wg.Wait() })
}

func (g *Gossip) version() int64 { return int64(g.opts.Clock.Now().Latest) }

// Publish sets a key originating at this node.
func (g *Gossip) Publish(key string, value []byte) {
	g.merge([]*rangespb.GossipInfo{{Key: key, Value: value, Version: g.version(), Origin: uint64(g.opts.NodeID)}})
}

// PublishProto sets a key to a message.
func (g *Gossip) PublishProto(key string, m proto.Message) {
	b, err := proto.Marshal(m)
	if err != nil {
		panic(fmt.Sprintf("gossip: marshaling %T: %v", m, err))
	}
	g.Publish(key, b)
}

// merge takes the infos that are newer than ours.
func (g *Gossip) merge(infos []*rangespb.GossipInfo) {
	g.mu.Lock()
	defer g.mu.Unlock()
	now := truetime.Mono()
	for _, in := range infos {
		cur := g.mu.infos[in.Key]
		if cur != nil && cur.Version >= in.Version {
			continue
		}
		g.mu.infos[in.Key] = proto.Clone(in).(*rangespb.GossipInfo)
		g.mu.changed[in.Key] = now
	}
}

func (g *Gossip) all() []*rangespb.GossipInfo {
	g.mu.Lock()
	defer g.mu.Unlock()
	out := make([]*rangespb.GossipInfo, 0, len(g.mu.infos))
	for _, in := range g.mu.infos {
		out = append(out, in)
	}
	return out
}

// round publishes this node's liveness and exchanges with a few peers.
func (g *Gossip) round() {
	if g.opts.Liveness != nil {
		l := g.opts.Liveness()
		l.NodeId = uint64(g.opts.NodeID)
		g.PublishProto(livenessKey(g.opts.NodeID), l)
	}
	peers := g.pickPeers()
	req := &rangespb.GossipRequest{FromNode: uint64(g.opts.NodeID), Infos: g.all()}
	payload, _ := proto.Marshal(req)
	// Exchanges run beside the rounds, one at a time per peer, so that a
	// slow peer never delays this node's own liveness.
	for _, p := range peers {
		if !g.startExchange(p) {
			continue
		}
		g.wg.Add(1)
		go func() {
			defer g.wg.Done()
			defer g.endExchange(p)
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			defer cancel()
			out, err := g.opts.Caller.Call(ctx, p, Method, payload)
			if err != nil {
				g.opts.Logger.Debug("gossip exchange failed", "peer", p, "err", err)
				return
			}
			resp := &rangespb.GossipResponse{}
			if proto.Unmarshal(out, resp) == nil {
				g.merge(resp.Infos)
			}
		}()
	}
}

func (g *Gossip) startExchange(p replication.NodeID) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.mu.exchanging[p] {
		return false
	}
	g.mu.exchanging[p] = true
	return true
}

func (g *Gossip) endExchange(p replication.NodeID) {
	g.mu.Lock()
	defer g.mu.Unlock()
	delete(g.mu.exchanging, p)
}

// pickPeers returns up to Fanout known nodes other than this one, live ones
// first.
func (g *Gossip) pickPeers() []replication.NodeID {
	nodes := g.NodeIDs()
	var live, dead []replication.NodeID
	for _, n := range nodes {
		if n == g.opts.NodeID {
			continue
		}
		if g.NodeLive(n) {
			live = append(live, n)
		} else {
			dead = append(dead, n)
		}
	}
	g.mu.Lock()
	g.mu.rng.Shuffle(len(live), func(i, j int) { live[i], live[j] = live[j], live[i] })
	g.mu.rng.Shuffle(len(dead), func(i, j int) { dead[i], dead[j] = dead[j], dead[i] })
	g.mu.Unlock()
	out := live
	if len(out) > g.opts.Fanout {
		out = out[:g.opts.Fanout]
	}
	if len(dead) > 0 {
		out = append(out, dead[0]) // keep probing one that may be back
	}
	return out
}

// Handle serves a peer's exchange.
func (g *Gossip) Handle(payload []byte) ([]byte, error) {
	req := &rangespb.GossipRequest{}
	if err := proto.Unmarshal(payload, req); err != nil {
		return nil, fmt.Errorf("gossip: bad request: %w", err)
	}
	g.merge(req.Infos)
	return proto.Marshal(&rangespb.GossipResponse{Infos: g.all()})
}

// get decodes a key's value into m.
func (g *Gossip) get(key string, m proto.Message) bool {
	g.mu.Lock()
	in := g.mu.infos[key]
	g.mu.Unlock()
	return in != nil && proto.Unmarshal(in.Value, m) == nil
}

// SetNode records this node's (or, when joining, other nodes')
// descriptors.
func (g *Gossip) SetNode(d *rangespb.NodeDescriptor) {
	if replication.NodeID(d.NodeId) == g.opts.NodeID {
		g.PublishProto(nodeKey(g.opts.NodeID), d)
		return
	}
	b, _ := proto.Marshal(d)
	g.merge([]*rangespb.GossipInfo{{Key: nodeKey(replication.NodeID(d.NodeId)), Value: b, Version: 1, Origin: d.NodeId}})
}

// Node returns a node's descriptor.
func (g *Gossip) Node(id replication.NodeID) (*rangespb.NodeDescriptor, bool) {
	d := &rangespb.NodeDescriptor{}
	return d, g.get(nodeKey(id), d)
}

// NodeIDs lists the nodes with a known descriptor.
func (g *Gossip) NodeIDs() []replication.NodeID {
	g.mu.Lock()
	defer g.mu.Unlock()
	var out []replication.NodeID
	for k := range g.mu.infos {
		if s, ok := strings.CutPrefix(k, "node:"); ok {
			if id, err := strconv.ParseUint(s, 10, 64); err == nil {
				out = append(out, replication.NodeID(id))
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

// Address returns a node's address (a resolver for the gRPC transport).
func (g *Gossip) Address(id replication.NodeID) (string, error) {
	d, ok := g.Node(id)
	if !ok || d.Address == "" {
		return "", fmt.Errorf("address of n%d unknown", id)
	}
	return d.Address, nil
}

// Liveness returns what a node last said about itself and how long ago that
// changed.
func (g *Gossip) Liveness(id replication.NodeID) (*rangespb.Liveness, time.Duration, bool) {
	l := &rangespb.Liveness{}
	if !g.get(livenessKey(id), l) {
		return nil, 0, false
	}
	g.mu.Lock()
	age := truetime.Mono() - g.mu.changed[livenessKey(id)]
	g.mu.Unlock()
	return l, age, true
}

// NodeLive reports whether a node republished its liveness recently.
func (g *Gossip) NodeLive(id replication.NodeID) bool {
	if id == g.opts.NodeID {
		return true
	}
	_, age, ok := g.Liveness(id)
	return ok && age < g.opts.LiveTimeout
}

// NodeDeadFor reports how long a node has not republished its liveness
// (0 if live; a large value if never heard).
func (g *Gossip) NodeDeadFor(id replication.NodeID) time.Duration {
	if g.NodeLive(id) {
		return 0
	}
	_, age, ok := g.Liveness(id)
	if !ok {
		return 1 << 62
	}
	return age
}

// Distance implements ranges.Directory: 0 self, 1 same zone, 2 same
// region, 3 another region. Nodes without a known locality count as in
// the same region (a cluster without localities is one region).
func (g *Gossip) Distance(id replication.NodeID) int {
	if id == g.opts.NodeID {
		return 0
	}
	me, ok1 := g.Node(g.opts.NodeID)
	them, ok2 := g.Node(id)
	switch {
	case !ok1 || !ok2 || me.Locality == nil || them.Locality == nil || me.Locality.Region == "" || them.Locality.Region == "":
		return 2
	case me.Locality.Region != them.Locality.Region:
		return 3
	case me.Locality.Zone == them.Locality.Zone:
		return 1
	default:
		return 2
	}
}

// SetMetaRange publishes the meta range's descriptor if it is newer than
// the known one.
func (g *Gossip) SetMetaRange(d *replication.RangeDescriptor) {
	if cur := g.MetaRange(); cur != nil && cur.Generation >= d.Generation {
		return
	}
	g.PublishProto(KeyMetaRange, d)
}

// MetaRange implements ranges.Directory.
func (g *Gossip) MetaRange() *replication.RangeDescriptor {
	d := &replication.RangeDescriptor{}
	if !g.get(KeyMetaRange, d) {
		return nil
	}
	return d
}

// SetDecommissioning marks a node as decommissioning (its replicas move).
func (g *Gossip) SetDecommissioning(id replication.NodeID) {
	g.Publish(decomKey(id), []byte{1})
}

// Decommissioning reports whether a node is being decommissioned.
func (g *Gossip) Decommissioning(id replication.NodeID) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	in := g.mu.infos[decomKey(id)]
	return in != nil && len(in.Value) == 1 && in.Value[0] == 1
}

// LivenessKey is the gossip key of a node's liveness.
func LivenessKey(id replication.NodeID) string { return livenessKey(id) }
