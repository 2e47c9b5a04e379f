// Package faults is geo-sim's nemesis: schedules of faults at times into a
// run — a node killed and restarted, a partition and its healing, a
// clock's offset, drift or claimed ε changed — generated from a seed or read
// from a file, and an executor that applies them to a running cluster.
//
// Invariants:
//   - Random is a pure function of (topology, options, seed): the same seed
//     gives the same schedule, event for event.
//   - A random schedule has at most one fault in force at a time, and undoes
//     each (restart, heal, offset back to the node's model) before the next
//     starts and before the run ends; killed and isolated nodes are single
//     nodes and partitions cut off a minority, so a majority of nodes can
//     always talk.
//   - Events are sorted by time; times are offsets from the start of the
//     measured part of a run.
//
// Goroutines: Execute runs on its caller's goroutine, sleeping until each
// event is due (real time, read through truetime.Mono), and returns when
// the schedule is done or its context ends. It starts none.
package faults
