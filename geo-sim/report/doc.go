// Package report renders geo-sim results for people: a Markdown summary
// (per operation and region: throughput, p50/p95/p99, the physical bound
// and the measured/bound ratio; where the time went; faults; nodes), CSV
// files for further analysis, and PNG plots drawn with gonum.org/v1/plot
// (latency CDFs per region, the time breakdown as stacked bars, throughput
// over time with the faults marked). Scenarios use its plot and table
// helpers for their comparison charts.
//
// Where the time went: when operations carry transaction ledgers
// (txn.Ledger), their mean is shown as measured. Plain KV operations have
// none; for them the breakdown is an estimate, and says so: the
// client↔gateway time is measured, the gateway↔leaseholder round trip is
// the topology's, raft is the leaseholder's mean proposal-to-apply time
// (store metrics), and the rest is commit wait beyond replication plus
// processing.
//
// Invariants: every file a report writes is listed in its summary; output
// depends only on the results (no clock, no randomness), so a report can
// be regenerated.
//
// Goroutines: none.
package report
