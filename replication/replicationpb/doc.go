// Package replicationpb holds the generated protobuf types of the
// replication layer: range descriptors, leases, raft commands, applied and
// truncated state, and the messages of the node transport. Regenerate with
// gen.sh after editing replication.proto. It starts no goroutines.
package replicationpb
