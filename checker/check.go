package checker

import (
	"fmt"
	"time"

	"github.com/meridiandb/meridian/checker/anomaly"
	"github.com/meridiandb/meridian/checker/bank"
	"github.com/meridiandb/meridian/checker/elle"
	"github.com/meridiandb/meridian/checker/history"
	"github.com/meridiandb/meridian/checker/linear"
	"github.com/meridiandb/meridian/checker/tsorder"
)

// Workload selects the checks to run.
type Workload uint8

const (
	// Auto: list-append or rw-register, as the history's micro-ops say.
	Auto Workload = iota
	// ListAppend: list-append histories.
	ListAppend
	// Register: rw-register histories (values unique per key).
	Register
	// Bank: rw-register micro-ops recording bank transfers and reads; values
	// need not be unique. See package bank.
	Bank
)

// ParseWorkload parses auto, list-append, rw-register or bank.
func ParseWorkload(s string) (Workload, error) {
	switch s {
	case "", "auto":
		return Auto, nil
	case "list-append":
		return ListAppend, nil
	case "rw-register", "register":
		return Register, nil
	case "bank":
		return Bank, nil
	}
	return Auto, fmt.Errorf("unknown workload %q (want auto, list-append, rw-register or bank)", s)
}

// Options configures Check. The zero value is ready to use.
type Options struct {
	// Workload selects the checks. Default Auto.
	Workload Workload
	// BankTotal is the total every bank read must show; 0 infers it (see
	// package bank).
	BankTotal int64
	// LinearizabilityTimeout bounds porcupine's search per key of a register
	// or bank history. Default 10s; negative skips the check.
	LinearizabilityTimeout time.Duration
	// SearchBudget bounds each cycle search; see elle.Options.
	SearchBudget int
	// MaxPerType caps the anomalies kept per type; counts stay exact.
	// Default 100.
	MaxPerType int
}

// Result is the outcome of Check.
type Result struct {
	// Workload checked: list-append, rw-register or bank.
	Workload string
	// Transactions by outcome, and the number of keys.
	Ops, OK, Fail, Info, Keys int
	// Valid: no anomaly found.
	Valid bool
	// Counts per anomaly type.
	Counts map[string]int
	// Anomalies kept (at most Options.MaxPerType per type), in Rank order.
	Anomalies []anomaly.Anomaly
	// Notes state the assumptions made and the checks skipped.
	Notes []string

	h   *history.History
	lin *linear.Result
}

// Check runs every check that applies to h's workload. An *history.Error
// means the history is unusable (exit 2 in `meridian check`).
func Check(h *history.History, opts Options) (*Result, error) {
	if opts.MaxPerType == 0 {
		opts.MaxPerType = 100
	}
	if opts.LinearizabilityTimeout == 0 {
		opts.LinearizabilityTimeout = 10 * time.Second
	}
	w := opts.Workload
	if w == Auto {
		switch h.Workload {
		case history.Register:
			w = Register
		default:
			w = ListAppend
		}
	}
	switch {
	case w == ListAppend && h.Workload == history.Register,
		(w == Register || w == Bank) && h.Workload == history.ListAppend:
		return nil, &history.Error{Msg: fmt.Sprintf("history is %s, not %s", h.Workload, workloadName(w))}
	}
	r := &Result{Workload: workloadName(w), Counts: map[string]int{}, h: h}
	r.OK, r.Fail, r.Info = h.Counts()
	r.Ops = len(h.Ops)
	r.Keys = countKeys(h)
	var found []anomaly.Anomaly

	if w == ListAppend || w == Register {
		er, err := elle.Check(h, elle.Options{SearchBudget: opts.SearchBudget})
		if err != nil {
			return nil, err
		}
		found = append(found, er.Anomalies...)
		if w == ListAppend {
			r.note("list-append: each key's version order is its longest committed read; every read must be a prefix of it, and appended values are unique per key")
		} else {
			r.note("rw-register: values are unique per key; versions are ordered by the initial nil, by writes following reads within a transaction, and by their writers' real-time order; a read after the transaction's own write is checked only against that write")
		}
		r.note(fmt.Sprintf("dependency graph: %d transactions, %d edges, %d cyclic components", er.Nodes, er.Edges, er.Components))
	}
	if w == Bank {
		br := bank.Check(h, bank.Options{Total: opts.BankTotal})
		found = append(found, br.Anomalies...)
		r.Notes = append(r.Notes, br.Notes...)
	}
	if w == Register || w == Bank {
		if opts.LinearizabilityTimeout < 0 {
			r.note("per-key linearizability: skipped")
		} else {
			lr := linear.Check(h, linear.Options{Timeout: opts.LinearizabilityTimeout})
			r.lin = lr
			found = append(found, lr.Anomalies...)
			r.note(fmt.Sprintf("per-key linearizability: %d keys checked with porcupine", lr.Keys))
			for _, k := range lr.Unknown {
				r.note(fmt.Sprintf("per-key linearizability of %s: unknown (search timed out)", k))
			}
		}
	}
	tr := tsorder.Check(h)
	found = append(found, tr.Anomalies...)
	r.Notes = append(r.Notes, tr.Notes...)

	sortAnomalies(found)
	for _, a := range found {
		r.Counts[a.Type]++
		if r.Counts[a.Type] <= opts.MaxPerType {
			r.Anomalies = append(r.Anomalies, a)
		}
	}
	r.Valid = len(found) == 0
	return r, nil
}

func (r *Result) note(s string) { r.Notes = append(r.Notes, s) }

func workloadName(w Workload) string {
	switch w {
	case ListAppend:
		return "list-append"
	case Register:
		return "rw-register"
	case Bank:
		return "bank"
	}
	return "auto"
}

func countKeys(h *history.History) int {
	keys := make(map[history.Key]struct{})
	for i := range h.Ops {
		for _, m := range h.Ops[i].Mops {
			keys[m.Key] = struct{}{}
		}
	}
	return len(keys)
}
