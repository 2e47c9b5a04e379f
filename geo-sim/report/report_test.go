package report

import (
	"bytes"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/meridiandb/meridian/geo-sim/bounds"
	"github.com/meridiandb/meridian/geo-sim/faults"
	"github.com/meridiandb/meridian/geo-sim/results"
	"github.com/meridiandb/meridian/txn"
)

const ms = time.Millisecond

// fakeRun is a small run with and without ledgers.
func fakeRun() *results.Run {
	run := &results.Run{Name: "test run", Topology: "t: a(1) b(1)", Workload: "kv", Placement: "leader=a", Seed: 7,
		ClientsPerRegion: 2, Regions: []string{"a", "b"}, Duration: 2 * time.Second, Warmup: time.Second, Bucket: 500 * ms,
		Epsilon: ms, Nodes: []results.NodeStats{{Node: 1, Region: "a", Proposals: 10, MeanProposal: 70 * ms, Leases: 2}, {Node: 2, Region: "b"}}}
	w := &results.OpStats{Op: "write", Region: "a", Kind: bounds.Write, Gateway: 1,
		Ranges: []bounds.Range{{Leaseholder: 1, Voters: []int{1, 2}}},
		Bound:  bounds.Bound{Total: 71 * ms, Client: ms, Quorum: 70 * ms, CommitWait: 2 * ms, Critical: "quorum"}}
	for i := range 100 {
		w.Samples = append(w.Samples, results.Sample{Start: time.Duration(i) * 20 * ms, Latency: time.Duration(72+i%5) * ms})
		w.ClientNetwork += ms
	}
	w.Buckets = []int{25, 25, 25, 25}
	r := &results.OpStats{Op: "transfer", Region: "b", Kind: bounds.Commit2PC, Gateway: 2, BoundErr: "no range holds it", Errors: 2,
		ErrorExamples: []string{"boom"}}
	for i := range 10 {
		r.Samples = append(r.Samples, results.Sample{Start: time.Duration(i) * 100 * ms, Latency: 150 * ms})
		r.AddLedger(txn.Ledger{Total: 148 * ms, Network: 70 * ms, Raft: 70 * ms, CommitWait: 2 * ms})
		r.ClientNetwork += 2 * ms
	}
	r.Buckets = []int{3, 2, 3, 2}
	run.Ops = []*results.OpStats{w, r}
	run.Faults = []faults.Applied{{Event: faults.Event{At: 500 * ms, Kind: faults.Kill, Node: faults.Leaseholder}, Node: 1, At: 510 * ms}}
	run.Notes = []string{"a note"}
	return run
}

func TestWrite(t *testing.T) {
	dir := t.TempDir()
	run := fakeRun()
	files, err := Write(dir, run)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"summary.md", "ops.csv", "latencies.csv", "throughput.csv", "breakdown.csv", "nodes.csv",
		"throughput.png", "breakdown.png", "latency_cdf_write.png", "latency_cdf_transfer.png"} {
		data, err := os.ReadFile(filepath.Join(dir, f))
		if err != nil {
			t.Fatalf("%s: %v (files %v)", f, err, files)
		}
		if strings.HasSuffix(f, ".png") {
			img, err := png.Decode(bytes.NewReader(data))
			if err != nil || img.Bounds().Dx() < 500 {
				t.Errorf("%s is not a sizeable PNG: %v", f, err)
			}
		}
	}
	sum, _ := os.ReadFile(filepath.Join(dir, "summary.md"))
	for _, want := range []string{
		"| write    | a      | 50.0  | 74.0   |", // 100 ops in 2s; median of 72..76
		"71.0", "1.04×", "estimate", "ledger", "boom", "kill n1", "a note", "![throughput](throughput.png)",
		"unknown: no range holds it",
	} {
		if !strings.Contains(string(sum), want) {
			t.Errorf("summary lacks %q:\n%s", want, sum)
		}
	}
	ops, _ := os.ReadFile(filepath.Join(dir, "ops.csv"))
	if !strings.Contains(string(ops), "write,a,write,1,100,0,50.00,74.000,74.000,76.000,76.000,76.000,71.000,1.042,quorum") {
		t.Errorf("ops.csv:\n%s", ops)
	}
}

func TestBreakdown(t *testing.T) {
	run := fakeRun()
	parts, measured := Breakdown(run, run.Ops[0])
	if measured {
		t.Error("plain writes have no ledgers, yet the breakdown is measured")
	}
	got := map[string]time.Duration{}
	var sum time.Duration
	for _, p := range parts {
		got[p.Name] = p.D
		sum += p.D
	}
	if got["client↔gateway"] != ms || got["raft"] != 70*ms || sum != run.Ops[0].Mean() {
		t.Errorf("estimate %v (sum %s, mean %s)", parts, sum, run.Ops[0].Mean())
	}
	parts, measured = Breakdown(run, run.Ops[1])
	got = map[string]time.Duration{}
	for _, p := range parts {
		got[p.Name] = p.D
	}
	if !measured || got["raft"] != 70*ms || got["client↔gateway"] != 2*ms || got["other"] != 6*ms {
		t.Errorf("ledger breakdown %v", parts)
	}
}

func TestTable(t *testing.T) {
	tb := &Table{Header: []string{"a", "long header"}}
	tb.Add("ε", "1")
	want := "| a | long header |\n|---|-------------|\n| ε | 1           |\n"
	if got := tb.String(); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}

// TestGroupedBarsLog draws a log-scale chart of latencies from under a
// millisecond to seconds.
func TestGroupedBarsLog(t *testing.T) {
	path := filepath.Join(t.TempDir(), "bars.png")
	gb := GroupedBars{Title: "t", YLabel: "ms", LogY: true, Categories: []string{"a", "b", "c"}, Groups: []string{"x", "y"},
		Values: [][]float64{{0.5, 70, 3000}, {2, 0, 150}}}
	if err := gb.Save(path); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := png.Decode(f); err != nil {
		t.Fatalf("not a PNG: %v", err)
	}
	ticks := log10Ticks{}.Ticks(0, 3.5)
	var labels []string
	for _, tk := range ticks {
		labels = append(labels, tk.Label)
	}
	if got := strings.Join(labels, " "); got != "1 2 5 10 20 50 100 200 500 1000 2000" {
		t.Errorf("log ticks %q", got)
	}
}
