// Package sql is the root of Meridian's SQL layer (DESIGN §7). It holds only
// the contract between the SQL layer and the cluster underneath it that is
// not a transaction: the Cluster interface (clocks, ranges, splits,
// placement) that SHOW CLOCK, SHOW TABLE … REGIONS, SPLIT TABLE and
// placement policies need. The engine lives in subpackages:
//
//	sql/types     values, column types, comparison and coercion
//	sql/rowcodec  order-preserving key encodings and the row format
//	sql/catalog   descriptors stored in system tables, versioned, cached
//	sql/expr      compiled scalar expressions and functions
//	sql/plan      name resolution, access paths, joins, aggregation, EXPLAIN
//	sql/exec      iterators that run plans over txn.Txn, and DML
//	sql/session   one client session: statements, transactions, retries
//	sql/wire      the MySQL protocol server (go-mysql v1.13.0)
//	sql/sqltest   test doubles: an in-memory txn.DB and a one-node Cluster
//
// # Goroutines
//
// Implementations of Cluster must be safe for concurrent use; sessions call
// them from their connection goroutines.
package sql
