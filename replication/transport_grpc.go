package replication

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"github.com/meridiandb/meridian/replication/replicationpb"
)

// GRPCOptions configure a GRPCTransport. Required fields are marked.
type GRPCOptions struct {
	// NodeID of this node. Required.
	NodeID NodeID
	// ListenAddr is where the node serves, e.g. "127.0.0.1:26257". Required
	// unless Listener is set.
	ListenAddr string
	// Listener, if set, is used instead of listening on ListenAddr.
	Listener net.Listener
	// Resolve returns the address of a node. Required.
	Resolve func(NodeID) (string, error)
	// Logger. Default: discard.
	Logger *slog.Logger
	// QueueLen bounds the raft batches queued for one peer; beyond it they
	// are dropped (raft retransmits). Default: 4096.
	QueueLen int
	// MaxBatchBytes bounds the raft batch sent in one stream message.
	// Default: 8 MiB.
	MaxBatchBytes int
	// ServerCreds and ClientCreds secure the connections. Default: none.
	ServerCreds credentials.TransportCredentials
	ClientCreds credentials.TransportCredentials
}

// GRPCTransport is the Transport between processes: one gRPC connection per
// peer, raft traffic on one client stream per peer with queued batches
// merged, snapshots on their own streams, calls as unary RPCs.
type GRPCTransport struct {
	nodeID atomic.Uint64
	opts   GRPCOptions
	lis    net.Listener
	server *grpc.Server
	logger *slog.Logger

	handlerMu sync.RWMutex
	handler   Handler

	mu    sync.Mutex
	peers map[NodeID]*grpcPeer

	stop chan struct{}
	once sync.Once
	wg   sync.WaitGroup
}

var _ Transport = (*GRPCTransport)(nil)

type grpcPeer struct {
	id    NodeID
	queue chan *replicationpb.RaftBatch
	mu    sync.Mutex
	conn  *grpc.ClientConn
}

const maxGRPCMessage = 64 << 20

// NewGRPCTransport listens and starts serving (inbound traffic is refused
// until Serve attaches a handler).
func NewGRPCTransport(opts GRPCOptions) (*GRPCTransport, error) {
	if opts.Resolve == nil {
		return nil, errors.New("replication: GRPCOptions needs Resolve")
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.QueueLen == 0 {
		opts.QueueLen = 4096
	}
	if opts.MaxBatchBytes == 0 {
		opts.MaxBatchBytes = 8 << 20
	}
	if opts.ClientCreds == nil {
		opts.ClientCreds = insecure.NewCredentials()
	}
	lis := opts.Listener
	if lis == nil {
		var err error
		lis, err = net.Listen("tcp", opts.ListenAddr)
		if err != nil {
			return nil, fmt.Errorf("replication: listening on %s: %w", opts.ListenAddr, err)
		}
	}
	sopts := []grpc.ServerOption{grpc.MaxRecvMsgSize(maxGRPCMessage), grpc.MaxSendMsgSize(maxGRPCMessage)}
	if opts.ServerCreds != nil {
		sopts = append(sopts, grpc.Creds(opts.ServerCreds))
	}
	t := &GRPCTransport{
		opts: opts, lis: lis, server: grpc.NewServer(sopts...),
		logger: opts.Logger,
		peers:  map[NodeID]*grpcPeer{}, stop: make(chan struct{}),
	}
	t.nodeID.Store(uint64(opts.NodeID))
	replicationpb.RegisterNodeServer(t.server, grpcServer{t: t})
	t.wg.Add(1)
	go func() {
		defer t.wg.Done()
		if err := t.server.Serve(lis); err != nil && !errors.Is(err, grpc.ErrServerStopped) {
			t.logger.Error("grpc server stopped", "err", err)
		}
	}()
	return t, nil
}

// SetNodeID sets the node's id once it is known (a joining node listens
// before it has one).
func (t *GRPCTransport) SetNodeID(id NodeID) { t.nodeID.Store(uint64(id)) }

func (t *GRPCTransport) id() NodeID { return NodeID(t.nodeID.Load()) }

// Addr returns the address the transport listens on.
func (t *GRPCTransport) Addr() string { return t.lis.Addr().String() }

// Server returns the gRPC server, so that other services can share it.
func (t *GRPCTransport) Server() *grpc.Server { return t.server }

// Serve implements Transport.
func (t *GRPCTransport) Serve(h Handler) {
	t.handlerMu.Lock()
	t.handler = h
	t.handlerMu.Unlock()
}

func (t *GRPCTransport) getHandler() (Handler, error) {
	t.handlerMu.RLock()
	defer t.handlerMu.RUnlock()
	if t.handler == nil {
		return nil, fmt.Errorf("n%d is starting", t.id())
	}
	return t.handler, nil
}

func (t *GRPCTransport) closed() bool {
	select {
	case <-t.stop:
		return true
	default:
		return false
	}
}

// peer returns the peer for node to, starting its raft sender.
func (t *GRPCTransport) peer(to NodeID) *grpcPeer {
	t.mu.Lock()
	defer t.mu.Unlock()
	p := t.peers[to]
	if p == nil {
		p = &grpcPeer{id: to, queue: make(chan *replicationpb.RaftBatch, t.opts.QueueLen)}
		t.peers[to] = p
		t.wg.Add(1)
		go t.sendLoop(p)
	}
	return p
}

// conn returns (dialing if needed) the connection to the peer.
func (t *GRPCTransport) conn(p *grpcPeer) (*grpc.ClientConn, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.conn != nil {
		return p.conn, nil
	}
	addr, err := t.opts.Resolve(p.id)
	if err != nil {
		return nil, fmt.Errorf("%w: resolving n%d: %v", ErrUnreachable, p.id, err)
	}
	c, err := grpc.NewClient(addr, grpc.WithTransportCredentials(t.opts.ClientCreds),
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(maxGRPCMessage), grpc.MaxCallSendMsgSize(maxGRPCMessage)))
	if err != nil {
		return nil, fmt.Errorf("%w: n%d at %s: %v", ErrUnreachable, p.id, addr, err)
	}
	p.conn = c
	return c, nil
}

// SendRaft implements Transport.
func (t *GRPCTransport) SendRaft(to NodeID, b *replicationpb.RaftBatch) {
	if t.closed() {
		return
	}
	select {
	case t.peer(to).queue <- b:
	default: // the peer is too far behind: drop, raft retransmits
	}
}

// sendLoop streams the peer's queued raft batches, merging what has queued
// up into one message. On an error it drops the batch, waits and redials.
func (t *GRPCTransport) sendLoop(p *grpcPeer) {
	defer t.wg.Done()
	var stream replicationpb.Node_RaftClient
	var cancel context.CancelFunc
	closeStream := func() {
		if stream != nil {
			_, _ = stream.CloseAndRecv()
			cancel()
			stream = nil
		}
	}
	defer closeStream()
	backoff := 50 * time.Millisecond
	for {
		var b *replicationpb.RaftBatch
		select {
		case b = <-p.queue:
		case <-t.stop:
			return
		}
		b = t.merge(b, p.queue)
		if stream == nil {
			var err error
			stream, cancel, err = t.openRaftStream(p)
			if err != nil {
				t.logger.Debug("raft stream to peer failed", "peer", p.id, "err", err)
				if !t.sleep(backoff) {
					return
				}
				backoff = min(2*backoff, time.Second)
				continue
			}
		}
		if err := stream.Send(b); err != nil {
			t.logger.Debug("raft send failed", "peer", p.id, "err", err)
			closeStream()
			if !t.sleep(backoff) {
				return
			}
			backoff = min(2*backoff, time.Second)
			continue
		}
		backoff = 50 * time.Millisecond
	}
}

func (t *GRPCTransport) openRaftStream(p *grpcPeer) (replicationpb.Node_RaftClient, context.CancelFunc, error) {
	c, err := t.conn(p)
	if err != nil {
		return nil, nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	stream, err := replicationpb.NewNodeClient(c).Raft(ctx)
	if err != nil {
		cancel()
		return nil, nil, err
	}
	return stream, cancel, nil
}

// merge folds batches already waiting in the queue into b, up to the size
// limit.
func (t *GRPCTransport) merge(b *replicationpb.RaftBatch, q chan *replicationpb.RaftBatch) *replicationpb.RaftBatch {
	size := 0
	for {
		select {
		case next := <-q:
			b.Messages = append(b.Messages, next.Messages...)
			b.Closed = append(b.Closed, next.Closed...)
			b.Quiesce = append(b.Quiesce, next.Quiesce...)
			b.Heartbeat = b.Heartbeat || next.Heartbeat
			size += proto.Size(next)
			if size >= t.opts.MaxBatchBytes {
				return b
			}
		default:
			return b
		}
	}
}

func (t *GRPCTransport) sleep(d time.Duration) bool {
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-timer.C:
		return true
	case <-t.stop:
		return false
	}
}

// grpcServer serves the Node service for a GRPCTransport.
type grpcServer struct {
	replicationpb.UnimplementedNodeServer
	t *GRPCTransport
}

// Raft implements replicationpb.NodeServer: inbound raft traffic.
func (s grpcServer) Raft(stream replicationpb.Node_RaftServer) error {
	t := s.t
	for {
		b, err := stream.Recv()
		if err == io.EOF {
			return stream.SendAndClose(&replicationpb.Empty{})
		}
		if err != nil {
			return err
		}
		if h, herr := t.getHandler(); herr == nil {
			h.HandleRaft(b)
		}
	}
}

// SendSnapshot implements Transport.
func (t *GRPCTransport) SendSnapshot(ctx context.Context, to NodeID, h *replicationpb.SnapshotHeader, next func() ([]*replicationpb.KeyValue, error)) error {
	c, err := t.conn(t.peer(to))
	if err != nil {
		return err
	}
	stream, err := replicationpb.NewNodeClient(c).Snapshot(ctx)
	if err != nil {
		return fmt.Errorf("%w: snapshot stream to n%d: %v", ErrUnreachable, to, err)
	}
	if err := stream.Send(&replicationpb.SnapshotChunk{Header: h}); err != nil {
		return fmt.Errorf("sending snapshot header to n%d: %w", to, err)
	}
	for {
		kvs, err := next()
		if err != nil {
			return err
		}
		if kvs == nil {
			break
		}
		if err := stream.Send(&replicationpb.SnapshotChunk{Kvs: kvs}); err != nil {
			return fmt.Errorf("sending snapshot to n%d: %w", to, err)
		}
	}
	resp, err := stream.CloseAndRecv()
	if err != nil {
		return fmt.Errorf("snapshot to n%d: %w", to, err)
	}
	if resp.Error != "" {
		return fmt.Errorf("n%d refused snapshot: %s", to, resp.Error)
	}
	return nil
}

// Snapshot implements replicationpb.NodeServer: an inbound snapshot.
func (s grpcServer) Snapshot(stream replicationpb.Node_SnapshotServer) error {
	t := s.t
	first, err := stream.Recv()
	if err != nil {
		return err
	}
	h, err := t.getHandler()
	if err != nil {
		return stream.SendAndClose(&replicationpb.SnapshotResponse{Error: err.Error()})
	}
	if first.Header == nil {
		return stream.SendAndClose(&replicationpb.SnapshotResponse{Error: "snapshot stream without a header"})
	}
	pending := first.Kvs
	recv := func() ([]*replicationpb.KeyValue, error) {
		if pending != nil {
			kvs := pending
			pending = nil
			return kvs, nil
		}
		c, err := stream.Recv()
		if err == io.EOF {
			return nil, nil
		}
		if err != nil {
			return nil, err
		}
		if c.Kvs == nil {
			return []*replicationpb.KeyValue{}, nil
		}
		return c.Kvs, nil
	}
	resp := &replicationpb.SnapshotResponse{}
	if err := h.HandleSnapshot(stream.Context(), first.Header, recv); err != nil {
		resp.Error = err.Error()
	}
	return stream.SendAndClose(resp)
}

// Call implements Transport.
func (t *GRPCTransport) Call(ctx context.Context, to NodeID, method string, payload []byte) ([]byte, error) {
	c, err := t.conn(t.peer(to))
	if err != nil {
		return nil, err
	}
	resp, err := replicationpb.NewNodeClient(c).Call(ctx, &replicationpb.CallRequest{
		FromNode: uint64(t.id()), ToNode: uint64(to), Method: method, Payload: payload,
	})
	if err != nil {
		if status.Code(err) == codes.Unknown {
			// The handler answered with an error: the call did not run.
			return nil, fmt.Errorf("%w: %s on n%d: %v", ErrUnreachable, method, to, err)
		}
		return nil, fmt.Errorf("%w: %s on n%d: %v", ErrResponseLost, method, to, err)
	}
	return resp.Payload, nil
}

// Call implements replicationpb.NodeServer: an inbound call.
func (s grpcServer) Call(ctx context.Context, req *replicationpb.CallRequest) (*replicationpb.CallResponse, error) {
	t := s.t
	h, err := t.getHandler()
	if err != nil {
		return nil, err
	}
	if req.ToNode != 0 && NodeID(req.ToNode) != t.id() {
		return nil, fmt.Errorf("call for n%d reached n%d", req.ToNode, t.id())
	}
	out, err := h.HandleCall(ctx, NodeID(req.FromNode), req.Method, req.Payload)
	if err != nil {
		return nil, err
	}
	return &replicationpb.CallResponse{Payload: out}, nil
}

// Close implements Transport.
func (t *GRPCTransport) Close() error {
	t.once.Do(func() {
		close(t.stop)
		t.server.Stop()
		t.mu.Lock()
		for _, p := range t.peers {
			p.mu.Lock()
			if p.conn != nil {
				_ = p.conn.Close()
			}
			p.mu.Unlock()
		}
		t.mu.Unlock()
		t.wg.Wait()
	})
	return nil
}

// CallAddress sends a call to whatever node listens at addr, before its id
// is known (joining, initializing, operator tools). It dials a connection
// for the one call.
func CallAddress(ctx context.Context, addr string, creds credentials.TransportCredentials, method string, payload []byte) ([]byte, error) {
	if creds == nil {
		creds = insecure.NewCredentials()
	}
	c, err := grpc.NewClient(addr, grpc.WithTransportCredentials(creds),
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(maxGRPCMessage), grpc.MaxCallSendMsgSize(maxGRPCMessage)))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", addr, err)
	}
	defer c.Close()
	resp, err := replicationpb.NewNodeClient(c).Call(ctx, &replicationpb.CallRequest{Method: method, Payload: payload})
	if err != nil {
		return nil, err
	}
	return resp.Payload, nil
}

// Client is a connection to one node for tools and clients that know its
// address, not its id.
type Client struct {
	conn *grpc.ClientConn
	addr string
}

// Dial connects to the node at addr (lazily: errors show on the first call).
func Dial(addr string, creds credentials.TransportCredentials) (*Client, error) {
	if creds == nil {
		creds = insecure.NewCredentials()
	}
	c, err := grpc.NewClient(addr, grpc.WithTransportCredentials(creds),
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(maxGRPCMessage), grpc.MaxCallSendMsgSize(maxGRPCMessage)))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", addr, err)
	}
	return &Client{conn: c, addr: addr}, nil
}

// Call sends a call to the node.
func (c *Client) Call(ctx context.Context, method string, payload []byte) ([]byte, error) {
	resp, err := replicationpb.NewNodeClient(c.conn).Call(ctx, &replicationpb.CallRequest{Method: method, Payload: payload})
	if err != nil {
		return nil, err
	}
	return resp.Payload, nil
}

// Close closes the connection.
func (c *Client) Close() error { return c.conn.Close() }
