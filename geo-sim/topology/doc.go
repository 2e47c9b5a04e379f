// Package topology describes the simulated planet a geo-sim run happens
// on: regions, their zones and nodes, the round trips between regions (with
// jitter), each node's clock model, and the delay between a region's
// clients and their gateway. It reads topologies from YAML or JSON files
// (errors name the file, line and field), ships the presets local3, us3,
// global3 and global5, and applies a topology to an in-process cluster:
// node localities, MemNetwork links and simulated clocks.
//
// The file format (YAML shown; JSON has the same shape):
//
//	name: global3
//	regions:
//	  - name: us-east
//	    client_rtt_ms: 1        # client↔gateway round trip (default 1)
//	    client_jitter_ms: 0.2   # extra, uniform in [0, j) (default 0)
//	    zones:                  # or `nodes: N`: N zones <region>-a, -b, … of one node
//	      - {name: us-east-1a, nodes: 1}
//	  - {name: eu-west, nodes: 1}
//	rtt_ms:                     # round trips; each pair once, either way round;
//	  us-east: {us-east: 1, eu-west: 70}   # the diagonal is the in-region round trip
//	  eu-west: {eu-west: 1}
//	jitter_ms: 1                # a number for every link, or a matrix like rtt_ms
//	clock: {offset_ms: 0, drift_ppm: 0, epsilon_ms: 1}   # every node's clock
//	node_clocks:                # per-node overrides (nodes are numbered from 1
//	  - {node: 2, offset_ms: 3} #  in the order regions and zones are listed)
//
// Invariants of a validated *Topology: region names are unique and
// non-empty; zone names are unique within a region; every region has at
// least one node; every pair of regions (and every region with more than
// one node, with itself) has a round trip; every duration is ≥ 0; every
// claimed ε is > 0. Node numbers run 1..NumNodes() in file order, and node
// i of the topology is node i of the cluster (replication.NodeID(i)).
//
// Delays: a link's one-way delay is RTT/2 and its one-way jitter is
// jitter/2 (uniform), so a round trip lies in [RTT, RTT+jitter).
//
// Goroutines: none. A *Topology is immutable after Parse/Preset returns,
// except through WithEpsilon/Clone, which return copies; share it freely.
package topology
