// Package exec runs plans from sql/plan over a txn.Txn: pull-based
// iterators (Iter.Next) for table accesses (point gets, paged range scans
// with early stop, index lookups), filters, projections, hash and
// index-lookup joins, hash aggregation, sort / top-N, limit, DISTINCT and
// UNION; the subquery runner for sql/expr; INSERT / REPLACE / ON DUPLICATE
// KEY UPDATE, UPDATE and DELETE with secondary-index maintenance and
// uniqueness checks; index backfill batches; and per-operator statistics
// for EXPLAIN ANALYZE.
//
// # Invariants
//
//   - Every write maintains all of the table's secondary indexes, public
//     and write-only, in the same transaction as the row.
//   - Reads in read-write transactions go through txn.Txn, so they lock
//     what they read (FOR UPDATE reads and DML sources lock exclusively).
//
// # Goroutines
//
// A Ctx and its iterators belong to one statement on one goroutine.
package exec
