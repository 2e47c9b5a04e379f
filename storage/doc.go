// Package storage is Meridian's multi-version store on Pebble: one Engine
// per node, shared by all of the node's replicas.
//
// # What it owns
//
//   - The engine key encoding (key.go) and its Pebble Comparer, whose Split
//     separates a key from its version so that bloom filters and prefix
//     iteration work on keys alone.
//   - MVCC reads and writes: get at a timestamp, scan and reverse scan of a
//     span with row and byte limits and resume spans, puts and tombstones in
//     batches, clearing a span, GC below a threshold, checksums of a span.
//   - The local keyspace (local_keys.go): unversioned per-store and per-range
//     state such as the raft log, HardState, applied state and descriptors,
//     with its own key grammar.
//
// # Invariants
//
//   - Every version has a timestamp ≥ 1; versions of a key sort newest first
//     and a bare key sorts before all of them.
//   - A read at ts sees, for each key, exactly its newest version at or
//     below ts, and nothing if that version is a tombstone.
//   - Global (MVCC) keys are ≥ GlobalKeyMin; local keys are below it. The
//     two keyspaces never mix: MVCC operations reject local keys and local
//     operations reject global ones.
//   - A batch commits atomically; a batch committed with sync survives a
//     crash, as does every batch committed before it.
//   - After GC at a threshold, reads at or above the threshold return what
//     they returned before. Reads below it are the caller's to forbid.
//
// Storage imports no other Meridian package; timestamps are plain int64
// nanoseconds, the representation of truetime.Timestamp.
//
// # Goroutines
//
// The package starts no goroutines of its own (Pebble runs its flushes and
// compactions in the background until Close). An Engine and its Snapshots
// are safe for concurrent use; a Batch belongs to one goroutine at a time.
package storage
