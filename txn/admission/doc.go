// Package admission is a gateway's load control for read-write
// transactions: under data contention it limits how many of them run at
// once, so that they stop aborting each other (the thrashing of two-phase
// locking: past a few concurrent transactions on the same hot rows, every
// commit wounds the younger readers of what it writes, and throughput falls
// as clients are added).
//
// The limit follows the transactions' outcomes (conflict-driven load
// control, as in Mönkeberg and Weikum, VLDB 1992): after every Window
// outcomes, if more than HighAborts of them were aborts from conflicts
// (wounds, lock wait timeouts) the limit shrinks to three quarters of what
// was running; below LowAborts it grows by one, and once it no longer binds
// it is lifted. Without contention there is no limit at all.
//
// Invariants:
//   - Waiting is bounded: a transaction waits at most MaxWait for a slot,
//     then runs over the limit. Load control delays work; it never
//     deadlocks it (a slot holder may be waiting for the waiter's session,
//     or for its client).
//   - A slot holder idle for IdleRelease (no request under way, none
//     started or finished meanwhile) loses its slot to a waiter; it keeps running, uncounted. A client
//     that leaves a transaction open cannot keep others out.
//   - Waiters are admitted oldest first (lowest wound-wait priority), so a
//     retried transaction that kept its age goes ahead of new ones.
//
// Goroutines: none of its own. Admit blocks the caller's goroutine; the
// waiters themselves take back idle slots when they wake. Every method is
// safe for concurrent use; the state is guarded by Controller.mu.
package admission
