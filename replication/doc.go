// Package replication is multi-raft on go.etcd.io/raft/v3: every range of
// Meridian is a raft group, and a node's Store runs all of its replicas over
// one Pebble engine.
//
// # What it owns
//
//   - Store: the node's replicas, one raft scheduler (a few workers for all
//     replicas, never a goroutine per range), the ticker, closed timestamps,
//     and node heartbeats that detect dead peers.
//   - Replica: a raft.RawNode, its raft log on Pebble (raftlog.go), the
//     applied state, the lease, safe time, proposals, snapshots and
//     membership changes.
//   - Transport: raft traffic, snapshots and opaque calls of upper layers
//     between nodes; gRPC between processes, MemNetwork in-process with
//     per-link delay, loss and partitions.
//
// # Handling a raft Ready (replica_raft.go)
//
//  1. Note the soft state: who leads, and whether this replica gained or
//     lost the leadership (losing it stops leaseholder service at once).
//  2. Persist, in one batch: a received snapshot's data (if raft accepted
//     one), the new entries (replacing a conflicting suffix), and the
//     HardState; the batch is synced when raft says it must be.
//  3. Update the in-memory view of the log (last index, entry cache).
//  4. Send the messages, batched per node; MsgSnap goes out on a snapshot
//     stream carrying the range's data.
//  5. Apply the committed entries in one batch that also writes the applied
//     index, so a crash never applies an entry twice or loses one.
//  6. Advance raft, then truncate the log if it grew too long.
//
// # Invariants
//
//   - The leaseholder is the raft leader. A lease is an interval in
//     TrueTime: its holder serves only while it leads, After(lease.start)
//     holds and Before(lease.expiration) holds. A new holder's lease starts
//     where the previous one ends (its expiration, or for a transfer the
//     highest timestamp the old holder assigned or promised), so lease
//     intervals never overlap.
//   - A leaseholder never assigns a timestamp past its lease's expiration,
//     and assigns timestamps above every timestamp it assigned, served a
//     read at or closed (tsFloor).
//   - Writes are proposed with the lease they were evaluated under and are
//     rejected at apply if the lease changed in between.
//   - Closed timestamps: a leaseholder closes c only below every write it has
//     in flight and within its lease; c travels in commands and, for idle
//     periods, beside raft with the applied index it depends on. A replica's
//     safe time is min(closed, oldest prepared transaction − 1); a follower
//     serves a read at ts only once ts ≤ safe time.
//   - Applying is deterministic; a command newer than this binary knows
//     stops the store rather than being misapplied.
//   - A split writes both ranges' state in one batch; a removed replica
//     deletes its data and leaves a tombstone so stale messages cannot
//     resurrect it.
//
// # Goroutines and locks
//
// Lock order: Replica.raftMu, Store.spanMu, Replica.mu, Store.mu,
// Store.tickMu. A replica
// is processed by one scheduler worker at a time, holding raftMu; only that
// goroutine touches the RawNode and the raft log. Other goroutines (request
// handlers, the transport) talk to a replica through fields under mu:
// proposals, inbound messages and requests are queued there and the replica
// is scheduled. The store owns its loops (tick, closed timestamps,
// heartbeats) and the goroutines of asynchronous work (lease requests,
// outgoing snapshots); Close stops and joins them all.
package replication
