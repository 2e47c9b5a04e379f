package sqlbench

import (
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// TestSysbench runs a sysbench workload (env MERIDIAN_SYSBENCH, e.g.
// "oltp_write_only"; MERIDIAN_SYSBENCH_ARGS adds flags) against an
// in-process cluster and then reports the locks left in the lock tables
// once every client is gone: there must be none.
func TestSysbench(t *testing.T) {
	w := os.Getenv("MERIDIAN_SYSBENCH")
	if w == "" {
		t.Skip("MERIDIAN_SYSBENCH is not set")
	}
	bn, err := setupCluster()
	if err != nil {
		t.Fatal(err)
	}
	var hosts, ports []string
	for i := 1; i <= 3; i++ {
		a := bn.c.Node(i).SQLAddr()
		h, p, _ := strings.Cut(a, ":")
		hosts, ports = append(hosts, h), append(ports, p)
	}
	args := []string{w, "--mysql-host=" + strings.Join(hosts, ","), "--mysql-port=" + strings.Join(ports, ","),
		"--mysql-user=root", "--mysql-db=test", "--tables=4", "--table-size=10000", "--mysql-ignore-errors=1213,1205"}
	args = append(args, strings.Fields(os.Getenv("MERIDIAN_SYSBENCH_ARGS"))...)
	run := func(phase string, extra ...string) {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, "sysbench", append(append(args, extra...), phase)...)
		out, err := cmd.CombinedOutput()
		t.Logf("sysbench %s:\n%s", phase, out)
		if err != nil {
			t.Fatalf("sysbench %s: %v", phase, err)
		}
	}
	modes := strings.Split(os.Getenv("MERIDIAN_SYSBENCH_MODES"), ",")
	for i, m := range modes {
		ps := []string{}
		if m != "" {
			ps = append(ps, "--db-ps-mode="+m)
		}
		run("prepare", append(ps, "--threads=4")...)
		run("run", append(ps, "--threads=16", "--time=20", "--report-interval=5")...)
		bn.checkLocks(t)
		if i < len(modes)-1 {
			run("cleanup")
		}
	}
	run("cleanup")
}
