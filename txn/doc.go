// Package txn implements Spanner's transactions over Meridian's ranges:
// read-write transactions with two-phase locking (wound-wait), two-phase
// commit and TrueTime commit wait; lock-free read-only transactions at
// s_read = TT.now().latest served by the nearest up-to-date replica; and
// stale reads. api.go is the contract the SQL layer uses.
//
// Two halves:
//   - The Gateway (db.go, rw.go, commit.go, ro.go) runs a client's
//     transaction: it buffers writes, sends locking reads to leaseholders
//     and drives the commit. Transactions begun with Options.LoadControl
//     first wait for a slot of the gateway's load control (package
//     admission), which limits concurrency only while transactions abort
//     each other.
//   - The Participant (participant*.go) serves those requests at a store's
//     leaseholders, with one LockTable per store.
//
// Invariants:
//   - Wound-wait: an older transaction wounds a younger holder that is
//     neither committing nor prepared on that range; a younger one waits.
//     Waits only go from younger to older, so there are no deadlocks.
//   - A range assigning a commit timestamp s raises its timestamp floor to
//     s first, so every later write there lands above s: the committing
//     transaction's read locks on that range are released then, its write
//     locks once its writes have applied (before commit wait). A prepared
//     participant keeps its read locks until it learns s.
//   - Every locked read reports the range's timestamp floor after it read
//     (observed_ts), which bounds the versions it saw, including writes
//     whose commit wait has not ended; a transaction commits above every
//     observed_ts of its reads, so it serializes after what it read. A
//     resolved two-phase commit raises the participant's floor to its
//     timestamp.
//   - A commit is acknowledged only after commit wait: After(s) holds at
//     the coordinator.
//   - Two-phase commit takes every write lock before preparing anything: a
//     prepared (unwoundable) participant never waits for a lock.
//   - A commit whose answer was lost is never retried (it would write at a
//     second timestamp); the caller gets ErrAmbiguousResult instead.
//
// Goroutines: a Txn is used by one goroutine at a time (its session); the
// gateway's background work (resolving participants, rollbacks) runs on
// goroutines it owns and Close joins. The participant's recovery loop is
// started by Start and joined by Close; requests arrive on the transport's
// goroutines. LockTable methods take its mutex and never call out while
// holding it.
package txn
