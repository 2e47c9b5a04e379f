// Package workload defines what geo-sim runs from every region — the
// Workload, Client and Gateway interfaces — and the workloads themselves:
// kv (plain key-value operations through the router, and optionally
// one-key transactions), bank (transfers and audits over txn.DB) and
// marketplace (the marketplace package's operations over *sql.DB; with
// MarketplaceOptions.Regional its regional schema, rows homed per region
// by placement policies, each client a buyer and seller of its region;
// with BrowseStaleness its browsing reads stale).
//
// The contract between a workload and the runner:
//   - The runner asks Spans for the key spans the workload uses and applies
//     the run's placement to each (with "near" placement, a span's leader
//     region is its Home).
//   - Setup runs once per cluster before any client (workloads sharing
//     data, such as Marketplace.WithBrowseStaleness's, set it up once); NewClient makes each
//     client, which the runner drives from one goroutine: it times every
//     Step, so a Step must perform exactly one operation and name it (also
//     when it fails).
//   - Clients reach the database only through their Gateway, which charges
//     the client↔gateway delay of their region for every call (one round
//     trip per KV call, per Txn method that would be a statement, and per
//     byte exchange on SQL connections).
//   - Layers above the router are optional: Gateway.Txn and Gateway.SQL
//     return ErrNeedsTxnLayer and ErrNeedsSQL until the runner is given a
//     way to reach them (runner.Layers); a workload that needs them fails
//     its Setup with that error.
//
// Invariants: workloads draw randomness only from the *rand.Rand they are
// given (seeded per client by the runner), so the key sequence of a client
// depends only on the run's seed; keys are ≥ 0x20 and < 0x74, below the SQL
// keyspace and above the system keys.
//
// Goroutines: none of the workloads starts one; a Client is used by one
// goroutine at a time, a Workload by many at once.
package workload
