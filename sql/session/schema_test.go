package session_test

import (
	"context"
	"fmt"
	"math/rand"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/meridiandb/meridian/sql/session"
)

// TestAddIndexWhileWriting adds an index while other sessions insert,
// update and delete rows, then checks that the index agrees with the
// table: every lookup through it returns what a full scan returns.
func TestAddIndexWhileWriting(t *testing.T) {
	// Each backfill batch waits for ten writes by the other sessions, so
	// writes interleave with the backfill.
	progress := make(chan struct{}, 1024)
	var batches atomic.Int64
	e, _ := newEngineWithKnobs(t, session.TestingKnobs{BackfillBatchSize: 50, BeforeBackfillBatch: func() {
		batches.Add(1)
		for i := 0; i < 10; i++ {
			<-progress
		}
	}})
	ctx := context.Background()
	s := e.NewSession("root")
	mustExec := func(q string) {
		t.Helper()
		if _, err := s.Execute(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	mustExec("USE test")
	mustExec("CREATE TABLE t (id INT PRIMARY KEY, v INT)")
	for i := 0; i < 1200; i += 100 {
		q := "INSERT INTO t VALUES "
		for j := i; j < i+100; j++ {
			if j > i {
				q += ","
			}
			q += fmt.Sprintf("(%d, %d)", j, j%37)
		}
		mustExec(q)
	}
	var stop atomic.Bool
	var wg sync.WaitGroup
	var writes atomic.Int64
	for w := 0; w < 3; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			ws := e.NewSession("root")
			defer ws.Close(ctx)
			if _, err := ws.Execute(ctx, "USE test"); err != nil {
				t.Error(err)
				return
			}
			r := rand.New(rand.NewSource(int64(w)))
			for !stop.Load() || writes.Load() < 50 {
				id := r.Intn(1500)
				var q string
				switch r.Intn(3) {
				case 0:
					q = fmt.Sprintf("INSERT INTO t VALUES (%d, %d) ON DUPLICATE KEY UPDATE v = %d", id, r.Intn(37), r.Intn(37))
				case 1:
					q = fmt.Sprintf("UPDATE t SET v = v + 1 WHERE id = %d", id)
				case 2:
					q = fmt.Sprintf("DELETE FROM t WHERE id = %d", id)
				}
				if _, err := ws.Execute(ctx, q); err == nil {
					writes.Add(1)
					select {
					case progress <- struct{}{}:
					default:
					}
				}
			}
		}(w)
	}
	mustExec("ALTER TABLE t ADD INDEX v_idx (v)")
	stop.Store(true)
	wg.Wait()
	if writes.Load() == 0 {
		t.Fatal("no concurrent writes happened")
	}
	naive := e.NewSession("root")
	naive.SetNaivePlans(true)
	if _, err := naive.Execute(ctx, "USE test"); err != nil {
		t.Fatal(err)
	}
	res, err := s.Execute(ctx, "EXPLAIN SELECT id FROM t WHERE v = 3")
	if err != nil || !strings.Contains(fmt.Sprint(rows(res)), "v_idx") {
		t.Fatalf("index not used: %v %v", res, err)
	}
	for v := -1; v < 45; v++ {
		q := fmt.Sprintf("SELECT id FROM t WHERE v = %d", v)
		got, err := s.Execute(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		want, err := naive.Execute(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		g, w := rows(got), rows(want)
		slices.Sort(g)
		slices.Sort(w)
		if !slices.Equal(g, w) {
			t.Fatalf("v=%d: index gives %v, table %v", v, g, w)
		}
	}
	// The index has no stray entries either: count through it.
	got, _ := s.Execute(ctx, "SELECT COUNT(*) FROM t WHERE v >= -100")
	want, _ := naive.Execute(ctx, "SELECT COUNT(*) FROM t")
	if rows(got)[0] != rows(want)[0] {
		t.Fatalf("index count %v, table count %v", rows(got), rows(want))
	}
	if batches.Load() < 10 {
		t.Fatalf("only %d backfill batches", batches.Load())
	}
	t.Logf("%d concurrent writes during %d backfill batches", writes.Load(), batches.Load())
}

// TestSchemaChangeWaitsForTransactions: a transaction that read the schema
// holds the version key; a concurrent schema change cannot commit before
// it ends, and the transaction commits against the schema it saw.
func TestSchemaChangeWaitsForTransactions(t *testing.T) {
	e, _ := newEngine(t)
	ctx := context.Background()
	a := e.NewSession("root")
	for _, q := range []string{"USE test", "CREATE TABLE t (id INT PRIMARY KEY, v INT)", "BEGIN", "INSERT INTO t VALUES (1, 1)"} {
		if _, err := a.Execute(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	ddl := e.NewSession("root")
	done := make(chan error, 1)
	go func() {
		_, err := ddl.Execute(ctx, "ALTER TABLE test.t ADD COLUMN w INT DEFAULT 7")
		done <- err
	}()
	// The schema change is younger than a's transaction, so it waits for
	// it (or times out and retries) rather than wounding it.
	if _, err := a.Execute(ctx, "INSERT INTO t VALUES (2, 2)"); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Execute(ctx, "COMMIT"); err != nil {
		t.Fatalf("transaction against the old schema: %v", err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	res, err := a.Execute(ctx, "SELECT id, v, w FROM t ORDER BY id")
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(rows(res)) != "[1,1,7 2,2,7]" {
		t.Fatalf("got %v", rows(res))
	}
}
