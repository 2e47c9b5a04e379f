// Package tsorder checks a history's commit timestamps (the optional
// commit_ts of ok events) against what clients saw:
//
//   - real time implies timestamp order: if T1 wrote and completed before
//     T2 was invoked, T2's timestamp is above T1's, or equal when T2 is
//     read-only (a read at a write's own timestamp sees it). A read-only
//     T1 does not constrain T2: it does not wait out its timestamp (as in
//     Spanner, it may lie up to 2ε ahead of real time), and its reads are
//     checked by the next rule;
//   - ordering committed transactions by timestamp explains every read: a
//     read of a read-write transaction at s sees exactly the writes of other
//     transactions with timestamps below s, in timestamp order; a read-only
//     transaction at s also sees those at s.
//
// Writes by transactions without a known timestamp (info, or ok without
// commit_ts) cannot be placed: list elements they appended are ignored, and a
// register read of a value one of them wrote is not checked (nor, when one
// of them wrote a value nobody learned, any read of that key). Reads that
// follow the transaction's own write of the key are left to the internal
// consistency check. Check is a pure function; it starts no goroutines.
package tsorder
