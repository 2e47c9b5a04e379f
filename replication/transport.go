package replication

import (
	"context"

	"github.com/meridiandb/meridian/replication/replicationpb"
)

// Transport carries a node's traffic to other nodes: raft messages (batched
// per peer, best effort, in order per peer), snapshots (streamed), and
// opaque unary calls of the layers above. The gRPC implementation is used
// between real nodes; MemNetwork connects in-process nodes with simulated
// delays, loss and partitions. Implementations are safe for concurrent use.
type Transport interface {
	// Serve attaches the handler for inbound traffic. Traffic that arrives
	// before is dropped (raft) or refused (snapshots, calls).
	Serve(h Handler)
	// SendRaft queues a batch for node to. It never blocks for long; when a
	// peer is unreachable or too far behind, messages are dropped and raft
	// retransmits.
	SendRaft(to NodeID, b *replicationpb.RaftBatch)
	// SendSnapshot streams a snapshot's header and chunks (next returns nil
	// when done) and returns once the receiver applied it or failed.
	SendSnapshot(ctx context.Context, to NodeID, h *replicationpb.SnapshotHeader, next func() ([]*replicationpb.KeyValue, error)) error
	// Call sends a request of an upper layer to node to and returns its
	// response.
	Call(ctx context.Context, to NodeID, method string, payload []byte) ([]byte, error)
	// Close stops the transport and joins its goroutines.
	Close() error
}

// Handler receives a node's inbound traffic.
type Handler interface {
	HandleRaft(b *replicationpb.RaftBatch)
	HandleSnapshot(ctx context.Context, h *replicationpb.SnapshotHeader, recv func() ([]*replicationpb.KeyValue, error)) error
	HandleCall(ctx context.Context, from NodeID, method string, payload []byte) ([]byte, error)
}
