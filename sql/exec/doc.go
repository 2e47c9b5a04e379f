// Package exec runs plans from sql/plan over a txn.Txn: pull-based
// iterators (Iter.Next) for table accesses (point gets, paged range scans
// with early stop, index lookups), filters, projections, hash and
// index-lookup joins, hash aggregation, sort / top-N, limit, DISTINCT and
// UNION; the subquery runner for sql/expr; INSERT / REPLACE / ON DUPLICATE
// KEY UPDATE, UPDATE and DELETE with secondary-index maintenance and
// uniqueness checks; index backfill batches; the statement journal that
// undoes a failed statement inside a transaction (journal.go); and
// per-operator statistics for EXPLAIN ANALYZE.
//
// Reads of several known keys (a run of point gets from an IN list, the
// rows behind a page of secondary index entries) go out as one GetMany
// when the transaction implements BatchGetter (batch.go), else as one Get
// after another. Short integer ranges on a unique key (id BETWEEN 1 AND
// 100) are read in one unbounded scan.
//
// # Invariants
//
//   - Every write maintains the table's secondary indexes in the same
//     transaction as the row, as their state says: public and write-only
//     indexes get the row's entries, delete-only ones only lose the
//     entries of rows deleted or changed. Write-only columns are written
//     (their default on insert, their value kept on update) but no
//     statement names them.
//   - Reads in read-write transactions go through txn.Txn, so they lock
//     what they read (FOR UPDATE reads and DML sources lock exclusively).
//
// # Goroutines
//
// A Ctx and its iterators belong to one statement on one goroutine.
package exec
