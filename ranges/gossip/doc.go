// Package gossip spreads small cluster facts between nodes: each node's
// descriptor (address, locality), its liveness and load, the meta range's
// descriptor, decommissioning marks. Every round a node pushes everything it
// knows to a few peers and merges what they answer; newer versions of a key
// win. A node is live while its liveness keeps being republished.
//
// A Gossip owns one goroutine, started by Start and joined by Close. Its
// methods are safe for concurrent use.
package gossip
