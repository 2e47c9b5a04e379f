// Package checkrun runs the checker's workloads against Meridian and
// records their histories: in process, through the transaction API, on a
// cluster with simulated regions, clocks and faults (a nemesis); or over
// SQL against a running cluster. `meridian check` drives it.
//
// Run owns the cluster, the client goroutines and the nemesis goroutine it
// starts, and stops them all before it returns.
package checkrun
