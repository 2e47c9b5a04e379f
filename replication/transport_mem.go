package replication

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/meridiandb/meridian/replication/replicationpb"
	"github.com/meridiandb/meridian/truetime"
)

// ErrUnreachable: the destination node cannot be reached (down,
// partitioned away, or the message was lost).
var ErrUnreachable = errors.New("replication: node unreachable")

// Link describes a directed link of a MemNetwork.
type Link struct {
	// Delay is the one-way latency; Jitter adds a uniformly random extra
	// delay in [0, Jitter).
	Delay, Jitter time.Duration
	// Loss is the probability that a raft batch is dropped.
	Loss float64
}

// MemNetworkOptions configure a MemNetwork.
type MemNetworkOptions struct {
	// Seed makes jitter and loss reproducible. Default: 1.
	Seed uint64
	// Default is the link between nodes without a specific one. Default:
	// no delay, no loss.
	Default Link
}

// MemNetwork connects in-process nodes. Raft traffic on each directed link
// is delivered in order after the link's delay; calls and snapshots pay the
// delay each way. Partitions and per-link delay and loss can change while
// nodes run.
type MemNetwork struct {
	opts MemNetworkOptions
	mu   struct {
		sync.Mutex
		rand    *rand.Rand
		nodes   map[NodeID]*MemTransport
		links   map[[2]NodeID]Link
		blocked map[[2]NodeID]bool
	}
}

// NewMemNetwork returns an empty network.
func NewMemNetwork(opts MemNetworkOptions) *MemNetwork {
	if opts.Seed == 0 {
		opts.Seed = 1
	}
	n := &MemNetwork{opts: opts}
	n.mu.rand = rand.New(rand.NewPCG(opts.Seed, opts.Seed^0x9e3779b97f4a7c15))
	n.mu.nodes = map[NodeID]*MemTransport{}
	n.mu.links = map[[2]NodeID]Link{}
	n.mu.blocked = map[[2]NodeID]bool{}
	return n
}

// Join attaches node id and returns its transport. A node that left (its
// transport closed) may join again, as after a restart.
func (n *MemNetwork) Join(id NodeID) *MemTransport {
	t := &MemTransport{net: n, id: id, links: map[NodeID]*memLink{}, stop: make(chan struct{})}
	n.mu.Lock()
	n.mu.nodes[id] = t
	n.mu.Unlock()
	return t
}

// SetLink sets the directed link from → to.
func (n *MemNetwork) SetLink(from, to NodeID, l Link) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.mu.links[[2]NodeID{from, to}] = l
}

// Partition cuts every link between a node of a and a node of b, both ways.
func (n *MemNetwork) Partition(a, b []NodeID) {
	n.mu.Lock()
	defer n.mu.Unlock()
	for _, x := range a {
		for _, y := range b {
			n.mu.blocked[[2]NodeID{x, y}] = true
			n.mu.blocked[[2]NodeID{y, x}] = true
		}
	}
}

// Isolate cuts node off from every other node.
func (n *MemNetwork) Isolate(node NodeID) {
	n.mu.Lock()
	var others []NodeID
	for id := range n.mu.nodes {
		if id != node {
			others = append(others, id)
		}
	}
	n.mu.Unlock()
	n.Partition([]NodeID{node}, others)
}

// Heal removes every partition.
func (n *MemNetwork) Heal() {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.mu.blocked = map[[2]NodeID]bool{}
}

// route returns the destination and the delay of one trip from → to, or an
// error if it cannot be made. drop is true if a lossy trip is lost.
func (n *MemNetwork) route(from, to NodeID) (dst *MemTransport, delay time.Duration, lost bool, err error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	dst = n.mu.nodes[to]
	if dst == nil || dst.closed() {
		return nil, 0, false, fmt.Errorf("%w: n%d is down", ErrUnreachable, to)
	}
	if n.mu.blocked[[2]NodeID{from, to}] {
		return nil, 0, false, fmt.Errorf("%w: n%d is partitioned from n%d", ErrUnreachable, to, from)
	}
	l, ok := n.mu.links[[2]NodeID{from, to}]
	if !ok {
		l = n.opts.Default
	}
	delay = l.Delay
	if l.Jitter > 0 {
		delay += time.Duration(n.mu.rand.Int64N(int64(l.Jitter)))
	}
	lost = l.Loss > 0 && n.mu.rand.Float64() < l.Loss
	return dst, delay, lost, nil
}

// MemTransport is a node's endpoint on a MemNetwork.
type MemTransport struct {
	net *MemNetwork
	id  NodeID

	handlerMu sync.RWMutex
	handler   Handler

	mu    sync.Mutex
	links map[NodeID]*memLink
	stop  chan struct{}
	once  sync.Once
	wg    sync.WaitGroup
}

var _ Transport = (*MemTransport)(nil)

// memLink delivers raft batches from one node to another in order, each
// after its delay.
type memLink struct {
	queue chan memDelivery
	last  time.Duration // delivery time of the previous batch
}

type memDelivery struct {
	at time.Duration
	b  *replicationpb.RaftBatch
}

func (t *MemTransport) closed() bool {
	select {
	case <-t.stop:
		return true
	default:
		return false
	}
}

// Serve implements Transport.
func (t *MemTransport) Serve(h Handler) {
	t.handlerMu.Lock()
	t.handler = h
	t.handlerMu.Unlock()
}

func (t *MemTransport) getHandler() Handler {
	t.handlerMu.RLock()
	defer t.handlerMu.RUnlock()
	return t.handler
}

// SendRaft implements Transport.
func (t *MemTransport) SendRaft(to NodeID, b *replicationpb.RaftBatch) {
	if t.closed() {
		return
	}
	_, delay, lost, err := t.net.route(t.id, to)
	if err != nil || lost {
		return
	}
	t.mu.Lock()
	l := t.links[to]
	if l == nil {
		l = &memLink{queue: make(chan memDelivery, 4096)}
		t.links[to] = l
		t.wg.Add(1)
		go t.deliver(to, l)
	}
	at := max(truetime.Mono()+delay, l.last)
	l.last = at
	t.mu.Unlock()
	select {
	case l.queue <- memDelivery{at: at, b: b}:
	default: // overloaded: drop, raft retransmits
	}
}

func (t *MemTransport) deliver(to NodeID, l *memLink) {
	defer t.wg.Done()
	var timer *time.Timer
	defer func() {
		if timer != nil {
			timer.Stop()
		}
	}()
	for {
		var d memDelivery
		select {
		case d = <-l.queue:
		case <-t.stop:
			return
		}
		if wait := d.at - truetime.Mono(); wait > 0 {
			if timer == nil {
				timer = time.NewTimer(wait)
			} else {
				timer.Reset(wait)
			}
			select {
			case <-timer.C:
			case <-t.stop:
				return
			}
		}
		// The partition may have started while the batch was in flight.
		dst, _, _, err := t.net.route(t.id, to)
		if err != nil {
			continue
		}
		if h := dst.getHandler(); h != nil {
			h.HandleRaft(d.b)
		}
	}
}

// trip waits out one direction of a call, failing if the way is cut.
func (t *MemTransport) trip(ctx context.Context, from, to NodeID) (*MemTransport, error) {
	dst, delay, _, err := t.net.route(from, to)
	if err != nil {
		return nil, err
	}
	if delay > 0 {
		timer := time.NewTimer(delay)
		defer timer.Stop()
		select {
		case <-timer.C:
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-t.stop:
			return nil, ErrStopped
		}
	}
	return dst, nil
}

// Call implements Transport.
func (t *MemTransport) Call(ctx context.Context, to NodeID, method string, payload []byte) ([]byte, error) {
	if t.closed() {
		return nil, ErrStopped
	}
	dst, err := t.trip(ctx, t.id, to)
	if err != nil {
		return nil, err
	}
	h := dst.getHandler()
	if h == nil {
		return nil, fmt.Errorf("%w: n%d is not serving", ErrUnreachable, to)
	}
	resp, callErr := h.HandleCall(ctx, t.id, method, append([]byte(nil), payload...))
	if _, err := t.trip(ctx, to, t.id); err != nil {
		return nil, fmt.Errorf("%w: %s on n%d: %w", ErrResponseLost, method, to, err)
	}
	return resp, callErr
}

// SendSnapshot implements Transport.
func (t *MemTransport) SendSnapshot(ctx context.Context, to NodeID, h *replicationpb.SnapshotHeader, next func() ([]*replicationpb.KeyValue, error)) error {
	if t.closed() {
		return ErrStopped
	}
	dst, err := t.trip(ctx, t.id, to)
	if err != nil {
		return err
	}
	hd := dst.getHandler()
	if hd == nil {
		return fmt.Errorf("%w: n%d is not serving", ErrUnreachable, to)
	}
	if err := hd.HandleSnapshot(ctx, h, next); err != nil {
		return err
	}
	_, err = t.trip(ctx, to, t.id)
	return err
}

// Close implements Transport: the node leaves the network.
func (t *MemTransport) Close() error {
	t.once.Do(func() {
		close(t.stop)
		t.wg.Wait()
	})
	return nil
}
