package report

import (
	"encoding/csv"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/meridiandb/meridian/geo-sim/faults"
	"github.com/meridiandb/meridian/geo-sim/results"
)

// Files lists what Write produced, relative to its directory.
type Files []string

// Write renders run into dir (created if missing): summary.md, ops.csv,
// latencies.csv, throughput.csv, breakdown.csv, nodes.csv and the plots.
// It returns the files written.
func Write(dir string, run *results.Run) (Files, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	var files Files
	steps := []struct {
		name string
		fn   func(string, *results.Run) error
	}{
		{"ops.csv", writeOpsCSV},
		{"latencies.csv", writeLatenciesCSV},
		{"throughput.csv", writeThroughputCSV},
		{"breakdown.csv", writeBreakdownCSV},
		{"nodes.csv", writeNodesCSV},
		{"throughput.png", plotThroughput},
		{"breakdown.png", plotBreakdown},
	}
	for _, s := range steps {
		if err := s.fn(filepath.Join(dir, s.name), run); err != nil {
			return files, fmt.Errorf("writing %s: %w", s.name, err)
		}
		files = append(files, s.name)
	}
	for _, op := range run.OpNames() {
		name := "latency_cdf_" + FileSafe(op) + ".png"
		if err := plotCDF(filepath.Join(dir, name), run, op); err != nil {
			return files, fmt.Errorf("writing %s: %w", name, err)
		}
		files = append(files, name)
	}
	files = append(files, "summary.md")
	if err := os.WriteFile(filepath.Join(dir, "summary.md"), []byte(Summary(run, files)), 0o644); err != nil {
		return files, err
	}
	return files, nil
}

var unsafeChars = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

// FileSafe turns s into a file name part.
func FileSafe(s string) string { return unsafeChars.ReplaceAllString(s, "_") }

// Ms formats d in milliseconds with a sensible precision.
func Ms(d time.Duration) string {
	m := msOf(d)
	switch {
	case m == 0:
		return "0"
	case m < 10:
		return strconv.FormatFloat(m, 'f', 2, 64)
	case m < 100:
		return strconv.FormatFloat(m, 'f', 1, 64)
	}
	return strconv.FormatFloat(m, 'f', 0, 64)
}

// WriteCSV writes rows (the first one the header) to path.
func WriteCSV(path string, rows [][]string) error { return writeCSV(path, rows) }

func writeCSV(path string, rows [][]string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := csv.NewWriter(f)
	if err := w.WriteAll(rows); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func msCell(d time.Duration) string { return strconv.FormatFloat(msOf(d), 'f', 3, 64) }

func writeOpsCSV(path string, run *results.Run) error {
	rows := [][]string{{"op", "region", "kind", "gateway", "count", "errors", "ops_per_s", "mean_ms", "p50_ms", "p95_ms", "p99_ms", "max_ms",
		"bound_ms", "p50_over_bound", "bound_critical", "bound_client_ms", "bound_gateway_ms", "bound_quorum_ms", "bound_commit_wait_ms", "bound_prepare_ms", "bound_error"}}
	for _, o := range run.Ops {
		b := o.Bound
		rows = append(rows, []string{o.Op, o.Region, o.Kind.String(), strconv.Itoa(o.Gateway), strconv.Itoa(o.Count()), strconv.Itoa(o.Errors),
			strconv.FormatFloat(o.Throughput(run.Duration), 'f', 2, 64), msCell(o.Mean()), msCell(o.Percentile(50)), msCell(o.Percentile(95)),
			msCell(o.Percentile(99)), msCell(o.Percentile(100)), msCell(b.Total), strconv.FormatFloat(o.Ratio(), 'f', 3, 64), b.Critical,
			msCell(b.Client), msCell(b.Gateway), msCell(b.Quorum), msCell(b.CommitWait), msCell(b.Participants), o.BoundErr})
	}
	return writeCSV(path, rows)
}

func writeLatenciesCSV(path string, run *results.Run) error {
	rows := [][]string{{"op", "region", "start_ms", "latency_ms"}}
	for _, o := range run.Ops {
		for _, s := range o.Samples {
			rows = append(rows, []string{o.Op, o.Region, msCell(s.Start), msCell(s.Latency)})
		}
	}
	return writeCSV(path, rows)
}

func writeThroughputCSV(path string, run *results.Run) error {
	rows := [][]string{{"t_s", "op", "region", "ops_per_s", "errors_per_s"}}
	n := int(run.Duration / run.Bucket)
	for _, o := range run.Ops {
		for i := range n {
			rows = append(rows, []string{strconv.FormatFloat(float64(i)*run.Bucket.Seconds(), 'f', 2, 64), o.Op, o.Region,
				strconv.FormatFloat(float64(at(o.Buckets, i))/run.Bucket.Seconds(), 'f', 1, 64),
				strconv.FormatFloat(float64(at(o.ErrBuckets, i))/run.Bucket.Seconds(), 'f', 1, 64)})
		}
	}
	return writeCSV(path, rows)
}

func at(b []int, i int) int {
	if i < len(b) {
		return b[i]
	}
	return 0
}

func writeBreakdownCSV(path string, run *results.Run) error {
	rows := [][]string{append([]string{"op", "region", "source", "mean_ms"}, PartNames...)}
	for _, o := range run.Ops {
		parts, measured := Breakdown(run, o)
		if parts == nil {
			continue
		}
		src := "estimated"
		if measured {
			src = "ledger"
		}
		row := []string{o.Op, o.Region, src, msCell(o.Mean())}
		for _, name := range PartNames {
			var d time.Duration
			for _, p := range parts {
				if p.Name == name {
					d = p.D
				}
			}
			row = append(row, msCell(d))
		}
		rows = append(rows, row)
	}
	return writeCSV(path, rows)
}

func writeNodesCSV(path string, run *results.Run) error {
	rows := [][]string{{"node", "region", "leases", "raft_proposals", "mean_proposal_ms"}}
	for _, n := range run.Nodes {
		rows = append(rows, []string{strconv.Itoa(n.Node), n.Region, strconv.Itoa(n.Leases), strconv.FormatInt(n.Proposals, 10), msCell(n.MeanProposal)})
	}
	return writeCSV(path, rows)
}

// plotCDF draws the latency CDF of op, one line per region, with each
// region's bound dashed.
func plotCDF(path string, run *results.Run, op string) error {
	lp := LinePlot{Title: fmt.Sprintf("%s latency by client region (%s)", op, run.Name), XLabel: "latency (ms)", YLabel: "fraction of operations", LegendBottom: true}
	lo, hi := math.Inf(1), 0.0
	for _, o := range run.Ops {
		if o.Op == op && o.Count() > 0 {
			lo = math.Min(lo, math.Min(msOf(o.Percentile(1)), msOf(o.Bound.Total)))
			hi = math.Max(hi, msOf(o.Percentile(100)))
		}
	}
	if lo > 0 && hi/lo > 8 {
		lp.LogX, lp.XLabel = true, "latency (ms, log scale)"
	}
	ci := 0
	for _, o := range run.Ops {
		if o.Op != op {
			continue
		}
		l := o.Latencies()
		if len(l) > 0 {
			s := Series{Name: o.Region, Color: ci}
			step := max(1, len(l)/500)
			for i := 0; i < len(l); i += step {
				s.X = append(s.X, math.Max(msOf(l[i]), 0.01))
				s.Y = append(s.Y, float64(i+1)/float64(len(l)))
			}
			s.X = append(s.X, math.Max(msOf(l[len(l)-1]), 0.01))
			s.Y = append(s.Y, 1)
			lp.Series = append(lp.Series, s)
			if o.Bound.Total > 0 {
				b := math.Max(msOf(o.Bound.Total), 0.01)
				lp.Series = append(lp.Series, Series{Name: o.Region + " bound", X: []float64{b, b}, Y: []float64{0, 1}, Dashed: true, Color: ci})
			}
		}
		ci++
	}
	return lp.Save(path)
}

// plotThroughput draws successful operations per second over time, per
// region and in all, with the faults marked.
func plotThroughput(path string, run *results.Run) error {
	lp := LinePlot{Title: "throughput over time (" + run.Name + ")", XLabel: "time (s)", YLabel: "operations per second"}
	n := int(run.Duration / run.Bucket)
	sec := run.Bucket.Seconds()
	byRegion := map[string][]int{}
	for _, o := range run.Ops {
		b := byRegion[o.Region]
		for i := range n {
			for len(b) <= i {
				b = append(b, 0)
			}
			b[i] += at(o.Buckets, i)
		}
		byRegion[o.Region] = b
	}
	total := make([]float64, n)
	for ci, r := range run.Regions {
		s := Series{Name: r, Color: ci + 1}
		for i := range n {
			v := float64(at(byRegion[r], i)) / sec
			s.X = append(s.X, float64(i)*sec)
			s.Y = append(s.Y, v)
			total[i] += v
		}
		if len(run.Regions) > 1 {
			lp.Series = append(lp.Series, s)
		}
	}
	all := Series{Name: "all regions", Color: 0}
	for i := range n {
		all.X = append(all.X, float64(i)*sec)
		all.Y = append(all.Y, total[i])
	}
	lp.Series = append([]Series{all}, lp.Series...)
	// Buckets shorter than a second are noisy at low rates: plot a centred
	// moving average over about a second (throughput.csv has the raw
	// buckets).
	if w := int(math.Round(1 / sec)); w > 1 {
		for i := range lp.Series {
			lp.Series[i].Y = movingAverage(lp.Series[i].Y, w)
		}
		lp.Title += fmt.Sprintf(", %gs moving average", float64(w)*sec)
	}
	for _, f := range run.Faults {
		lp.Markers = append(lp.Markers, Marker{X: f.At.Seconds(), Label: faultLabel(f)})
	}
	return lp.Save(path)
}

// movingAverage returns the centred moving average of v over w points.
func movingAverage(v []float64, w int) []float64 {
	out := make([]float64, len(v))
	for i := range v {
		lo, hi := max(0, i-w/2), min(len(v), i-w/2+w)
		sum := 0.0
		for _, x := range v[lo:hi] {
			sum += x
		}
		out[i] = sum / float64(hi-lo)
	}
	return out
}

func faultLabel(a faults.Applied) string {
	s := strings.TrimSpace(a.String())
	if i := strings.Index(s, "s "); i >= 0 {
		s = s[i+2:]
	}
	return strings.TrimSuffix(s, " (the leaseholder)")
}

// plotBreakdown draws each operation and region's mean latency as stacked
// parts.
func plotBreakdown(path string, run *results.Run) error {
	sp := StackPlot{Title: "where the time went: mean latency (" + run.Name + ")", YLabel: "ms", LayerNames: PartNames}
	sp.Layers = make([][]float64, len(PartNames))
	for _, o := range run.Ops {
		parts, measured := Breakdown(run, o)
		if parts == nil {
			continue
		}
		cat := o.Op + "\n" + o.Region
		if !measured {
			cat += "*"
		}
		sp.Categories = append(sp.Categories, cat)
		for i, name := range PartNames {
			v := 0.0
			for _, p := range parts {
				if p.Name == name {
					v = msOf(p.D)
				}
			}
			sp.Layers[i] = append(sp.Layers[i], v)
		}
	}
	if len(sp.Categories) == 0 {
		sp.Categories = []string{"no successful operations"}
		for i := range sp.Layers {
			sp.Layers[i] = []float64{0}
		}
		sp.Layers[0][0] = 0
	}
	if slices.ContainsFunc(sp.Categories, func(c string) bool { return strings.HasSuffix(c, "*") }) {
		sp.Title += "  (* estimated)"
	}
	return sp.Save(path)
}
