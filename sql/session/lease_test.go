package session_test

import (
	"bytes"
	"context"
	"fmt"
	"math/rand"
	"runtime"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/meridiandb/meridian/sql/catalog"
	"github.com/meridiandb/meridian/sql/exec"
	"github.com/meridiandb/meridian/sql/rowcodec"
	"github.com/meridiandb/meridian/sql/session"
	"github.com/meridiandb/meridian/sql/sqltest"
	"github.com/meridiandb/meridian/sql/types"
	"github.com/meridiandb/meridian/truetime"
	"github.com/meridiandb/meridian/txn"
)

// commitLog records every read-write commit of a MemDB.
type commitLog struct {
	mu      sync.Mutex
	commits []loggedCommit
	last    atomic.Int64 // the newest commit timestamp
}

type loggedCommit struct {
	ts     truetime.Timestamp
	writes []txn.KeyValue
}

func (l *commitLog) record(ts truetime.Timestamp, writes []txn.KeyValue) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.commits = append(l.commits, loggedCommit{ts: ts, writes: writes})
	if int64(ts) > l.last.Load() {
		l.last.Store(int64(ts))
	}
}

// cluster is several engines ("nodes") over one MemDB, each with its own
// catalog cache and leases.
type cluster struct {
	db      *sqltest.MemDB
	clock   *truetime.ManualClock
	engines []*session.Engine
	log     *commitLog
}

func newCluster(t *testing.T, nodes int) *cluster {
	t.Helper()
	c := &cluster{clock: truetime.NewManual(truetime.Timestamp(1_700_000_000_000_000_000), time.Millisecond), log: &commitLog{}}
	c.db = sqltest.NewMemDB(sqltest.MemDBOptions{Clock: c.clock, NoCommitWait: true, LockTimeout: 2 * time.Second, OnCommit: c.log.record})
	for i := 0; i < nodes; i++ {
		e := session.NewEngine(session.EngineOptions{DB: c.db, Cluster: sqltest.NewSingleNode(c.clock),
			Lease: catalog.Options{PollInterval: 2 * time.Millisecond}})
		if err := e.Bootstrap(context.Background()); err != nil {
			t.Fatal(err)
		}
		e.Start()
		t.Cleanup(e.Close)
		c.engines = append(c.engines, e)
	}
	return c
}

func mustRun(t *testing.T, s *session.Session, qs ...string) {
	t.Helper()
	for _, q := range qs {
		if _, err := s.Execute(context.Background(), q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
}

// TestSchemaChangesRacingWrites runs index and column additions and drops
// on one node while sessions on three nodes write the table (autocommit
// and in explicit transactions that pause between statements), and checks
// from the log of commits that no write committed under a dropped state:
// no index entry was put into a dropped index, and no row was written with
// a dropped column, after the DROP returned; and that in the end every
// public index agrees with the table.
func TestSchemaChangesRacingWrites(t *testing.T) {
	c := newCluster(t, 3)
	ctx := context.Background()
	ddl := c.engines[0].NewSession("root")
	mustRun(t, ddl, "USE test", "CREATE TABLE t (id INT PRIMARY KEY, a INT, b INT, KEY b_idx (b))")
	var stop atomic.Bool
	var wg sync.WaitGroup
	var writes atomic.Int64
	for w := 0; w < 6; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			s := c.engines[w%3].NewSession("root")
			defer s.Close(ctx)
			if _, err := s.Execute(ctx, "USE test"); err != nil {
				t.Error(err)
				return
			}
			r := rand.New(rand.NewSource(int64(w)))
			for !stop.Load() {
				id := r.Intn(200)
				var qs []string
				switch r.Intn(5) {
				case 0:
					qs = []string{fmt.Sprintf("INSERT INTO t (id, a, b) VALUES (%d, %d, %d) ON DUPLICATE KEY UPDATE a = a + 1", id, r.Intn(50), r.Intn(50))}
				case 1:
					qs = []string{fmt.Sprintf("UPDATE t SET a = %d, b = b + 1 WHERE id = %d", r.Intn(50), id)}
				case 2:
					qs = []string{fmt.Sprintf("DELETE FROM t WHERE id = %d", id)}
				case 3:
					qs = []string{fmt.Sprintf("REPLACE INTO t (id, a, b) VALUES (%d, %d, %d)", id, r.Intn(50), r.Intn(50))}
				default:
					// A transaction that plans under one version and
					// commits a little later.
					qs = []string{"BEGIN",
						fmt.Sprintf("UPDATE t SET a = a + 1 WHERE id = %d", id),
						"SELECT SLEEP(0.003)",
						fmt.Sprintf("INSERT INTO t (id, a, b) VALUES (%d, 1, 1) ON DUPLICATE KEY UPDATE b = b + 1", r.Intn(200)),
						"COMMIT"}
				}
				ok := true
				for _, q := range qs {
					if _, err := s.Execute(ctx, q); err != nil {
						m := session.ToMySQL(err)
						if m.Code != 1213 && m.Code != 1205 && m.Code != 1054 {
							t.Errorf("%s: %v", q, err)
						}
						ok = false
						_, _ = s.Execute(ctx, "ROLLBACK")
						break
					}
				}
				if ok {
					writes.Add(1)
				}
			}
		}(w)
	}

	type dropped struct {
		what string
		span txn.Span // an index's span
		col  uint32   // or a column ID
		done truetime.Timestamp
	}
	var drops []dropped
	table := func() *catalog.Table {
		snap, err := c.engines[0].Catalog.Current(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return snap.Table("test", "t")
	}
	// Each round starts once the writers have made progress, so that writes
	// race every schema change however the goroutines are scheduled.
	waitWrites := func(n int64) {
		t.Helper()
		deadline := time.After(30 * time.Second)
		tick := time.NewTicker(time.Millisecond)
		defer tick.Stop()
		for writes.Load() < n {
			select {
			case <-deadline:
				t.Fatalf("writers made %d writes in 30s, want %d", writes.Load(), n)
			case <-tick.C:
			}
		}
	}
	for round := 0; round < 4; round++ {
		waitWrites(int64(15 * (round + 1)))
		mustRun(t, ddl, "ALTER TABLE t ADD INDEX a_idx (a)")
		tb := table()
		span := tb.IndexSpan(tb.IndexByName("a_idx").ID)
		mustRun(t, ddl, "ALTER TABLE t DROP INDEX a_idx")
		drops = append(drops, dropped{what: fmt.Sprintf("index a_idx round %d", round), span: span, done: truetime.Timestamp(c.log.last.Load())})

		mustRun(t, ddl, "ALTER TABLE t ADD COLUMN extra INT DEFAULT 7")
		if _, err := ddl.Execute(ctx, fmt.Sprintf("UPDATE t SET extra = %d WHERE id < 100", round)); err != nil {
			t.Fatal(err)
		}
		_, col := table().ColumnByName("extra")
		mustRun(t, ddl, "ALTER TABLE t DROP COLUMN extra")
		drops = append(drops, dropped{what: fmt.Sprintf("column extra round %d", round), col: col.ID, done: truetime.Timestamp(c.log.last.Load())})
	}
	mustRun(t, ddl, "ALTER TABLE t ADD UNIQUE INDEX id_a (id, a)")
	waitWrites(75)
	stop.Store(true)
	wg.Wait()
	if writes.Load() < 50 {
		t.Fatalf("only %d concurrent writes", writes.Load())
	}

	tb := table()
	rowPrefix := rowcodec.IndexPrefix(tb.ID, tb.Primary.ID)
	c.log.mu.Lock()
	commits := append([]loggedCommit(nil), c.log.commits...)
	c.log.mu.Unlock()
	for _, d := range drops {
		for _, cm := range commits {
			if cm.ts <= d.done {
				continue
			}
			for _, w := range cm.writes {
				if w.Value == nil {
					continue
				}
				if d.span.Key != nil && bytes.Compare(w.Key, d.span.Key) >= 0 && bytes.Compare(w.Key, d.span.EndKey) < 0 {
					t.Errorf("%s: an entry was put at %v, after the drop was done at %v", d.what, cm.ts, d.done)
				}
			}
		}
	}
	// Rows written after a column's drop was done must not carry it.
	for _, d := range drops {
		if d.col == 0 {
			continue
		}
		for _, cm := range commits {
			if cm.ts <= d.done {
				continue
			}
			for _, w := range cm.writes {
				if w.Value == nil || !bytes.HasPrefix(w.Key, rowPrefix) {
					continue
				}
				if rowHasColumn(t, w.Value, d.col) {
					t.Errorf("%s: a row was written with it at %v, after the drop was done at %v", d.what, cm.ts, d.done)
				}
			}
		}
	}
	t.Logf("%d writes, %d commits", writes.Load(), len(commits))
	checkIndexes(t, c.db, tb)
}

func rowHasColumn(t *testing.T, value []byte, col uint32) bool {
	t.Helper()
	found := false
	if err := rowcodec.DecodeRow(value, func(id uint32, _ types.Value) {
		if id == col {
			found = true
		}
	}); err != nil {
		t.Fatal(err)
	}
	return found
}

// checkIndexes compares each public secondary index of tb with the entries
// its rows need, and checks that nothing else lies in the table's span.
func checkIndexes(t *testing.T, db txn.DB, tb *catalog.Table) {
	t.Helper()
	ctx := context.Background()
	tx, err := db.Begin(ctx, txn.Options{Mode: txn.ReadOnly})
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx)
	res, err := tx.Scan(ctx, tb.Span(), txn.ScanOptions{})
	if err != nil {
		t.Fatal(err)
	}
	have := map[string]string{}
	want := map[string]string{}
	rowPrefix := rowcodec.IndexPrefix(tb.ID, tb.Primary.ID)
	for _, kv := range res.Rows {
		if !bytes.HasPrefix(kv.Key, rowPrefix) {
			have[string(kv.Key)] = string(kv.Value)
			continue
		}
		row, err := exec.DecodeRow(tb, kv.Key, kv.Value)
		if err != nil {
			t.Fatal(err)
		}
		for i := range tb.Indexes {
			k, v := exec.IndexEntry(tb, &tb.Indexes[i], row)
			want[string(k)] = string(v)
		}
	}
	var diffs []string
	for k, v := range want {
		if have[k] != v {
			diffs = append(diffs, "missing "+rowcodec.PrettyKey([]byte(k)))
		}
	}
	for k := range have {
		if _, ok := want[k]; !ok {
			diffs = append(diffs, "stray "+rowcodec.PrettyKey([]byte(k)))
		}
	}
	sort.Strings(diffs)
	if len(diffs) > 0 {
		t.Fatalf("%d index entries disagree with the rows: %s", len(diffs), strings.Join(diffs[:min(len(diffs), 10)], ", "))
	}
}

// TestLeaseExpiryBoundsSchemaChange: a transaction on another node that
// holds a lease on the old version delays a schema change until the
// lease expires (it can neither finish nor acknowledge), and then cannot
// commit under that version any more.
func TestLeaseExpiryBoundsSchemaChange(t *testing.T) {
	c := newCluster(t, 2)
	ctx := context.Background()
	a, b := c.engines[0].NewSession("root"), c.engines[1].NewSession("root")
	mustRun(t, a, "USE test", "CREATE TABLE t (id INT PRIMARY KEY, v INT)")
	mustRun(t, b, "USE test", "BEGIN", "INSERT INTO t VALUES (1, 1)")
	v0 := c.engines[0].Catalog.Cached().Version
	done := make(chan error, 1)
	go func() {
		_, err := a.Execute(ctx, "ALTER TABLE t ADD COLUMN w INT DEFAULT 7")
		done <- err
	}()
	// The first step commits, then waits for b's node.
	deadline := time.Now().Add(10 * time.Second)
	for c.engines[0].Catalog.Cached().Version == v0 {
		if time.Now().After(deadline) {
			t.Fatal("the schema change never committed its first step")
		}
		runtime.Gosched()
	}
	select {
	case err := <-done:
		t.Fatalf("the schema change finished while a transaction used the old version: %v", err)
	default:
	}
	// b's lease runs out: the change goes on.
	c.clock.Advance(11 * time.Second)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	_, err := b.Execute(ctx, "COMMIT")
	if m := session.ToMySQL(err); err == nil || m.Code != 1213 || !strings.Contains(m.Message, "lease") {
		t.Fatalf("commit under an expired lease: %v", err)
	}
	res, err := a.Execute(ctx, "SELECT COUNT(*) FROM t")
	if err != nil || res.Rows[0][0].I != 0 {
		t.Fatalf("rows after the failed commit: %v %v", res, err)
	}
	// b goes on under the new version.
	mustRun(t, b, "INSERT INTO t (id, v) VALUES (2, 2)")
	res, err = b.Execute(ctx, "SELECT w FROM t WHERE id = 2")
	if err != nil || res.Rows[0][0].I != 7 {
		t.Fatalf("b after the change: %v %v", res, err)
	}
}
