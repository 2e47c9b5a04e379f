// Package catalog owns the SQL catalog: descriptors of databases, tables
// (columns, primary and secondary indexes), placement policies, and users,
// stored as rows of system tables with reserved IDs inside the SQL keyspace
// (see desc.go), read and written through txn.Txn like any other data.
//
// # Versioning and caching
//
// A single schema version key (/t/3/1) counts catalog changes. Every SQL
// transaction reads it first (Manager.Get); a read-write transaction so
// holds a shared lock on it until it commits. Every schema change
// (Manager.Mutate) takes an exclusive lock on it and writes version+1. So a
// transaction that planned with version v cannot commit after a change to
// v+1 has committed: the two conflict on the version key and wound-wait
// orders them. Read-only transactions read the version at their snapshot
// and use the catalog as of that version. Each node caches the newest
// snapshot it has loaded (an immutable *Snapshot behind an atomic pointer);
// a transaction that sees a different version loads that version inside
// itself.
//
// Multi-step schema changes (ADD INDEX: write-only, backfill, public) are
// sequences of Mutate calls; because every transaction reads the version
// under lock, only one schema version is ever in use by committing
// transactions, so the F1 "delete-only" step is not needed.
//
// Users' passwords are stored in clear in the users table because
// go-mysql's server verifies mysql_native_password scrambles from the
// clear text; see the report on issue 7 (a hashed form needs a custom
// handshake).
//
// # Goroutines
//
// Manager is safe for concurrent use; Snapshots are immutable and shared.
// Writers belong to one Mutate call.
package catalog
