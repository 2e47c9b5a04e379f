// Package linear checks per-key linearizability of register histories with
// porcupine (github.com/anishathalye/porcupine), and writes porcupine's HTML
// visualization on request.
//
// Each transaction contributes one operation per key it touches: its
// micro-ops on that key, applied atomically between its invocation and
// completion (strict serializability implies this projection is
// linearizable). Failed transactions are dropped; indeterminate (info) ones
// may take effect at any point after their invocation, including never (they
// are given an unbounded completion, and their reads are not checked). A
// write whose value is unknown (an indeterminate bank transfer) leaves the
// register unknown until the next write: any read matches it.
// Porcupine's intervals are the events' line positions, so real time is the
// order of lines, as everywhere in the checker.
//
// Check runs porcupine, which uses goroutines of its own and a wall-clock
// timeout; it returns only when they are done.
package linear
