// Package expr owns compiled scalar expressions: column and outer-row
// references, parameters, operators with MySQL's NULL and type rules,
// built-in functions (date arithmetic, DATE_ADD / DATE_SUB and ± INTERVAL,
// in funcs_time.go, which bounded-staleness reads use: AS OF TIMESTAMP
// NOW(6) - INTERVAL 1 SECOND), and subqueries (run through a
// SubqueryRunner that sql/exec provides). sql/plan compiles parser ASTs
// into these.
//
// # Invariants
//
//   - Eval never panics on well-typed plans: a ColRef's Idx is within the
//     row its operator produces (the planner guarantees it).
//   - Uncorrelated subqueries run at most once per statement (Env caches
//     their rows); correlated ones run once per outer row.
//
// # Goroutines
//
// Compiled expressions are immutable and may be shared by concurrent
// executions (cached prepared plans); an Env belongs to one statement
// execution on one goroutine.
package expr
