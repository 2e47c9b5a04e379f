// Package ranges cuts the keyspace into ranges and routes requests to them
// (DESIGN §5): the meta range and its lookups, each node's range cache,
// the router that gateways send through, the evaluator that serves a
// batch at a replica, splits by size, load and on demand, placement rules
// and the allocator that places replicas and leases by them.
//
// Invariants:
//   - Ranges tile the keyspace; the meta range (range 1, [0x02, 0x04))
//     never splits and holds one entry per range, keyed by its end key.
//   - The range cache holds disjoint descriptors; inserting one drops the
//     entries it overlaps unless they are newer (a higher generation of
//     the same range). Entries may be stale: routing errors correct them.
//   - The router retries routing errors (not the leaseholder, range key
//     mismatch, range not found, unreachable node) with backoff, so callers
//     do not see splits or lease moves, with two exceptions it returns
//     rather than retry: a request marked AtMostOnce whose answer was lost
//     (ErrAmbiguousResult), and a request the range holding its routing key
//     refuses because another of its keys lies outside the range
//     (*OutsideRangeError: the caller grouped its keys by a descriptor from
//     before a split and must regroup them). A scan that makes no progress
//     fails instead of looping.
//   - A split is one raft command carrying both descriptors; the meta
//     update follows, and leaseholders repair meta entries a crash left
//     stale in between.
//   - Of the placement rules covering a range, the innermost (the one
//     starting last) decides its policy.
//
// Goroutines: the package starts none that outlive a call. Router.Scan reads
// up to Parallelism ranges at once and waits for them before it returns;
// the splitter, the allocator and placement refreshes run on the caller's
// goroutine (the server's queues drive them). Router, RangeCache,
// PlacementCache and LoadTracker are safe for concurrent use.
package ranges
