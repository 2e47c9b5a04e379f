// Package anomaly defines what the checkers report: named anomalies, each
// with the transactions involved and, for dependency cycles, the edges of the
// cycle with their kinds. It owns the names and their order of severity; it
// does no checking itself and holds no state.
package anomaly
