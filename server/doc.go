// Package server runs a Meridian node: one process, one store. A Node owns
// its engine, its transport (gRPC between processes, or an in-process
// network in tests and the demo), gossip, the replication store, the router,
// the split and allocation queues and the HTTP endpoints (/healthz,
// /metrics, /debug/ranges, /debug/clock); the layers above (transactions,
// SQL) attach to it.
//
// # Identity
//
// A node's store records its cluster and node id. A new node either waits
// for `meridian init` (which bootstraps the cluster: the meta range and the
// first data range, one replica each on node 1) or joins through --join,
// where a member allocates its node id. A restarted node checks that the
// join addresses belong to its cluster.
//
// # Invariants
//
//   - A store belongs to one cluster and one node, and is used by one
//     process at a time (Pebble's lock).
//   - Requests reach replicas only once the node has an identity and its
//     store runs.
//
// # Goroutines
//
// Start launches the queue loop, the directory saver and the HTTP server;
// gossip and the store run their own. Stop stops them all and joins them
// before closing the store. Drain moves leases away first.
package server
