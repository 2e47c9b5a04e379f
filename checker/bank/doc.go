// Package bank checks bank histories: the total balance is the same in every
// read.
//
// A bank history uses rw-register micro-ops with account ids as keys and
// balances as values (values repeat, so the rw-register dependency checks do
// not apply):
//
//   - setup: the first committed transaction that writes without reading
//     sets the initial balances; their sum is the total, unless
//     Options.Total gives it;
//   - transfer: [r from, r to, w from, w to], the writes computed from the
//     reads (the invocation may leave them null);
//   - read: a committed read-only transaction that reads every account.
//
// Every read must show the total, with no account missing (nil). When there is
// no setup transaction and no Total, the first read's sum is the total: the
// invariant is that it never changes. Check is a pure function; it starts no
// goroutines.
package bank
