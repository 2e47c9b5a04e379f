package repltest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2/vfs"
	"google.golang.org/protobuf/proto"

	"github.com/meridiandb/meridian/replication"
	"github.com/meridiandb/meridian/replication/replicationpb"
	"github.com/meridiandb/meridian/storage"
	"github.com/meridiandb/meridian/truetime"
)

// Options configure a Cluster.
type Options struct {
	// Nodes is the number of nodes. Default: 3.
	Nodes int
	// Store is the template of every node's StoreOptions (NodeID, Engine,
	// Clock and Transport are filled in). Zero fields take the store's
	// defaults, except TickInterval which defaults to 20ms here so tests
	// elect quickly.
	Store replication.StoreOptions
	// Clock returns node i's clock (i from 1). Default: a simulated clock
	// with no offset and 1ms of claimed uncertainty.
	Clock func(i int) truetime.Clock
	// Network: default no delay.
	Network replication.MemNetworkOptions
	// Transport, if set, builds node i's transport instead of the
	// MemNetwork (e.g. gRPC on 127.0.0.1).
	Transport func(i int) replication.Transport
	// DiskDir, if set, puts stores on disk under it instead of in memory.
	DiskDir string
}

// Node is one node of a Cluster.
type Node struct {
	ID        replication.NodeID
	FS        vfs.FS
	Engine    *storage.Engine
	Store     *replication.Store
	Clock     truetime.Clock
	Transport replication.Transport
	running   bool
}

// Cluster is a set of in-process nodes.
type Cluster struct {
	t     testing.TB
	opts  Options
	Net   *replication.MemNetwork
	Nodes []*Node // Nodes[i-1] is node i
	mu    sync.Mutex
}

// New creates the nodes (engines and clocks) without starting them.
func New(t testing.TB, opts Options) *Cluster {
	if opts.Nodes == 0 {
		opts.Nodes = 3
	}
	if opts.Store.TickInterval == 0 {
		opts.Store.TickInterval = 20 * time.Millisecond
	}
	if opts.Clock == nil {
		opts.Clock = func(int) truetime.Clock {
			return truetime.NewSimulated(truetime.SimOptions{ClaimedEpsilon: time.Millisecond})
		}
	}
	c := &Cluster{t: t, opts: opts, Net: replication.NewMemNetwork(opts.Network)}
	for i := 1; i <= opts.Nodes; i++ {
		c.AddNode()
	}
	t.Cleanup(c.Close)
	return c
}

// AddNode creates one more node (not started) and returns it.
func (c *Cluster) AddNode() *Node {
	i := len(c.Nodes) + 1
	var fs vfs.FS = vfs.NewMem()
	if c.opts.DiskDir != "" {
		fs = vfs.Default
	}
	n := &Node{ID: replication.NodeID(i), FS: fs, Clock: c.opts.Clock(i)}
	c.Nodes = append(c.Nodes, n)
	return n
}

func (c *Cluster) dir(n *Node) string {
	if c.opts.DiskDir != "" {
		return fmt.Sprintf("%s/n%d", c.opts.DiskDir, n.ID)
	}
	return fmt.Sprintf("n%d", n.ID)
}

func (c *Cluster) openEngine(n *Node) {
	if n.Engine != nil {
		return
	}
	e, err := storage.Open(storage.Options{Dir: c.dir(n), FS: n.FS})
	if err != nil {
		c.t.Fatalf("n%d: %v", n.ID, err)
	}
	n.Engine = e
}

// Node returns node i (from 1).
func (c *Cluster) Node(i int) *Node { return c.Nodes[i-1] }

// Bootstrap writes range desc's initial state on each of its replicas'
// nodes, before they start. Replica ids are assigned 1, 2, … in the order
// of nodes.
func (c *Cluster) Bootstrap(rangeID replication.RangeID, start, end []byte, nodes ...int) *replication.RangeDescriptor {
	desc := &replication.RangeDescriptor{RangeId: uint64(rangeID), StartKey: start, EndKey: end, Generation: 1}
	for i, n := range nodes {
		desc.Replicas = append(desc.Replicas, &replication.ReplicaDescriptor{NodeId: uint64(n), ReplicaId: uint64(i + 1)})
	}
	desc.NextReplicaId = uint64(len(nodes) + 1)
	for _, n := range nodes {
		node := c.Node(n)
		c.openEngine(node)
		b := node.Engine.NewBatch()
		if err := replication.WriteInitialRangeState(b, proto.Clone(desc).(*replication.RangeDescriptor), nil, 0, nil); err != nil {
			c.t.Fatal(err)
		}
		if err := b.Commit(true); err != nil {
			c.t.Fatal(err)
		}
		b.Close()
	}
	return desc
}

// Start starts every node that is not running.
func (c *Cluster) Start() {
	for _, n := range c.Nodes {
		if !n.running {
			c.StartNode(int(n.ID))
		}
	}
}

// StartNode starts (or restarts) node i on its existing store.
func (c *Cluster) StartNode(i int) {
	n := c.Node(i)
	c.openEngine(n)
	if c.opts.Transport != nil {
		n.Transport = c.opts.Transport(i)
	} else {
		n.Transport = c.Net.Join(n.ID)
	}
	so := c.opts.Store
	so.NodeID, so.Engine, so.Clock, so.Transport = n.ID, n.Engine, n.Clock, n.Transport
	s, err := replication.NewStore(so)
	if err != nil {
		c.t.Fatalf("n%d: %v", i, err)
	}
	n.Store = s
	s.Start()
	n.running = true
}

// StopNode stops node i: its store, transport and engine close (its data
// stays on its filesystem for RestartNode).
func (c *Cluster) StopNode(i int) {
	n := c.Node(i)
	if !n.running {
		return
	}
	n.running = false
	n.Store.Close()
	_ = n.Transport.Close()
	if err := n.Engine.Close(); err != nil {
		c.t.Errorf("n%d: %v", i, err)
	}
	n.Engine = nil
}

// RestartNode stops and starts node i.
func (c *Cluster) RestartNode(i int) {
	c.StopNode(i)
	c.StartNode(i)
}

// Running reports whether node i runs.
func (c *Cluster) Running(i int) bool { return c.Node(i).running }

// Close stops every node.
func (c *Cluster) Close() {
	for _, n := range c.Nodes {
		if n.running {
			c.StopNode(int(n.ID))
		} else if n.Engine != nil {
			_ = n.Engine.Close()
			n.Engine = nil
		}
	}
}

// WaitFor polls cond until it returns nil or the deadline passes, then fails
// the test with cond's last error.
func (c *Cluster) WaitFor(d time.Duration, cond func() error) {
	c.t.Helper()
	if err := WaitFor(d, cond); err != nil {
		c.t.Fatal(err)
	}
}

// WaitFor polls cond every few milliseconds until it returns nil or d
// passes, and returns cond's last error.
func WaitFor(d time.Duration, cond func() error) error {
	deadline := truetime.Mono() + d
	for {
		err := cond()
		if err == nil {
			return nil
		}
		if truetime.Mono() > deadline {
			return fmt.Errorf("condition not met within %v: %w", d, err)
		}
		t := time.NewTimer(5 * time.Millisecond)
		<-t.C
	}
}

// Leaseholder returns the replica of rangeID that serves as leaseholder,
// asking every running node's replica to acquire the lease until one does.
func (c *Cluster) Leaseholder(rangeID replication.RangeID, d time.Duration) *replication.Replica {
	c.t.Helper()
	var lh *replication.Replica
	c.WaitFor(d, func() error {
		var errs []error
		for _, n := range c.Nodes {
			if !n.running {
				continue
			}
			r, err := n.Store.GetReplica(rangeID)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
			_, err = r.EnsureLease(ctx)
			cancel()
			if err == nil {
				lh = r
				return nil
			}
			errs = append(errs, err)
		}
		return fmt.Errorf("no leaseholder for r%d: %w", rangeID, errors.Join(errs...))
	})
	return lh
}

// Write writes key=value through rangeID's leaseholder (retrying lease and
// leadership changes until d passes) and waits out the commit. It returns
// the write's timestamp.
func (c *Cluster) Write(rangeID replication.RangeID, key, value []byte, d time.Duration) truetime.Timestamp {
	c.t.Helper()
	ts, err := c.TryWrite(rangeID, key, value, d)
	if err != nil {
		c.t.Fatal(err)
	}
	return ts
}

// TryWrite is Write returning its error.
func (c *Cluster) TryWrite(rangeID replication.RangeID, key, value []byte, d time.Duration) (truetime.Timestamp, error) {
	var out truetime.Timestamp
	err := WaitFor(d, func() error {
		for _, n := range c.Nodes {
			if !n.running {
				continue
			}
			r, err := n.Store.GetReplica(rangeID)
			if err != nil {
				continue
			}
			ts, err := WriteAt(r, key, value)
			if err == nil {
				out = ts
				return nil
			}
		}
		return fmt.Errorf("no node accepted the write of %q to r%d", key, rangeID)
	})
	return out, err
}

// WriteAt writes key=value through replica r, which must be the
// leaseholder, and commit-waits.
func WriteAt(r *replication.Replica, key, value []byte) (truetime.Timestamp, error) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	if _, err := r.EnsureLease(ctx); err != nil {
		return 0, err
	}
	w, err := r.AssignTimestamp(0)
	if err != nil {
		return 0, err
	}
	wb := &replicationpb.WriteBatch{Mvcc: []*replicationpb.MVCCWrite{{Key: key, Timestamp: int64(w.TS), Value: value}}}
	if err := r.ProposeWrite(ctx, w, wb); err != nil {
		return 0, err
	}
	return w.TS, r.Store().Clock().WaitUntilAfter(ctx, w.TS)
}

// ReadLatest reads key from node i's store at the newest version.
func (c *Cluster) ReadLatest(i int, key []byte) ([]byte, bool) {
	c.t.Helper()
	kv, found, err := c.Node(i).Engine.MVCCGet(key, 1<<62)
	if err != nil {
		c.t.Fatal(err)
	}
	return kv.Value, found
}
