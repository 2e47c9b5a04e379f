// Package plan turns parsed statements (github.com/pingcap/tidb/pkg/parser
// ASTs) into physical plans: name resolution over scopes (with outer
// scopes for correlated subqueries), expression compilation into sql/expr,
// access-path selection (point gets on a fully bound primary or unique key,
// index range scans with equality prefixes, IN lists and one range column,
// full scans), predicate push-down into table accesses, limit push-down
// into scans, sort elision on index order, index-lookup and hash joins,
// hash aggregation, sort / top-N, DISTINCT, UNION, and EXPLAIN rendering.
//
// # Invariants
//
//   - A plan never depends on parameter values: ? markers compile to
//     expr.Param, so a prepared statement's plan is reused for every
//     execution while the schema version is unchanged.
//   - Every ColRef in an operator's expressions indexes its input row.
//   - Conditions pushed into a TableAccess reference only that table; a
//     TableAccess keeps its whole pushed filter as a residual check, so key
//     ranges may be wider than the condition (never narrower).
//
// # Goroutines
//
// A Builder is used by one goroutine for one statement. Finished plans are
// immutable and may be executed concurrently.
package plan
