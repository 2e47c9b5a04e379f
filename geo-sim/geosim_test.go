package geosim

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/meridiandb/meridian/geo-sim/results"
	"github.com/meridiandb/meridian/geo-sim/runner"
	"github.com/meridiandb/meridian/geo-sim/workload"
	"github.com/meridiandb/meridian/server"
	"github.com/meridiandb/meridian/txn"
)

// TestRunLocal3 is the end-to-end path of `meridian geosim run`: a kv
// workload on local3, and its report.
func TestRunLocal3(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a cluster")
	}
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	run, err := Run(ctx, RunOptions{Topology: "local3", Placement: "replicas=3", Workload: "kv", Mix: "write=1,read=1,snapshot-read=1",
		ClientsPerRegion: 2, Duration: 1500 * time.Millisecond, Warmup: 300 * time.Millisecond, Seed: 5, ReportDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	for _, op := range []string{"write", "read", "snapshot-read"} {
		o := run.Op(op, "local")
		if o == nil || o.Count() == 0 || o.Bound.Total == 0 || o.Ratio() < 1 {
			t.Errorf("%s: %+v", op, o)
		}
	}
	checkReport(t, dir, "write", "snapshot-read")
}

// TestRunGlobal3 checks the acceptance setting on global3: leases in
// us-east, clients in us-east; the report states the commit's ratio to
// its bound.
func TestRunGlobal3(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a cluster")
	}
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	run, err := Run(ctx, RunOptions{Topology: "global3", Placement: "leader=us-east", Workload: "kv", ClientsPerRegion: 2,
		Regions: []string{"us-east"}, Duration: 1500 * time.Millisecond, Warmup: 500 * time.Millisecond, ReportDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	o := run.Op("write", "us-east")
	if o == nil || o.Count() < 10 {
		t.Fatalf("write from us-east: %+v", o)
	}
	if o.Bound.Total != 71*time.Millisecond || o.Bound.Critical != "quorum" {
		t.Errorf("bound %v, want 71ms = client 1ms + quorum 70ms", o.Bound)
	}
	// Speed is not asserted (tests never time things), only that the
	// physics holds and the report says how far above it we are.
	if o.Percentile(50) < o.Bound.Total {
		t.Errorf("median %s beats the bound %s", o.Percentile(50), o.Bound.Total)
	}
	t.Logf("global3 write from us-east: p50 %s, bound %s, ratio %.3f", o.Percentile(50), o.Bound.Total, o.Ratio())
	sum := checkReport(t, dir, "write")
	if !strings.Contains(sum, "| write | us-east |") || !strings.Contains(sum, "71.0") || !strings.Contains(sum, "max(quorum 70ms, 2ε 2ms)") {
		t.Errorf("summary lacks the write's bound and ratio:\n%s", sum)
	}
}

// txnLayers reaches each node's transaction gateway, as the command does.
func txnLayers() runner.Layers {
	return runner.Layers{TxnDB: func(n *server.Node) (txn.DB, error) { return n.TxnDB(), nil }}
}

// TestTransactionalWorkloads runs the bank and the kv workload's
// transactions over the transaction layer on local3.
func TestTransactionalWorkloads(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a cluster")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	for _, c := range []struct{ workload, mix string }{{"bank", ""}, {"kv", "txn-write=1,ro-txn=1"}} {
		run, err := Run(ctx, RunOptions{Topology: "local3", Workload: c.workload, Mix: c.mix, ClientsPerRegion: 3,
			Duration: 1500 * time.Millisecond, Warmup: 300 * time.Millisecond, ReportDir: t.TempDir(), Layers: txnLayers()})
		if err != nil {
			t.Fatalf("%s: %v", c.workload, err)
		}
		for _, o := range run.Ops {
			if o.Count() == 0 || o.LedgerCount != o.Count() {
				t.Errorf("%s %s: %d ops, %d ledgers, errors %v", c.workload, o.Op, o.Count(), o.LedgerCount, o.ErrorExamples)
			}
		}
		if c.workload == "bank" && !slices.Contains(run.Notes, "bank verification passed") {
			t.Errorf("bank notes: %v", run.Notes)
		}
	}
}

func checkReport(t *testing.T, dir string, ops ...string) string {
	t.Helper()
	files := []string{"summary.md", "ops.csv", "latencies.csv", "throughput.csv", "breakdown.csv", "throughput.png", "breakdown.png"}
	for _, op := range ops {
		files = append(files, "latency_cdf_"+op+".png")
	}
	for _, f := range files {
		if st, err := os.Stat(filepath.Join(dir, f)); err != nil || st.Size() == 0 {
			t.Errorf("report file %s: %v", f, err)
		}
	}
	sum, _ := os.ReadFile(filepath.Join(dir, "summary.md"))
	return string(sum)
}

func TestRunOptionErrors(t *testing.T) {
	ctx := context.Background()
	for _, o := range []RunOptions{
		{ReportDir: ""},
		{ReportDir: "x", Topology: "no-such"},
		{ReportDir: "x", Topology: "local3", Placement: "leader=mars"},
		{ReportDir: "x", Topology: "local3", Workload: "chess"},
		{ReportDir: "x", Topology: "local3", Mix: "fly=1"},
		{ReportDir: "x", Topology: "local3", Faults: "/no/such/file"},
	} {
		if _, err := Run(ctx, o); err == nil {
			t.Errorf("%+v: no error", o)
		}
	}
}

// TestNeedsLayers: workloads and scenarios that need transactions say so.
func TestNeedsLayers(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a cluster")
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	_, err := Run(ctx, RunOptions{Topology: "local3", Workload: "bank", ReportDir: t.TempDir(), Duration: time.Second})
	if !errors.Is(err, workload.ErrNeedsTxnLayer) {
		t.Errorf("bank without txn: %v", err)
	}
	_, err = RunScenario(ctx, "spanner-table4", Env{ReportDir: t.TempDir()})
	if !errors.Is(err, workload.ErrNeedsTxnLayer) || !strings.Contains(err.Error(), "42.7") {
		t.Errorf("table4 without txn: %v", err)
	}
	_, err = RunScenario(ctx, "placement", Env{ReportDir: t.TempDir()})
	if !errors.Is(err, workload.ErrNeedsSQL) || !strings.Contains(err.Error(), "marketplace") {
		t.Errorf("placement without SQL: %v", err)
	}
}

func TestScenarioLookup(t *testing.T) {
	for _, name := range []string{"spanner-table3", "spanner-table4", "epsilon-sweep", "placement", "failover", "lying-clock"} {
		if _, err := Lookup(name); err != nil {
			t.Error(err)
		}
	}
	if _, err := Lookup("nope"); err == nil || !strings.Contains(err.Error(), "epsilon-sweep") {
		t.Errorf("unknown scenario: %v", err)
	}
}

func TestMeasuredKnee(t *testing.T) {
	eps := []float64{0.5, 1, 2, 5, 10, 35, 40, 50}
	lat := []float64{75, 74, 75, 75, 74, 76, 83, 103}
	if k := MeasuredKnee(eps, lat); k != 40 {
		t.Errorf("knee %v, want 40", k)
	}
	if k := MeasuredKnee(eps, []float64{75, 75, 75, 75, 75, 75, 75, 75}); k != 0 {
		t.Errorf("flat curve has knee %v", k)
	}
}

func TestMeasureRecovery(t *testing.T) {
	b := 250 * time.Millisecond
	run := &results.Run{Duration: 10 * time.Second, Bucket: b}
	o := &results.OpStats{}
	// 40 ops/s until 4s, nothing until 6s, 20/s until 7s, then 40/s.
	for i := range 40 {
		switch {
		case i < 16:
			o.Buckets = append(o.Buckets, 10)
		case i < 24:
			o.Buckets = append(o.Buckets, 0)
		case i < 28:
			o.Buckets = append(o.Buckets, 5)
		default:
			o.Buckets = append(o.Buckets, 10)
		}
	}
	o.Samples = []results.Sample{{Start: 3 * time.Second, Latency: 100 * time.Millisecond}, {Start: 5900 * time.Millisecond, Latency: 200 * time.Millisecond}}
	run.Ops = []*results.OpStats{o}
	r := MeasureRecovery(run, 4*time.Second)
	if r.Before != 40 || r.FirstOK != 2100*time.Millisecond || r.Restored != 3*time.Second {
		t.Errorf("recovery %+v, want before 40/s, first ok 2.1s, restored 3s", r)
	}
}

func TestLongestGap(t *testing.T) {
	run := &results.Run{Duration: 10 * time.Second, Ops: []*results.OpStats{{Region: "a", Samples: []results.Sample{
		{Start: 0, Latency: time.Second}, {Start: 4 * time.Second, Latency: 100 * time.Millisecond},
		{Start: 8 * time.Second, Latency: 500 * time.Millisecond}, {Start: 9 * time.Second, Latency: 500 * time.Millisecond},
	}}}}
	gap, from := LongestGap(run, "a", 3*time.Second)
	if gap != 4400*time.Millisecond || from != 4100*time.Millisecond {
		t.Errorf("gap %s from %s, want 4.4s from 4.1s", gap, from)
	}
}

// TestLyingClock runs the lying-clock scenario, shortened: the checker must
// catch the lying run and pass the honest one.
func TestLyingClock(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a cluster")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	dir := t.TempDir()
	out, err := RunScenario(ctx, "lying-clock", Env{ReportDir: dir, Scale: 0.4})
	if err != nil {
		t.Fatal(err)
	}
	if !out.Pass {
		t.Fatalf("lying-clock did not pass:\n%s", out.Summary)
	}
	for _, f := range []string{"summary.md", "honest/history.jsonl", "lying/check.txt", "lying/throughput.png"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Error(err)
		}
	}
}
