// Package catalog owns the SQL catalog: descriptors of databases, tables
// (columns, primary and secondary indexes, LIST partitions and their key
// spans: partition.go), placement policies, and users,
// stored as rows of system tables with reserved IDs inside the SQL keyspace
// (see desc.go), read and written through txn.Txn like any other data.
//
// # Versions and schema leases
//
// A single schema version key (/t/3/1) counts catalog changes; every
// schema change (Manager.Mutate) writes version+1 in a read-write
// transaction that reads the key with an exclusive lock. SQL transactions
// do not read the key: they use the catalog of a lease (lease.go), as in
// F1 ("Online, Asynchronous Schema Change in F1", VLDB 2013) and Spanner's
// schema leases, so that the version key's range is neither a participant
// of every write transaction nor a hot spot.
//
// A lease is a node's right to use version v until a TrueTime timestamp e.
// Each node has a lease record (/t/6/1/<node lease id> → MinVersion,
// Expiry). A node obtains or extends a lease only in a transaction that
// reads the version key under a shared lock, sees v, and writes its record
// with Expiry = e (and MinVersion ≤ v, ≤ every older version its
// transactions may still commit under); the lease exists once that
// transaction committed. A lease is extended only if the version it is for
// is still the one read under the lock. A started Manager refreshes every
// PollInterval: it reads the version (lock-free), and writes its record
// when the version changed, when half of the lease is gone, or when older
// versions went out of use (its "acknowledgement").
//
// Transactions: an SQL transaction acquires the current lease before it
// starts (Acquire; a read-only one then must read at a timestamp before
// e) and releases it when it ends. A read-write transaction commits only
// at a timestamp before e: a transaction layer that implements Deadliner
// enforces this exactly; otherwise the session checks, before committing,
// that e lies at least CommitMargin beyond TT.now().latest, and the
// commit must get its timestamp within that margin.
//
// Schema changes: Mutate(v→v+1) first waits until v is done, then commits
// v+1 at s, then waits until v+1 is done, where "version u is done" means
// every lease record has MinVersion ≥ u or an Expiry that has passed
// (TT.after). Mutate returns only then.
//
// Claim: once Mutate(v→v+1) has returned, no transaction commits under a
// version ≤ v any more (and none reads at a timestamp after v+2's commit
// under a version ≤ v). Hence at any time the transactions that commit do
// so under at most two adjacent versions, the newest one and its
// predecessor.
//
// Argument: take a transaction T under version u ≤ v on node N, using
// lease L(u) with expiry e. L(u) was created or extended by a record
// transaction that read u under a shared lock and committed before s (the
// exclusive lock of Mutate orders them; a record transaction after s reads
// v+1 or later and extends nothing for u), and wrote N's record with
// MinVersion ≤ u and Expiry ≥ e; every later record of N keeps MinVersion
// ≤ u while T holds L(u) and L(u) has not expired (minInUse), and has a
// larger Expiry. Mutate's wait reads the records at timestamps after s, so
// it sees N's record with MinVersion ≤ u < v+1 until T has ended or L(u)
// has expired, and so returns only after T ended or TT.after(e); T commits
// before e. (Read-only transactions read at a timestamp before e, and
// v+2 commits after v+1 is done, hence after e.) Waiting for v to be
// done before committing v+1 makes changes by different nodes take turns.
//
// Multi-step changes are therefore sequences of states in which any two
// adjacent states are compatible (session/ddl.go): ADD INDEX goes
// delete-only → write-only → backfill → public; DROP INDEX public →
// write-only → gone, then its entries are deleted; ADD COLUMN write-only
// → public; DROP COLUMN write-only → gone; DROP TABLE / DATABASE remove
// the descriptors, then delete the data. Data left behind by a crash
// between the last two steps of a drop lies under IDs that are never
// reused (descriptor, index and column IDs only grow).
//
// Costs: a transaction takes a lease with two atomic operations; a node
// reads the version key every PollInterval and writes its record every
// Duration/2 and on each new version; a schema change waits about two
// poll intervals per step when every node answers, and at most Duration
// for a node that does not. Lease records of nodes that are gone stay
// (16 bytes each, ignored once expired).
//
// Stale transactions (AS OF TIMESTAMP) read the version key at their
// timestamp instead (Manager.Get), and schema-change work (index backfill
// batches) reads it under a shared lock in its own transaction.
//
// Users' passwords are stored in clear in the users table because
// go-mysql's server verifies mysql_native_password scrambles from the
// clear text; see the report on issue 7 (a hashed form needs a custom
// handshake).
//
// # Goroutines
//
// Manager is safe for concurrent use; Snapshots are immutable and shared.
// Start runs one goroutine (the lease loop) that Close stops and joins;
// refresh is serialized by refreshMu, which guards the record and the
// draining leases. Writers belong to one Mutate call.
package catalog
