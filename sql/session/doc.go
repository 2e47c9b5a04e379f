// Package session owns a client session: statement dispatch (queries, DML,
// DDL, SHOW, SET, EXPLAIN, Meridian's SHOW CLOCK / SHOW LATENCY / SPLIT /
// placement), the transaction state machine (autocommit, BEGIN / START
// TRANSACTION [READ ONLY [AS OF TIMESTAMP]], COMMIT, ROLLBACK, implicit
// commit before DDL), internal retries of autocommit statements, prepared
// statements with cached plans, session and user variables, and
// information_schema. Engine holds what sessions of one node share (catalog
// cache, auto-increment allocator).
//
// Placement DDL (placement.go, partition.go): placement policies; a table's
// PLACEMENT POLICY; and TiDB's partition-level placement, CREATE TABLE …
// PARTITION BY LIST COLUMNS (col) (PARTITION p VALUES IN (…) PLACEMENT
// POLICY = pol, …) and ALTER TABLE t PARTITION p PLACEMENT POLICY = pol |
// DEFAULT, implemented where col leads the primary key: each partition is
// a set of key spans (catalog.Table.PartitionSpans) whose placement rules
// sql.Cluster.SetPlacement sets inside the table's, so that the cluster's
// allocator homes the partition's rows. Changing a policy re-applies it to
// the tables and partitions using it.
//
// # Invariants
//
//   - An autocommit statement runs in its own transaction (read-only for
//     plain SELECT, read-write otherwise) and is retried on a retryable
//     error up to MaxRetries times; its result is materialised before
//     anything is sent, so a retry is invisible to the client.
//   - Inside an explicit transaction a retryable error aborts (rolls back)
//     the whole transaction, as MySQL does on deadlock (1213).
//   - Every transaction except stale ones runs under a schema lease
//     (catalog.Manager.Acquire, taken before it begins and released when
//     it ends): its statements are planned with the lease's catalog, a
//     read-only one reads at a timestamp inside the lease, and a
//     read-write one commits only while the lease is valid
//     (Manager.CheckCommit). Stale transactions read the catalog as of
//     their timestamp. See sql/catalog/doc.go.
//   - Each statement has its own context, cancelled by KILL QUERY (error
//     1317) or when the client closes the connection; SHOW LATENCY
//     reports the last statement's ledger (reset per statement).
//   - A partitioned table's rows are each in a partition: writes of a
//     partitioning value no partition lists fail (MySQL 1526), which
//     keeps every partition's rows inside its spans.
//   - @@last_commit_ts is the timestamp of the session's last transaction:
//     the commit timestamp of a read-write one, the read timestamp of a
//     read-only or stale one (each is the transaction's place in the
//     serial order). Statements without tables (SELECT @@x) run without a
//     transaction and leave it unchanged.
//
// # Goroutines
//
// A Session is used by its connection's goroutine only, except Cancel,
// which any goroutine may call (KILL from another session, the wire
// server noticing the client left). Engine is safe for concurrent use;
// Start runs the catalog's lease loop, Close stops it.
package session
