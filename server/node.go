package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/cockroachdb/pebble/v2/vfs"
	"google.golang.org/protobuf/proto"

	"github.com/meridiandb/meridian/kv/kvpb"
	"github.com/meridiandb/meridian/ranges"
	"github.com/meridiandb/meridian/ranges/gossip"
	"github.com/meridiandb/meridian/ranges/rangespb"
	"github.com/meridiandb/meridian/replication"
	"github.com/meridiandb/meridian/replication/replicationpb"
	"github.com/meridiandb/meridian/sql/wire"
	"github.com/meridiandb/meridian/storage"
	"github.com/meridiandb/meridian/txn"
)

// CallHandler serves a transport method registered by a layer above.
type CallHandler func(ctx context.Context, from replication.NodeID, payload []byte) ([]byte, error)

// Node is one Meridian node: a store with its replicas, the transport,
// gossip, the router, the split and allocation queues, and the HTTP
// endpoints. Start brings it up (bootstrapping or joining a cluster as
// needed); Stop takes it down and joins every goroutine.
type Node struct {
	cfg    Config
	logger *slog.Logger

	eng       *storage.Engine
	transport replication.Transport
	grpc      *replication.GRPCTransport // nil for in-process transports

	gossip    *gossip.Gossip
	store     *replication.Store
	router    *ranges.Router
	eval      *ranges.Evaluator
	load      *ranges.LoadTracker
	splitter  *ranges.Splitter
	allocator *ranges.Allocator
	placement *ranges.PlacementCache
	txnPart   *txn.Participant
	gateway   *txn.Gateway
	sqlServer *wire.Server

	mu struct {
		sync.Mutex
		nodeID    replication.NodeID
		clusterID string
		started   bool
		draining  bool
		handlers  map[string]CallHandler
		txn       ranges.TxnHandler
		observer  replication.Observer
		metaGen   map[replication.RangeID]uint64
	}
	ready    chan struct{} // closed once the node has an identity
	initDone chan struct{} // closed when Init bootstrapped the cluster
	initOnce sync.Once

	httpServer *http.Server
	httpLis    net.Listener

	stop     chan struct{}
	stopOnce sync.Once
	wg       sync.WaitGroup
	// calls counts inbound requests being served; Stop waits for them
	// before closing the store.
	calls sync.WaitGroup
	// callMu guards stopping against calls entering.
	callMu   sync.RWMutex
	stopping bool
}

// NewNode opens the store and starts listening; Start does the rest.
func NewNode(cfg Config) (*Node, error) {
	cfg = cfg.withDefaults()
	n := &Node{cfg: cfg, logger: cfg.Logger, ready: make(chan struct{}), initDone: make(chan struct{}), stop: make(chan struct{})}
	n.mu.handlers = map[string]CallHandler{}
	n.mu.metaGen = map[replication.RangeID]uint64{}
	fs := cfg.FS
	dir := cfg.StoreDir
	switch {
	case fs != nil:
	case cfg.InMemory:
		fs, dir = vfs.NewMem(), "mem"
	case dir == "":
		return nil, errors.New("a store directory is required (--store DIR, or --in-memory)")
	default:
		fs = vfs.Default
	}
	eng, err := storage.Open(storage.Options{Dir: dir, FS: fs, Logger: cfg.Logger})
	if err != nil {
		if errors.Is(err, syscall.EAGAIN) || strings.Contains(err.Error(), "lock") {
			return nil, fmt.Errorf("store %s is in use by another process (its LOCK file is held): %w", dir, err)
		}
		return nil, err
	}
	n.eng = eng
	n.load = ranges.NewLoadTracker(1)
	if cfg.Transport != nil {
		n.transport = cfg.Transport
	} else {
		t, err := replication.NewGRPCTransport(replication.GRPCOptions{
			NodeID: 0, ListenAddr: cfg.ListenAddr, Logger: cfg.Logger, Resolve: n.resolve,
		})
		if err != nil {
			eng.Close()
			return nil, err
		}
		n.grpc, n.transport = t, t
	}
	n.transport.Serve(n)
	return n, nil
}

// Addr returns the address the node serves other nodes on.
func (n *Node) Addr() string {
	if n.grpc != nil {
		return n.grpc.Addr()
	}
	return n.cfg.ListenAddr
}

func (n *Node) advertise() string {
	if n.cfg.AdvertiseAddr != "" {
		return n.cfg.AdvertiseAddr
	}
	return n.Addr()
}

// NodeID returns the node's id (0 until it has one).
func (n *Node) NodeID() replication.NodeID {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.mu.nodeID
}

// ClusterID returns the cluster's id ("" until known).
func (n *Node) ClusterID() string {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.mu.clusterID
}

// Router returns the node's router (nil before Start).
func (n *Node) Router() *ranges.Router { return n.router }

// TxnParticipant returns the node's transaction participant (nil before
// Start).
func (n *Node) TxnParticipant() *txn.Participant { return n.txnPart }

// TxnDB returns the node's transaction gateway (nil before Start).
func (n *Node) TxnDB() *txn.Gateway { return n.gateway }

// Store returns the node's store (nil before Start).
func (n *Node) Store() *replication.Store { return n.store }

// Gossip returns the node's gossip (nil before Start).
func (n *Node) Gossip() *gossip.Gossip { return n.gossip }

// Transport returns the node's transport.
func (n *Node) Transport() replication.Transport { return n.transport }

// Engine returns the node's engine.
func (n *Node) Engine() *storage.Engine { return n.eng }

// Config returns the node's configuration.
func (n *Node) Config() Config { return n.cfg }

// RegisterCall installs a handler for a transport method of an upper layer.
func (n *Node) RegisterCall(method string, h CallHandler) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.mu.handlers[method] = h
}

// SetTxnHandler installs the evaluator of transaction requests.
func (n *Node) SetTxnHandler(h ranges.TxnHandler) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.mu.txn = h
}

func (n *Node) resolve(id replication.NodeID) (string, error) {
	if g := n.gossip; g != nil {
		return g.Address(id)
	}
	return "", fmt.Errorf("n%d: node addresses are not known yet", id)
}

// Start brings the node up: it finds or gets its identity (reading its
// store, bootstrapping, waiting for `meridian init`, or joining), then
// starts gossip, the store and the queues. It returns once the node serves.
func (n *Node) Start(ctx context.Context) error {
	ident, err := n.readIdent()
	if err != nil {
		return err
	}
	switch {
	case ident != nil:
		n.setIdent(ident)
		if n.grpc != nil {
			if err := n.hello(ctx); err != nil {
				return err
			}
		}
	case n.cfg.Transport != nil && n.cfg.NodeID != 0:
		// In-process cluster: the harness assigns ids and bootstraps node 1.
		if n.cfg.BootstrapCluster {
			if _, err := n.bootstrap(testClusterID); err != nil {
				return err
			}
		} else if err := n.writeIdent(&replicationpb.StoreIdent{ClusterId: testClusterID, NodeId: uint64(n.cfg.NodeID)}); err != nil {
			return err
		}
	default:
		if err := n.waitForIdentity(ctx); err != nil {
			return err
		}
	}
	if err := n.startServices(ctx); err != nil {
		return err
	}
	n.logger.Info("node started", "node", n.NodeID(), "cluster", n.ClusterID(), "addr", n.advertise())
	return nil
}

const testClusterID = "in-process"

func (n *Node) readIdent() (*replicationpb.StoreIdent, error) {
	v, found, err := n.eng.GetLocal(storage.StoreLocalKey("iden"))
	if err != nil || !found {
		return nil, err
	}
	id := &replicationpb.StoreIdent{}
	if err := proto.Unmarshal(v, id); err != nil {
		return nil, fmt.Errorf("store %s: corrupt identity: %w", n.cfg.StoreDir, err)
	}
	return id, nil
}

func (n *Node) writeIdent(id *replicationpb.StoreIdent) error {
	b := n.eng.NewBatch()
	defer b.Close()
	v, _ := proto.Marshal(id)
	if err := b.PutLocal(storage.StoreLocalKey("iden"), v); err != nil {
		return err
	}
	if err := b.Commit(true); err != nil {
		return err
	}
	n.setIdent(id)
	return nil
}

func (n *Node) setIdent(id *replicationpb.StoreIdent) {
	n.mu.Lock()
	n.mu.nodeID = replication.NodeID(id.NodeId)
	n.mu.clusterID = id.ClusterId
	n.mu.Unlock()
	n.initOnce.Do(func() { close(n.ready) })
}

func (n *Node) startServices(ctx context.Context) error {
	id := n.NodeID()
	if n.grpc != nil {
		n.grpc.SetNodeID(id)
	}
	n.gossip = gossip.New(gossip.Options{
		NodeID: id, Caller: n.transport, Clock: n.cfg.Clock, Logger: n.logger,
		Liveness: n.liveness,
	})
	n.gossip.SetNode(n.descriptor())
	for _, d := range n.loadDirectory() {
		n.gossip.SetNode(d)
	}
	for _, p := range n.cfg.Peers {
		if p != id {
			n.gossip.SetNode(&rangespb.NodeDescriptor{NodeId: uint64(p)})
		}
	}
	so := n.cfg.Store
	so.NodeID, so.Engine, so.Clock, so.Logger = id, n.eng, n.cfg.Clock, n.logger
	so.Transport = noServe{n.transport}
	so.Observer = n
	s, err := replication.NewStore(so)
	if err != nil {
		return err
	}
	n.store = s
	n.router = ranges.NewRouter(ranges.RouterOptions{
		NodeID: id, Caller: n.transport, Directory: n.gossip, Logger: n.logger,
		Local: func(ctx context.Context, ba *kvpb.BatchRequest) (*kvpb.BatchResponse, error) {
			// As a request from another node: not once the node is stopping
			// (its store may be closed already).
			if !n.enter() {
				return nil, errStopping
			}
			defer n.exit()
			return n.evaluate(ctx, ba), nil
		},
	})
	n.eval = ranges.NewEvaluator(s)
	n.eval.Load = n.load
	n.splitter = ranges.NewSplitter(s, n.router, n.load, ranges.SplitOptions{MaxBytes: n.cfg.RangeMaxBytes, MaxQPS: n.cfg.RangeMaxQPS}, n.logger)
	n.eval.Splitter = n.splitter
	n.placement = ranges.NewPlacementCache(n.router)
	n.allocator = ranges.NewAllocator(s, clusterView{n}, ranges.AllocatorOptions{DeadTimeout: n.cfg.DeadTimeout}, n.logger)
	n.gateway = txn.NewGateway(txn.GatewayOptions{NodeID: id, Router: n.router, Clock: n.cfg.Clock, Logger: n.logger,
		Admission: n.cfg.Admission, TestingKnobs: n.cfg.TxnKnobs})
	n.txnPart = txn.NewParticipant(txn.ParticipantOptions{Store: s, Router: n.router, Logger: n.logger, TestingKnobs: n.cfg.TxnKnobs,
		RecoveryAge: n.cfg.TxnRecoveryAge, Live: n.txnLive})
	n.RegisterCall(txn.MethodLive, func(_ context.Context, _ replication.NodeID, payload []byte) ([]byte, error) {
		return n.gateway.HandleLive(payload)
	})
	n.SetTxnHandler(n.txnPart.Handle)
	n.SetObserver(n.txnPart)
	if r, err := s.GetReplica(ranges.MetaRangeID); err == nil {
		n.gossip.SetMetaRange(r.Desc())
	}
	s.Start()
	n.txnPart.Start()
	n.gossip.Start()
	n.mu.Lock()
	n.mu.started = true
	n.mu.Unlock()
	n.loop(n.cfg.QueueInterval, n.runQueues)
	n.loop(10*time.Second, n.saveDirectory)
	if err := n.startHTTP(); err != nil {
		return err
	}
	return n.startSQL(ctx)
}

// noServe keeps the store from taking over the transport's handler: the
// node is the handler and passes raft traffic on.
type noServe struct{ replication.Transport }

func (noServe) Serve(replication.Handler) {}

func (n *Node) descriptor() *rangespb.NodeDescriptor {
	return &rangespb.NodeDescriptor{
		NodeId: uint64(n.NodeID()), Address: n.advertise(), SqlAddress: n.SQLAddr(),
		HttpAddress: n.httpAddr(), Locality: n.cfg.Locality, ClusterId: n.ClusterID(),
	}
}

func (n *Node) liveness() *rangespb.Liveness {
	n.mu.Lock()
	draining := n.mu.draining
	n.mu.Unlock()
	l := &rangespb.Liveness{Draining: draining, ClockUnsafe: n.cfg.Clock.Status().Unsafe}
	if s := n.store; s != nil {
		for _, r := range s.Replicas() {
			if r.IsInitialized() {
				l.Replicas++
				if r.HoldsLease() {
					l.Leases++
				}
			}
		}
	}
	return l
}

// loop runs fn every interval until the node stops.
func (n *Node) loop(interval time.Duration, fn func(ctx context.Context)) {
	n.wg.Add(1)
	go func() {
		defer n.wg.Done()
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		go func() {
			<-n.stop
			cancel()
		}()
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			select {
			case <-t.C:
				fn(ctx)
			case <-n.stop:
				return
			}
		}
	}()
}

// enter admits an inbound request unless the node is stopping; exit must
// follow.
func (n *Node) enter() bool {
	n.callMu.RLock()
	defer n.callMu.RUnlock()
	if n.stopping {
		return false
	}
	n.calls.Add(1)
	return true
}

func (n *Node) exit() { n.calls.Done() }

// Stop takes the node down: it stops taking requests, then stops HTTP, SQL,
// the queues, transactions, gossip and the store, waits for the requests
// being served, and closes the transport and the engine.
func (n *Node) Stop() {
	n.stopOnce.Do(func() {
		n.callMu.Lock()
		n.stopping = true
		n.callMu.Unlock()
		close(n.stop)
		if n.httpServer != nil {
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			_ = n.httpServer.Shutdown(ctx)
			cancel()
		}
		if n.sqlServer != nil {
			_ = n.sqlServer.Close()
		}
		n.wg.Wait()
		if n.gateway != nil {
			n.gateway.Close()
		}
		if n.txnPart != nil {
			n.txnPart.Close()
		}
		if n.gossip != nil {
			n.gossip.Close()
		}
		if n.store != nil {
			n.store.Close()
		}
		_ = n.transport.Close()
		n.calls.Wait()
		if err := n.eng.Close(); err != nil {
			n.logger.Error("closing store", "err", err)
		}
		n.logger.Info("node stopped", "node", n.NodeID())
	})
}

// txnLive asks a gateway (this node's own without a network hop) which of
// its transactions are open.
func (n *Node) txnLive(ctx context.Context, gw replication.NodeID, ids [][]byte) ([]bool, error) {
	if gw == n.store.NodeID() {
		return n.gateway.Live(ids), nil
	}
	return txn.CallLive(ctx, n.transport.Call, gw, ids)
}
