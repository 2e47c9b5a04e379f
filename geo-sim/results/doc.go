// Package results holds what a geo-sim run measured: per operation and
// client region, the latency of every operation, throughput over time,
// errors, summed transaction ledgers, and the operation's physical lower
// bound; plus the run's settings, the faults applied and the nodes' raft
// statistics. The runner fills a *Run; the report package renders it.
//
// Invariants: OpStats.Samples holds only operations that started in the
// measured window and succeeded; Buckets[i] counts operations that
// completed in [i·Bucket, (i+1)·Bucket) of it. Percentiles are of
// Samples' latencies (nearest rank).
//
// Goroutines: a Run is built by one goroutine (the runner merges its
// clients' records under its own lock) and is read-only afterwards.
package results
