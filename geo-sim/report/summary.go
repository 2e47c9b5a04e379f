package report

import (
	"fmt"
	"strings"

	"github.com/meridiandb/meridian/geo-sim/results"
)

// Table is a Markdown table.
type Table struct {
	Header []string
	Rows   [][]string
}

// Add appends a row.
func (t *Table) Add(cells ...string) { t.Rows = append(t.Rows, cells) }

// String renders the table with aligned columns.
func (t *Table) String() string {
	w := make([]int, len(t.Header))
	for i, h := range t.Header {
		w[i] = len([]rune(h))
	}
	for _, r := range t.Rows {
		for i, c := range r {
			if i < len(w) {
				w[i] = max(w[i], len([]rune(c)))
			}
		}
	}
	var sb strings.Builder
	line := func(cells []string) {
		sb.WriteString("|")
		for i := range w {
			c := ""
			if i < len(cells) {
				c = cells[i]
			}
			fmt.Fprintf(&sb, " %s%s |", c, strings.Repeat(" ", w[i]-len([]rune(c))))
		}
		sb.WriteString("\n")
	}
	line(t.Header)
	sb.WriteString("|")
	for i := range w {
		sb.WriteString(strings.Repeat("-", w[i]+2) + "|")
	}
	sb.WriteString("\n")
	for _, r := range t.Rows {
		line(r)
	}
	return sb.String()
}

// Ratio formats a measured/bound ratio ("-" if there is none).
func Ratio(r float64) string {
	if r == 0 {
		return "-"
	}
	return fmt.Sprintf("%.2f×", r)
}

// LatencyTable is the per operation and region table of a run.
func LatencyTable(run *results.Run) *Table {
	t := &Table{Header: []string{"op", "region", "ops/s", "p50 ms", "p95 ms", "p99 ms", "bound ms", "p50/bound", "errors"}}
	for _, o := range run.Ops {
		bound := Ms(o.Bound.Total)
		if o.BoundErr != "" {
			bound = "?"
		}
		t.Add(o.Op, o.Region, fmt.Sprintf("%.1f", o.Throughput(run.Duration)), Ms(o.Percentile(50)), Ms(o.Percentile(95)),
			Ms(o.Percentile(99)), bound, Ratio(o.Ratio()), fmt.Sprint(o.Errors))
	}
	return t
}

// Summary renders run as Markdown; files are listed and the PNGs shown.
func Summary(run *results.Run, files Files) string {
	var sb strings.Builder
	fmt.Fprintf(&sb, "# geo-sim: %s\n\n", run.Name)
	fmt.Fprintf(&sb, "- topology: %s\n", run.Topology)
	fmt.Fprintf(&sb, "- workload: %s; placement: %s; %d client(s) in each of %s\n", run.Workload, run.Placement, run.ClientsPerRegion, strings.Join(run.Regions, ", "))
	fmt.Fprintf(&sb, "- measured %s after a %s warm-up; seed %d; claimed ε %s\n\n", run.Duration, run.Warmup, run.Seed, run.Epsilon)

	sb.WriteString("## Latency and throughput\n\n")
	sb.WriteString("The bound is the physical lower bound of the operation from the topology and where its ranges were " +
		"when the run started; p50/bound is how far above it the median is.\n\n")
	sb.WriteString(LatencyTable(run).String())
	sb.WriteString("\nBounds, term by term:\n\n")
	bt := &Table{Header: []string{"op", "region", "ranges (leaseholder: voters)", "bound"}}
	for _, o := range run.Ops {
		b := o.Bound.String()
		if o.BoundErr != "" {
			b = "unknown: " + o.BoundErr
		}
		var rs []string
		for _, r := range o.Ranges {
			rs = append(rs, fmt.Sprintf("n%d: %v", r.Leaseholder, r.Voters))
		}
		bt.Add(o.Op, o.Region, strings.Join(rs, "; "), b)
	}
	sb.WriteString(bt.String())

	sb.WriteString("\n## Where the time went\n\n")
	wt := &Table{Header: append([]string{"op", "region", "source", "mean ms"}, PartNames...)}
	estimated := false
	for _, o := range run.Ops {
		parts, measured := Breakdown(run, o)
		if parts == nil {
			continue
		}
		src := "ledger"
		if !measured {
			src, estimated = "estimate", true
		}
		row := []string{o.Op, o.Region, src, Ms(o.Mean())}
		for _, name := range PartNames {
			cell := ""
			for _, p := range parts {
				if p.Name == name {
					cell = Ms(p.D)
				}
			}
			row = append(row, cell)
		}
		wt.Add(row...)
	}
	sb.WriteString(wt.String())
	if estimated {
		sb.WriteString("\nEstimates (operations without a transaction ledger): client↔gateway is measured; network is the " +
			"topology's gateway↔leaseholder round trip; raft is the leaseholder's mean proposal-to-apply time from its " +
			"store metrics; other is the rest: commit wait beyond replication, link jitter, scheduling.\n")
	}

	var errs []string
	for _, o := range run.Ops {
		for _, e := range o.ErrorExamples {
			errs = append(errs, fmt.Sprintf("- %s from %s: %s", o.Op, o.Region, e))
		}
	}
	if len(errs) > 0 {
		sb.WriteString("\n## Errors (examples)\n\n" + strings.Join(errs, "\n") + "\n")
	}
	if len(run.Faults) > 0 {
		sb.WriteString("\n## Faults\n\n")
		for _, f := range run.Faults {
			fmt.Fprintf(&sb, "- %s\n", strings.TrimSpace(f.String()))
		}
	}
	if len(run.Notes) > 0 {
		sb.WriteString("\n## Notes\n\n")
		for _, n := range run.Notes {
			fmt.Fprintf(&sb, "- %s\n", n)
		}
	}
	sb.WriteString("\n## Nodes\n\n")
	nt := &Table{Header: []string{"node", "region", "leases", "raft proposals", "mean proposal ms"}}
	for _, n := range run.Nodes {
		nt.Add(fmt.Sprintf("n%d", n.Node), n.Region, fmt.Sprint(n.Leases), fmt.Sprint(n.Proposals), Ms(n.MeanProposal))
	}
	sb.WriteString(nt.String())

	sb.WriteString("\n## Plots\n\n")
	for _, f := range files {
		if strings.HasSuffix(f, ".png") {
			fmt.Fprintf(&sb, "![%s](%s)\n\n", strings.TrimSuffix(f, ".png"), f)
		}
	}
	sb.WriteString("## Files\n\n")
	for _, f := range files {
		fmt.Fprintf(&sb, "- [%s](%s)\n", f, f)
	}
	return sb.String()
}

// Headline returns the one-line result of an operation in a region, e.g.
// "write from us-east: p50 74.7ms, bound 71ms, ratio 1.05×".
func Headline(o *results.OpStats) string {
	return fmt.Sprintf("%s from %s: p50 %sms, bound %sms, ratio %s (%d ops)", o.Op, o.Region, Ms(o.Percentile(50)), Ms(o.Bound.Total), Ratio(o.Ratio()), o.Count())
}
