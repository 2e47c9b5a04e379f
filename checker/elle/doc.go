// Package elle checks list-append and rw-register histories for strict
// serializability the way Elle does (Kingsbury & Alvaro, VLDB 2020): it
// infers each key's version order from what clients observed, derives the
// dependencies between transactions (ww, wr, rw) plus real-time and process
// order, and searches the graph's strongly connected components for cycles,
// naming each by the Adya/Elle taxonomy (G0, G1c, G-single, G2-item, G2 and
// their -process and -realtime variants). It also reports the anomalies that
// need no cycle: aborted and intermediate reads (G1a, G1b), garbage reads,
// duplicate elements, incompatible orders and internal inconsistency.
//
// # Inference
//
// List-append: the longest committed read of a key is its version order and
// every other read must be a prefix of it. A read depends (wr) on the writer
// of its last element and anti-depends (rw) on the writer of the next; the
// writers of consecutive elements are ww-ordered. A committed append that no
// read saw comes after every observed element, so the longest reads
// anti-depend on it. Reads that found the key empty or absent are predicate
// reads: their anti-dependencies make G2 rather than G2-item.
//
// rw-register (see register for the assumptions): versions are ordered by
// the initial nil, by writes following reads within a transaction, and by the
// real-time order of their writers. A cyclic inferred order is reported as
// incompatible-order and that key then contributes only wr edges.
//
// Failed transactions take no part in the graph; indeterminate (info) ones
// do, since their writes may have been observed, but nothing follows them in
// real time.
//
// # Reporting
//
// Each strongly connected component yields at most one cycle per class: the
// weakest class first (G0, G1c, G-single, G2-item, G2), and a class's
// -process/-realtime variant only when the class itself has no cycle there.
// Counts of cycle anomalies are therefore counts of such witnesses.
//
// # Invariants
//
// Every edge added is implied by strict serializability given the
// assumptions above, so any cycle is a real violation; the search is bounded
// (Options.SearchBudget), so a component with a cycle is always reported,
// though perhaps not under its weakest name.
//
// # Concurrency
//
// Check is a pure function of its input; it starts no goroutines.
package elle
