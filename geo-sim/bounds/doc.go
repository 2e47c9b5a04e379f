// Package bounds computes the physical lower bound of an operation's
// latency from a topology: the time light-speed-limited messages and the
// clock uncertainty force on it, whatever the software does. geo-sim prints
// each operation's measured latency beside its bound, and the ratio tells
// how much of the time is Meridian's own.
//
// Every bound is a sum of round trips (the minimum of each link: jitter is
// never counted) plus commit wait where it is on the critical path:
//
//	client     the client↔gateway round trip of the client's region
//	gateway    gateway↔leaseholder round trip (zero when the gateway holds
//	           the lease); for reads served by the nearest replica, the
//	           gateway↔nearest replica round trip
//	quorum     the leaseholder's round trip to the nearest majority of the
//	           range's voters (it is one of them: with n voters it needs the
//	           ⌊n/2⌋ nearest others)
//	2ε         commit wait: a write's timestamp is TT.now().latest at the
//	           leaseholder, and it may not be acknowledged before
//	           TT.now().earliest passes it, 2ε later. Replication runs
//	           meanwhile, so a commit costs max(quorum, 2ε), not their sum.
//
// Write (one range)       client + gateway + max(quorum, 2ε)
// LeaseholderRead         client + gateway
// NearestRead, ReadOnly   client + gateway↔nearest replica
//
// Reads before a commit (a read-modify-write transaction's, Input.Reads)
// add a client round trip plus the gateway↔leaseholder round trip each;
// reads of several ranges add one such trip per range after the first.
// Commit2PC (coordinator c, other participants p):
//
//	client + gateway(c) + max( max_p(rtt(c,p) + quorum(p)) + quorum(c),
//	                           2ε_c, max_p(rtt(c,p)/2 + ε_p + ε_c) )
//
// The 2PC terms: the coordinator's commit record is logged only after
// every participant prepared (a round trip to it plus its own quorum); the
// commit timestamp is at least every prepare timestamp, which p picked as
// its TT.now().latest half a round trip after the coordinator started, and
// commit wait ends ε_c after the commit timestamp.
//
// Invariants: bounds are never negative; adding a replica never lowers the
// quorum term of a range's leaseholder below the round trip to its nearest
// peer; with one participant Commit2PC equals Write.
//
// Goroutines: none; pure functions.
package bounds
