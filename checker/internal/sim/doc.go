// Package sim produces histories from a serial in-memory database: each
// transaction takes effect atomically at one instant between its invocation
// and its completion, so every history it produces without a fault is
// strictly serializable. Tests and benchmarks of the checker use it; the
// Config's faults inject anomalies that the checker must catch.
//
// Run is deterministic given the Config's *rand.Rand and starts no
// goroutines.
package sim
