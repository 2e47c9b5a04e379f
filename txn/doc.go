// Package txn implements Spanner's transactions over Meridian's ranges:
// read-write transactions with two-phase locking (wound-wait), two-phase
// commit and TrueTime commit wait; lock-free read-only transactions at
// s_read = TT.now().latest served by the nearest up-to-date replica; and
// stale reads. api.go is the contract the SQL layer uses.
//
// (The implementation is being built; so far the package holds the API.)
package txn
