package checker

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/meridiandb/meridian/checker/anomaly"
	"github.com/meridiandb/meridian/checker/history"
)

func sortAnomalies(as []anomaly.Anomaly) {
	slices.SortStableFunc(as, func(x, y anomaly.Anomaly) int {
		return anomaly.Rank(x.Type) - anomaly.Rank(y.Type)
	})
}

// countNames returns the anomaly types found, in report order.
func (r *Result) countNames() []string {
	names := make([]string, 0, len(r.Counts))
	for n := range r.Counts {
		names = append(names, n)
	}
	anomaly.SortNames(names)
	return names
}

// WriteText writes the human report, showing at most shown anomalies of each
// type (0: all kept).
func (r *Result) WriteText(w io.Writer, shown int) error {
	var b strings.Builder
	fmt.Fprintf(&b, "%s history: %s (%d ok, %d fail, %d info), %s\n",
		r.Workload, plural(r.Ops, "transaction", "transactions"), r.OK, r.Fail, r.Info, plural(r.Keys, "key", "keys"))
	if r.Valid {
		b.WriteString("valid: no anomalies found\n")
	} else {
		total := 0
		for _, n := range r.Counts {
			total += n
		}
		fmt.Fprintf(&b, "INVALID: %s\n", plural(total, "anomaly", "anomalies"))
		for _, n := range r.countNames() {
			fmt.Fprintf(&b, "  %-24s %d\n", n, r.Counts[n])
		}
	}
	perType := map[string]int{}
	num := 0
	for _, a := range r.Anomalies {
		perType[a.Type]++
		if shown > 0 && perType[a.Type] > shown {
			continue
		}
		num++
		fmt.Fprintf(&b, "\n#%d %s", num, a.Type)
		if a.Key != "" {
			fmt.Fprintf(&b, " on key %s", a.Key)
		}
		b.WriteByte('\n')
		for _, o := range uniqueOps(a.Ops) {
			b.WriteString("  ")
			b.WriteString(r.describeOp(o))
			b.WriteByte('\n')
		}
		for _, s := range a.Cycle {
			fmt.Fprintf(&b, "  %s -%s-> %s: %s\n", history.OpName(s.From), s.Kind, history.OpName(s.To), s.Why)
		}
		if a.Detail != "" {
			fmt.Fprintf(&b, "  %s\n", a.Detail)
		}
	}
	if hidden := r.hidden(perType, shown); hidden > 0 {
		fmt.Fprintf(&b, "\n(%d more not shown)\n", hidden)
	}
	if len(r.Notes) > 0 {
		b.WriteString("\nnotes:\n")
		for _, n := range r.Notes {
			fmt.Fprintf(&b, "  - %s\n", n)
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// hidden counts anomalies found but not shown, given how many of each type
// were kept and the per-type limit shown (0: no limit).
func (r *Result) hidden(kept map[string]int, shown int) int {
	n := 0
	for t, c := range r.Counts {
		if shown > 0 && kept[t] > shown {
			kept[t] = shown
		}
		n += c - kept[t]
	}
	return n
}

func uniqueOps(ops []int) []int {
	var out []int
	for _, o := range ops {
		if !slices.Contains(out, o) {
			out = append(out, o)
		}
	}
	return out
}

// describeOp is one line naming an op, its process, lines and micro-ops.
func (r *Result) describeOp(i int) string {
	op := &r.h.Ops[i]
	lines := fmt.Sprintf("line %d", op.InvokeLine)
	if op.CompleteLine > 0 {
		lines = fmt.Sprintf("lines %d-%d", op.InvokeLine, op.CompleteLine)
	}
	ts := ""
	if op.HasCommitTS {
		ts = fmt.Sprintf(" commit_ts %d", op.CommitTS)
	}
	return fmt.Sprintf("%s  process %d  %s  %s%s  %s", history.OpName(i), op.Process, lines, op.Type, ts, history.FormatMops(op.Mops))
}

// JSON report types.
type (
	jsonReport struct {
		Valid        bool           `json:"valid"`
		Workload     string         `json:"workload"`
		Transactions jsonCounts     `json:"transactions"`
		Keys         int            `json:"keys"`
		Counts       map[string]int `json:"counts"`
		Anomalies    []jsonAnomaly  `json:"anomalies"`
		Notes        []string       `json:"notes"`
	}
	jsonCounts struct {
		OK   int `json:"ok"`
		Fail int `json:"fail"`
		Info int `json:"info"`
	}
	jsonAnomaly struct {
		Type         string     `json:"type"`
		Key          string     `json:"key,omitempty"`
		Transactions []jsonOp   `json:"transactions"`
		Cycle        []jsonStep `json:"cycle,omitempty"`
		Detail       string     `json:"detail,omitempty"`
	}
	jsonOp struct {
		ID           string          `json:"id"`
		Process      int64           `json:"process"`
		Type         string          `json:"type"`
		InvokeLine   int             `json:"invoke_line"`
		CompleteLine int             `json:"complete_line,omitempty"`
		CommitTS     *int64          `json:"commit_ts,omitempty"`
		Value        json.RawMessage `json:"value"`
	}
	jsonStep struct {
		From string `json:"from"`
		To   string `json:"to"`
		Kind string `json:"kind"`
		Why  string `json:"why"`
	}
)

// WriteJSON writes the machine-readable report.
func (r *Result) WriteJSON(w io.Writer) error {
	rep := jsonReport{
		Valid: r.Valid, Workload: r.Workload, Keys: r.Keys, Counts: r.Counts, Notes: r.Notes,
		Transactions: jsonCounts{OK: r.OK, Fail: r.Fail, Info: r.Info},
		Anomalies:    []jsonAnomaly{},
	}
	for _, a := range r.Anomalies {
		ja := jsonAnomaly{Type: a.Type, Key: a.Key, Detail: a.Detail}
		for _, o := range uniqueOps(a.Ops) {
			ja.Transactions = append(ja.Transactions, r.jsonOp(o))
		}
		for _, s := range a.Cycle {
			ja.Cycle = append(ja.Cycle, jsonStep{From: history.OpName(s.From), To: history.OpName(s.To), Kind: s.Kind, Why: s.Why})
		}
		rep.Anomalies = append(rep.Anomalies, ja)
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(rep)
}

func (r *Result) jsonOp(i int) jsonOp {
	op := &r.h.Ops[i]
	j := jsonOp{ID: history.OpName(i), Process: op.Process, Type: op.Type.String(), InvokeLine: op.InvokeLine, CompleteLine: op.CompleteLine}
	if op.HasCommitTS {
		ts := op.CommitTS
		j.CommitTS = &ts
	}
	j.Value = history.AppendMops(nil, op.Mops)
	return j
}

// ErrNoVisualization: the history has no register linearizability check to
// visualize (it is list-append, or the check was skipped).
var ErrNoVisualization = errors.New("no linearizability check to visualize: only rw-register and bank histories have one")

// WriteHTML writes porcupine's visualization of the per-key register check:
// the violating keys if any, else every key.
func (r *Result) WriteHTML(w io.Writer) error {
	if r.lin == nil {
		return ErrNoVisualization
	}
	return r.lin.WriteHTML(w)
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}
