package raftbench

import (
	"context"
	"strings"
	"testing"
	"time"
)

func TestRunWritesAndReports(t *testing.T) {
	res, err := Run(context.Background(), Options{
		Dir: t.TempDir(), Writers: 4, Ranges: 2, Duration: 500 * time.Millisecond, Warmup: 100 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	if res.Ops == 0 || res.P50 <= 0 || res.P99 < res.P50 || res.RaftWrites == 0 {
		t.Fatalf("implausible result %+v", res)
	}
	if line := res.String(); !strings.HasPrefix(line, "ops/s=") || !strings.Contains(line, " p50_ms=") || !strings.Contains(line, " p99_ms=") {
		t.Fatalf("result line %q", line)
	}
}
