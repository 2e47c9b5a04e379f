// Package workload runs list-append, rw-register and bank workloads against
// any *sql.DB that speaks the MySQL dialect, and records what its clients
// observe as a history (package history) for the checker.
//
// The SQL follows Jepsen's MySQL tests: one table per key group (key mod
// Options.Tables); a list is a comma-separated TEXT column that appends
// extend with INSERT … ON DUPLICATE KEY UPDATE val = CONCAT(val, ',', ?);
// a register is a BIGINT column; a bank is one accounts table, transfers
// reading both balances FOR UPDATE and aborting when funds are short. Keys
// are integers. Setup drops and recreates the tables.
//
// Outcomes: an error before COMMIT, or a COMMIT refused as a deadlock or lock
// timeout (MySQL 1213, 1205, SQLSTATE class 40), is fail; any other COMMIT
// error is info, after which the client records under a new process id
// (process + Concurrency) and reconnects.
//
// Generators (NewGenerator) are shared with the checker's simulated
// database, so the same transaction shapes are checked with and without SQL.
//
// # Goroutines
//
// Run starts Options.Concurrency client goroutines, each owning one
// *sql.Conn, and returns only after joining them all. Generators are not
// safe for concurrent use: Run draws from its generator under a mutex. The
// history Writer serializes events, so the file's order is the order of
// the clock readings.
package workload
