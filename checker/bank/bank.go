package bank

import (
	"fmt"

	"github.com/meridiandb/meridian/checker/anomaly"
	"github.com/meridiandb/meridian/checker/history"
)

// Options configures Check.
type Options struct {
	// Total is the expected total balance; 0 infers it.
	Total int64
}

// Result is what Check found.
type Result struct {
	Anomalies []anomaly.Anomaly
	Notes     []string
	// Total is the total the reads were checked against.
	Total int64
	// Reads is the number of full reads checked.
	Reads int
}

// Check checks every full read of h.
func Check(h *history.History, opts Options) *Result {
	r := &Result{Total: opts.Total}
	accounts := map[history.Key]bool{}
	setup := -1
	for i := range h.Ops {
		op := &h.Ops[i]
		for _, m := range op.Mops {
			accounts[m.Key] = true
		}
		if setup < 0 && op.Type == history.OK && blindWrites(op) {
			setup = i
		}
	}
	// source says where the total came from; empty until it is known.
	var source string
	switch {
	case opts.Total != 0:
		source = "given"
	case setup >= 0:
		for _, m := range h.Ops[setup].Mops {
			r.Total += m.Value
		}
		source = "set up by " + history.OpName(setup)
	}
	for i := range h.Ops {
		op := &h.Ops[i]
		if op.Type != history.OK || !op.ReadOnly() {
			continue
		}
		var sum int64
		seen := map[history.Key]bool{}
		var missing []string
		for _, m := range op.Mops {
			if m.Nil {
				missing = append(missing, m.Key.String())
				continue
			}
			if !seen[m.Key] {
				sum += m.Value
			}
			seen[m.Key] = true
		}
		if len(seen)+len(missing) < len(accounts) {
			continue // not a full read
		}
		r.Reads++
		if source == "" {
			r.Total, source = sum, fmt.Sprintf("read by %s, the first full read", history.OpName(i))
		}
		if len(missing) > 0 || sum != r.Total {
			detail := fmt.Sprintf("%s read balances summing to %d, not %d", history.OpName(i), sum, r.Total)
			if len(missing) > 0 {
				detail += fmt.Sprintf("; accounts %v were nil", missing)
			}
			r.Anomalies = append(r.Anomalies, anomaly.Anomaly{Type: anomaly.BankTotal, Ops: []int{i}, Detail: detail})
		}
	}
	if source == "" {
		source = "no setup and no full read"
	}
	r.Notes = append(r.Notes, fmt.Sprintf("bank: %d accounts, total %d (%s), %d full reads checked", len(accounts), r.Total, source, r.Reads))
	return r
}

func blindWrites(op *history.Op) bool {
	if len(op.Mops) == 0 {
		return false
	}
	for _, m := range op.Mops {
		if m.F != history.Write || m.Nil {
			return false
		}
	}
	return true
}
