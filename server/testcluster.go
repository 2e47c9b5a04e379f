package server

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"time"

	"github.com/cockroachdb/pebble/v2/vfs"

	"github.com/meridiandb/meridian/ranges/rangespb"
	"github.com/meridiandb/meridian/replication"
	"github.com/meridiandb/meridian/truetime"
)

// ClusterOptions configure an in-process cluster.
type ClusterOptions struct {
	// Nodes in the cluster. Default: 3.
	Nodes int
	// Network connects the nodes; default: a MemNetwork without delay.
	Network *replication.MemNetwork
	// Locality of node i (from 1). Default: none.
	Locality func(i int) *rangespb.Locality
	// Clock of node i. Default: a local clock with 1ms uncertainty shared
	// by all nodes (they read one system clock).
	Clock func(i int) truetime.Clock
	// Node is the template of every node's Config (store, transport, ids
	// and locality are filled in).
	Node Config
	// Logger. Default: discard.
	Logger *slog.Logger
	// SQL serves SQL on every node (on 127.0.0.1, a free port).
	SQL bool
	// SQLAddr, with SQL, returns node i's SQL address. Default:
	// 127.0.0.1:0.
	SQLAddr func(i int) string
	// HTTPAddr, if set, returns node i's HTTP address ("" for none).
	HTTPAddr func(i int) string
	// Dir, if set, keeps node i's store on disk in Dir/n<i> (synced like a
	// real node's) instead of in memory.
	Dir string
}

// Cluster is an in-process cluster of nodes with in-memory stores, for
// tests, the demo and the geo simulator.
type Cluster struct {
	opts  ClusterOptions
	Net   *replication.MemNetwork
	Nodes []*Node
	fs    []vfs.FS
}

// StartCluster starts an in-process cluster and waits until it serves:
// node 1 bootstraps, the others start with their ids, and the meta and
// first data ranges are replicated as widely as the policy asks.
func StartCluster(ctx context.Context, o ClusterOptions) (*Cluster, error) {
	if o.Nodes == 0 {
		o.Nodes = 3
	}
	if o.Network == nil {
		o.Network = replication.NewMemNetwork(replication.MemNetworkOptions{})
	}
	if o.Clock == nil {
		clock := truetime.NewLocal(truetime.LocalOptions{})
		o.Clock = func(int) truetime.Clock { return clock }
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	c := &Cluster{opts: o, Net: o.Network}
	for i := 1; i <= o.Nodes; i++ {
		if o.Dir != "" {
			c.fs = append(c.fs, vfs.Default)
		} else {
			c.fs = append(c.fs, vfs.NewMem())
		}
		c.Nodes = append(c.Nodes, nil)
	}
	for i := 1; i <= o.Nodes; i++ {
		if err := c.StartNode(ctx, i); err != nil {
			c.Stop()
			return nil, err
		}
	}
	return c, nil
}

// config returns node i's configuration.
func (c *Cluster) config(i int) Config {
	cfg := c.opts.Node
	cfg.NodeID = replication.NodeID(i)
	cfg.BootstrapCluster = i == 1
	cfg.Transport = c.Net.Join(replication.NodeID(i))
	cfg.FS = c.fs[i-1]
	cfg.StoreDir = fmt.Sprintf("n%d", i)
	if c.opts.Dir != "" {
		cfg.StoreDir = filepath.Join(c.opts.Dir, cfg.StoreDir)
	}
	cfg.ListenAddr = fmt.Sprintf("n%d", i)
	if c.opts.SQL {
		cfg.SQLAddr = "127.0.0.1:0"
		if c.opts.SQLAddr != nil {
			cfg.SQLAddr = c.opts.SQLAddr(i)
		}
	}
	if c.opts.HTTPAddr != nil {
		cfg.HTTPAddr = c.opts.HTTPAddr(i)
	}
	cfg.Clock = c.opts.Clock(i)
	cfg.Logger = c.opts.Logger.With("n", i)
	if c.opts.Locality != nil {
		cfg.Locality = c.opts.Locality(i)
	}
	for j := 1; j <= len(c.Nodes); j++ {
		cfg.Peers = append(cfg.Peers, replication.NodeID(j))
	}
	return cfg
}

// StartNode starts (or restarts, on its existing store) node i.
func (c *Cluster) StartNode(ctx context.Context, i int) error {
	n, err := NewNode(c.config(i))
	if err != nil {
		return fmt.Errorf("n%d: %w", i, err)
	}
	if err := n.Start(ctx); err != nil {
		n.Stop()
		return fmt.Errorf("n%d: %w", i, err)
	}
	c.Nodes[i-1] = n
	return nil
}

// StopNode stops node i (its in-memory store survives for StartNode).
func (c *Cluster) StopNode(i int) {
	if n := c.Nodes[i-1]; n != nil {
		n.Stop()
		c.Nodes[i-1] = nil
	}
}

// Node returns node i (nil if stopped).
func (c *Cluster) Node(i int) *Node { return c.Nodes[i-1] }

// AnyNode returns a running node.
func (c *Cluster) AnyNode() *Node {
	for _, n := range c.Nodes {
		if n != nil {
			return n
		}
	}
	return nil
}

// WaitReplicated waits until every range has the given number of voters.
func (c *Cluster) WaitReplicated(ctx context.Context, replicas int) error {
	for {
		n := c.AnyNode()
		rs, err := n.Ranges(ctx)
		ok := err == nil && len(rs) > 0
		for _, r := range rs {
			voters := 0
			for _, rd := range r.Desc.Replicas {
				if rd.Type == 0 {
					voters++
				}
			}
			ok = ok && voters == replicas && len(r.Desc.Replicas) == replicas
		}
		if ok {
			return nil
		}
		t := time.NewTimer(50 * time.Millisecond)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("ranges not replicated %d times: %w", replicas, ctx.Err())
		}
	}
}

// Stop stops every node.
func (c *Cluster) Stop() {
	for i := range c.Nodes {
		c.StopNode(i + 1)
	}
}
