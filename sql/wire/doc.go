// Package wire serves the MySQL protocol over sql/session, using
// github.com/go-mysql-org/go-mysql/server (v1.13.0) for the handshake,
// authentication (mysql_native_password against the catalog's users) and
// packet I/O. It runs its own command loop for COM_QUERY, COM_STMT_*
// (binary protocol, parameter types kept across executions), COM_INIT_DB,
// COM_PING, COM_FIELD_LIST, COM_SET_OPTION and COM_RESET_CONNECTION, and
// maps errors to MySQL codes (errors.go).
//
// Answers are buffered (bufconn.go) and sent with one system call per
// command, not one per packet.
//
// Wiring: wire.NewServer(wire.Options{Addr, DB, Cluster, Logger}) then
// Start(ctx), Addr(), Close(). Swapping the test MemDB for the real txn.DB
// is the DB field.
//
// # Goroutines
//
// Start starts the accept loop (and the engine's lease loop); each
// accepted connection gets one goroutine that owns its session. While a
// statement runs longer than 50ms, a timer goroutine peeks at its socket
// and cancels the statement if the client closed it (watch.go); the
// statement's end stops and joins it. Close closes the listener and every
// connection and waits for all of them. A panic while handling a command is
// recovered, logged, and answered with error 1105; a panic elsewhere in a
// connection ends only that connection.
package wire
