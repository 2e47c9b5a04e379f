// Package shell is `meridian sql`, the psql-like SQL shell. It is a client
// of the MySQL wire protocol (through go-sql-driver/mysql and
// database/sql), not of the SQL engine, so it works against any
// MySQL-compatible server: a Meridian node, MariaDB, MySQL.
//
// What it owns: reading input (a terminal with line editing and history,
// -e scripts, -f files, \i files, a pipe), cutting it into statements
// (Splitter: quotes, comments, DELIMITER, \g and \G), backslash commands
// (\d, \dt, \d TABLE, \l, \x, \timing, \format, \i, \o, \r, \c, \?, \q),
// running statements, and writing results as aligned tables, expanded
// records, CSV, TSV or JSON. Run is the entry point; NewCommand wraps it
// as the cobra command; `meridian demo` calls Run after starting its
// cluster.
//
// Invariants:
//   - Every statement runs on one dedicated connection (database/sql's
//     Conn), so USE, transactions and session variables persist from one
//     statement to the next. Only when that connection is dropped — a
//     cancelled statement the server did not stop, a server restart — is
//     a new one opened; the current database is restored and the user is
//     told that the transaction and variables are gone.
//   - A statement whose first keyword returns rows (SELECT, SHOW, EXPLAIN,
//     …) is run as a query and its result set shown; anything else is
//     executed and its rows-affected count shown ("Query OK, N rows
//     affected", table format only, so csv/tsv/json output stays clean).
//   - Errors go to Err as "ERROR <number> (<sqlstate>): <message>". In a
//     script (-e, -f, piped input) the first failure stops the run and Run
//     returns ErrStatementFailed; interactive sessions go on.
//   - \timing prints the client-side elapsed time and, if the server has
//     it, the ledger of SHOW LATENCY (Meridian); a server without it is
//     detected on the first failure and not asked again.
//
// Goroutines: Run's caller's goroutine does all the work. While a
// statement runs, guard runs it on a second goroutine and waits on it
// together with the interrupt channel; a first Ctrl-C (SIGINT) starts a
// goroutine that sends KILL QUERY on another pooled connection; a second
// one, or no effect within Options.KillGrace, cancels the statement's
// context, which makes the driver close the connection. guard returns only
// when the statement goroutine has; Run waits for KILL goroutines before
// returning. At the prompt the terminal is in raw mode and Ctrl-C is a key
// that clears the line (liner), not a signal.
package shell
