// Package runner runs workloads on a simulated planet: it starts an
// in-process Meridian cluster (server.StartCluster) whose nodes sit in the
// topology's regions, talk over a MemNetwork with the topology's delays and
// read simulated clocks; applies a placement to the workload's key spans
// and waits until the allocator has carried it out; then drives clients in
// every region through gateways of their region for a measured window,
// applying a fault schedule meanwhile, and returns a *results.Run.
//
// A Sim (Start … Close) may run several measured windows (Run), e.g. one
// per ε of a sweep or per replica count, on one cluster. Workloads placed
// by SQL rather than by spans (the marketplace's regional schema, whose
// partitions carry placement policies) are prepared first (Prepare:
// placement and Setup), their policies set or changed through a Gateway of
// the scenario's own, and the cluster's placement rules awaited (Settle)
// before each window; LeaseholderOf says where a key is led.
//
// Clients: a client of region R uses a gateway node of R (client i of R
// uses R's node i mod n, or another live node of R, or the nearest live
// node elsewhere while R has none) and pays R's client↔gateway delay —
// half the round trip each way, plus jitter from its own seeded source —
// on every call. Every client runs one operation at a time (closed loop).
//
// Invariants:
//   - All randomness is derived from Config.Seed (DeriveSeed): the
//     network's jitter, every client's operations and delays, and random
//     fault schedules; nothing reads the wall clock except through
//     truetime.Mono (durations) and the simulated clocks.
//   - A Run leaves the cluster as it found it: at its end, partitions are
//     healed, killed nodes restarted and clocks set back to their models.
//
// Bounds: every operation is bounded through the gateway that served it,
// for the placement of its ranges when it ran (read as the window opens and
// every second after); an operation type's bound is the median of its
// operations' bounds, so it bounds the median latency from below.
//
// Goroutines: Run starts one per client, one for the fault schedule, one
// reading the placement every second and one for the progress bar, and
// joins them all before it returns. Start
// starts none of its own (the cluster's nodes have theirs, stopped by
// Close). Sim's methods are safe for concurrent use, but Runs should not
// overlap (they would share the cluster and its faults).
//
// Lock order: Sim.mu is a leaf lock; it is never held while calling into
// the cluster.
package runner
