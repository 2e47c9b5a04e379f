// Package raftbench measures replicated writes: it starts nodes in this
// process, each with an on-disk Pebble store (fsync on) and a gRPC transport
// on 127.0.0.1, spreads ranges over them, and has writers put values through
// gRPC calls to each range's leaseholder, as etcd's benchmark clients do
// against etcd. It reports throughput and latency percentiles.
//
// Run owns every goroutine and node it starts and stops them before it
// returns.
package raftbench
