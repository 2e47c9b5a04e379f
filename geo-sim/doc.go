// Package geosim runs the real Meridian code on a simulated planet and
// reports what geo-distribution costs and where the time goes: `meridian
// geosim run` (Run) and `meridian geosim scenario NAME` (Scenarios).
//
// It owns the glue and the scenarios; the pieces live in subpackages:
//
//	topology/  regions, zones, nodes, round trips, clocks; presets; files
//	bounds/    physical lower bounds of operations from a topology
//	faults/    seeded fault schedules and their executor
//	workload/  the Workload/Client/Gateway plug-in interfaces; kv, bank,
//	           marketplace
//	runner/    an in-process cluster on the topology, placement, clients
//	           in every region, measurement
//	results/   what a run measured
//	report/    summary.md, CSVs and PNG plots
//
// Scenarios reproduce published results beside their references (Spanner's
// Tables 3 and 4) or show one effect each (commit wait as ε grows,
// placement, failover, a lying clock). The placement scenario runs the
// marketplace over SQL with its rows homed per region by partition-level
// placement policies, so it needs the SQL layer. A scenario that needs a layer the
// runner was not given (transactions, SQL) fails with
// workload.ErrNeedsTxnLayer or workload.ErrNeedsSQL, naming what to wire.
//
// Invariants: a scenario's output depends on its seed and the machine's
// speed only; every scenario finishes in minutes (Env.Scale shortens
// them for tests); each writes its summary.md with its table beside the
// reference, and one directory per run with that run's report.
//
// Goroutines: Run and the scenarios run on the caller's goroutine; the
// runner they use starts and joins its own.
package geosim
