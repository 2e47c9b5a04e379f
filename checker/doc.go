// Package checker decides whether a recorded history is strictly
// serializable and, if not, says why. It is what `meridian check` runs and
// the oracle every Meridian test that records a history uses.
//
// Check picks the checks for the history's workload and merges their
// findings into one Result, which renders as a human report (WriteText), as
// JSON (WriteJSON) or, for register histories, as porcupine's HTML
// visualization (WriteHTML). The subpackages do the work:
//
//   - history: the JSON Lines format, its parser (line-numbered errors) and
//     writer;
//   - elle: version orders, the dependency graph, cycle search and the
//     Adya/Elle classification, plus non-cycle anomalies;
//   - tsorder: commit timestamps against real time and against the reads;
//   - linear: per-key register linearizability with porcupine;
//   - bank: the bank invariant (total balance constant in every read);
//   - anomaly: the names of anomalies and their report order;
//   - workload: list-append, rw-register and bank workloads that run
//     against any *sql.DB (MySQL dialect) and record histories.
//
// # Invariants
//
// A history that Check calls valid has no anomaly any check could find
// within its search budgets; every anomaly reported is implied by the
// history and the documented assumptions (they are listed in
// Result.Notes), never by a heuristic.
//
// # Concurrency
//
// Check runs on the caller's goroutine (porcupine starts and joins its own
// workers); a Result is immutable once returned.
package checker
