// Package sqltest holds test doubles for the SQL layer: MemDB, an in-memory
// strictly serializable txn.DB (multi-version, strict two-phase locking
// with wound-wait, commit timestamps and commit wait from the injected
// truetime.Clock, snapshot reads for read-only and AS OF TIMESTAMP
// transactions), and SingleNode, a one-node sql.Cluster. Tests and the
// wire server's unit tests run on them; the server wires the real txn.DB
// and cluster instead (one line each).
//
// # Invariants (MemDB)
//
//   - Commit timestamps are strictly increasing and above every timestamp
//     served to a snapshot read, and above Clock.Now().Latest when chosen;
//     unless NoCommitWait, Commit returns only once Clock.After(ts).
//   - A transaction given a deadline (SetDeadline, catalog.Deadliner)
//     fails to commit, without effects, if its timestamp would be past it.
//   - Locks are held from first access until Commit/Rollback; an older
//     transaction wounds (aborts, releasing its locks at once) a younger
//     holder; a younger one waits, up to its lock timeout.
//
// # Goroutines
//
// MemDB starts no goroutines; one mutex guards all state and lock waits
// block the caller's goroutine on a channel closed at each release.
package sqltest
