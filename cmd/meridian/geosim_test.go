package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// runGeosim runs `meridian geosim args…` in-process.
func runGeosim(t *testing.T, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	var out, errOut bytes.Buffer
	root := newRootCmd()
	root.SetArgs(append([]string{"geosim"}, args...))
	root.SetOut(&out)
	root.SetErr(&errOut)
	err = root.Execute()
	return out.String(), errOut.String(), err
}

func TestGeosimList(t *testing.T) {
	out, _, err := runGeosim(t, "list")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"global3: us-east(1) eu-west(1) ap-northeast(1)", "local3", "kv", "bank", "marketplace",
		"spanner-table3", "spanner-table4", "epsilon-sweep", "placement", "failover", "lying-clock"} {
		if !strings.Contains(out, want) {
			t.Errorf("list lacks %q:\n%s", want, out)
		}
	}
}

func TestGeosimTopology(t *testing.T) {
	out, _, err := runGeosim(t, "topology", "global5")
	if err != nil || !strings.Contains(out, "eu-west: {eu-west: 1, ap-northeast: 201}") {
		t.Fatalf("preset source: %v\n%s", err, out)
	}
	dir := t.TempDir()
	good := filepath.Join(dir, "mine.yaml")
	if err := os.WriteFile(good, []byte(out), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, _, err := runGeosim(t, "topology", good); err != nil || !strings.Contains(out, "ok: global5") {
		t.Fatalf("checking a good file: %v %s", err, out)
	}
	bad := filepath.Join(dir, "bad.json")
	if err := os.WriteFile(bad, []byte("{\n \"regions\": [{\"name\": \"a\", \"nodes\": 0}],\n \"rtt_ms\": {}\n}"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, _, err = runGeosim(t, "topology", bad)
	if err == nil || !strings.Contains(err.Error(), "bad.json:2: regions[0].nodes") {
		t.Fatalf("bad file: %v", err)
	}
}

func TestGeosimUsageErrors(t *testing.T) {
	for _, args := range [][]string{
		{"run"}, // no --report
		{"run", "--report", "x", "--topology", "atlantis"},
		{"scenario", "nope", "--report", "x"},
		{"scenario", "epsilon-sweep"}, // no --report
	} {
		if _, _, err := runGeosim(t, args...); err == nil {
			t.Errorf("geosim %s: no error", strings.Join(args, " "))
		}
	}
}

func TestGeosimRun(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a cluster")
	}
	dir := t.TempDir()
	out, _, err := runGeosim(t, "run", "--topology", "local3", "--placement", "replicas=3", "--workload", "kv", "--mix", "write=1,read=1",
		"--clients-per-region", "2", "--duration", "1s", "--warmup", "300ms", "--seed", "2", "--quiet", "--report", dir)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "| write | local") || !strings.Contains(out, "| read  | local") || !strings.Contains(out, "summary.md") {
		t.Errorf("output:\n%s", out)
	}
	for _, f := range []string{"summary.md", "ops.csv", "latency_cdf_write.png", "throughput.png"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Error(err)
		}
	}
}

// TestGeosimMarketplace runs the marketplace over SQL on the simulated
// network: the schema and sample data load through a gateway, and buyers
// in every region search, fill carts and purchase without errors.
func TestGeosimMarketplace(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a cluster")
	}
	dir := t.TempDir()
	out, _, err := runGeosim(t, "run", "--topology", "local3", "--workload", "marketplace",
		"--clients-per-region", "2", "--duration", "2s", "--warmup", "300ms", "--seed", "3", "--quiet", "--report", dir)
	if err != nil {
		t.Fatal(err)
	}
	csv, err := os.ReadFile(filepath.Join(dir, "ops.csv"))
	if err != nil {
		t.Fatal(err)
	}
	for _, op := range []string{"search", "add_to_cart"} {
		count, errs := 0, 0
		for _, line := range strings.Split(string(csv), "\n") {
			f := strings.Split(line, ",")
			if len(f) > 5 && f[0] == op {
				n, _ := strconv.Atoi(f[4])
				e, _ := strconv.Atoi(f[5])
				count, errs = count+n, errs+e
			}
		}
		if count == 0 || errs*10 > count {
			t.Errorf("%s: %d done, %d errors:\n%s\n%s", op, count, errs, csv, out)
		}
	}
	if strings.Contains(out, "needs the SQL layer") {
		t.Errorf("the marketplace did not reach SQL:\n%s", out)
	}
}
