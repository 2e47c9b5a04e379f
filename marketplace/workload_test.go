package marketplace

import (
	"bytes"
	"context"
	"database/sql"
	"strings"
	"testing"
	"time"
)

// TestWorkload runs a short workload on sample data and checks that every
// operation ran without errors, the report adds up, and stock stayed
// non-negative.
func TestWorkload(t *testing.T) {
	db := testDB(t)
	ctx := ctxT(t)
	if _, err := LoadSample(ctx, db, SampleOptions{Sellers: 5, Buyers: 20, Items: 60, Purchases: 20}); err != nil {
		t.Fatal(err)
	}
	var progress bytes.Buffer
	w := Workload{DBs: []*sql.DB{db, db}, Clock: ClockFunc(time.Now), Concurrency: 4, Duration: time.Hour,
		MaxOpsPerClient: 150, Seed: 7, Progress: &progress, ProgressInterval: 10 * time.Millisecond, RunID: t.Name()}
	rep, err := w.Run(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var table bytes.Buffer
	if err := rep.WriteTable(&table); err != nil {
		t.Fatal(err)
	}
	t.Logf("\n%s", table.String())
	if rep.Total.OK+rep.Total.Rejected+rep.Total.Errors != 4*150 {
		t.Errorf("total %+v, want 600 operations", rep.Total)
	}
	if rep.Total.Errors != 0 {
		t.Errorf("%d errors:\n%s", rep.Total.Errors, table.String())
	}
	ran := map[string]bool{}
	var sum int64
	for _, o := range rep.Ops {
		ran[o.Op] = true
		sum += o.OK + o.Rejected + o.Errors
		if o.OK+o.Rejected > 0 && (o.P50 <= 0 || o.P50 > o.P95 || o.P95 > o.P99 || o.P99 > o.Max) {
			t.Errorf("%s: quantiles %v %v %v max %v", o.Op, o.P50, o.P95, o.P99, o.Max)
		}
	}
	if sum != rep.Total.OK+rep.Total.Rejected+rep.Total.Errors {
		t.Errorf("operations add up to %d, total says %+v", sum, rep.Total)
	}
	for _, op := range []string{"search", "add_to_cart", "purchase", "list_item", "view_cart"} {
		if !ran[op] {
			t.Errorf("%s never ran", op)
		}
	}
	if !strings.Contains(table.String(), "operation") || !strings.Contains(table.String(), "p99 ms") {
		t.Errorf("table:\n%s", table.String())
	}
	if !strings.Contains(progress.String(), "100%") || !strings.Contains(progress.String(), "ops 600") {
		t.Errorf("progress: %q", progress.String())
	}
	var negative int
	db.QueryRowContext(ctx, "SELECT COUNT(*) FROM items WHERE quantity < 0").Scan(&negative)
	if negative != 0 {
		t.Errorf("%d items with negative stock", negative)
	}
}

func TestWorkloadNeedsData(t *testing.T) {
	db := testDB(t)
	w := Workload{DBs: []*sql.DB{db}, Clock: ClockFunc(time.Now), MaxOpsPerClient: 1}
	if _, err := w.Run(context.Background()); err == nil || !strings.Contains(err.Error(), "no data") {
		t.Errorf("Run on an empty schema: %v", err)
	}
}
