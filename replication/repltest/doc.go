// Package repltest runs in-process clusters of replication stores for tests:
// in-memory Pebble engines, a MemNetwork (or real gRPC on 127.0.0.1) and
// simulated clocks. Later layers build their test clusters on it.
//
// A Cluster belongs to one test; its methods are safe for concurrent use
// except Start, StopNode, RestartNode and Close, which the test calls from
// its own goroutine. Every goroutine a node starts is joined by Close.
package repltest
