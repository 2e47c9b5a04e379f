package session_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/meridiandb/meridian/sql/catalog"
	"github.com/meridiandb/meridian/sql/session"
	"github.com/meridiandb/meridian/sql/sqltest"
	"github.com/meridiandb/meridian/truetime"
	"github.com/meridiandb/meridian/txn"
)

// countingDB counts the reads of the transactions it begins; its
// transactions read several keys at once (GetMany).
type countingDB struct {
	txn.DB
	gets, batches, batchKeys atomic.Int64
}

func (d *countingDB) Begin(ctx context.Context, o txn.Options) (txn.Txn, error) {
	tx, err := d.DB.Begin(ctx, o)
	if err != nil {
		return nil, err
	}
	return &countingTxn{Txn: tx, db: d}, nil
}

func (d *countingDB) reset() { d.gets.Store(0); d.batches.Store(0); d.batchKeys.Store(0) }

type countingTxn struct {
	txn.Txn
	db *countingDB
}

func (t *countingTxn) Get(ctx context.Context, key []byte, o txn.ReadOptions) ([]byte, bool, error) {
	t.db.gets.Add(1)
	return t.Txn.Get(ctx, key, o)
}

func (t *countingTxn) GetMany(ctx context.Context, keys [][]byte, o txn.ReadOptions) ([][]byte, []bool, error) {
	t.db.batches.Add(1)
	t.db.batchKeys.Add(int64(len(keys)))
	vals, found := make([][]byte, len(keys)), make([]bool, len(keys))
	for i, k := range keys {
		v, ok, err := t.Txn.Get(ctx, k, o)
		if err != nil {
			return nil, nil, err
		}
		vals[i], found[i] = v, ok
	}
	return vals, found, nil
}

func (t *countingTxn) SetDeadline(ts truetime.Timestamp) {
	if d, ok := t.Txn.(catalog.Deadliner); ok {
		d.SetDeadline(ts)
	}
}

// TestBatchedReads checks that statements reading several known keys read
// them in one batch, and that DML in an explicit transaction reads nothing
// beyond what the statement itself needs (the statement journal learns
// the values it must restore from those reads).
func TestBatchedReads(t *testing.T) {
	clock := truetime.NewManual(truetime.Timestamp(1_700_000_000_000_000_000), time.Millisecond)
	db := &countingDB{DB: sqltest.NewMemDB(sqltest.MemDBOptions{Clock: clock, NoCommitWait: true, LockTimeout: time.Second})}
	e := session.NewEngine(session.EngineOptions{DB: db, Cluster: sqltest.NewSingleNode(clock)})
	ctx := context.Background()
	if err := e.Bootstrap(ctx); err != nil {
		t.Fatal(err)
	}
	s := e.NewSession("root")
	mustRun(t, s, "USE test", "CREATE TABLE t (id INT PRIMARY KEY, v INT, u INT, KEY v_idx (v), UNIQUE KEY u_idx (u))")
	for i := 1; i <= 20; i++ {
		mustRun(t, s, fmt.Sprintf("INSERT INTO t VALUES (%d, %d, %d)", i, i%4, i))
	}
	for _, tc := range []struct {
		q                 string
		rows              int
		gets, batches, nk int64
	}{
		{q: "SELECT * FROM t WHERE id IN (1, 2, 3, 4, 25)", rows: 4, batches: 1, nk: 5},
		{q: "SELECT * FROM t WHERE v = 3", rows: 5, batches: 1, nk: 5},
		{q: "SELECT * FROM t WHERE u IN (7, 8)", rows: 2, batches: 2, nk: 4},
		{q: "SELECT * FROM t WHERE id = 7", rows: 1, gets: 1},
	} {
		db.reset()
		res, err := s.Execute(ctx, tc.q)
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Rows) != tc.rows || db.gets.Load() != tc.gets || db.batches.Load() != tc.batches || db.batchKeys.Load() != tc.nk {
			t.Errorf("%s: %d rows, %d gets, %d batches of %d keys; want %d, %d, %d of %d", tc.q, len(res.Rows),
				db.gets.Load(), db.batches.Load(), db.batchKeys.Load(), tc.rows, tc.gets, tc.batches, tc.nk)
		}
	}
	// DML inside an explicit transaction.
	mustRun(t, s, "BEGIN")
	for _, tc := range []struct {
		q    string
		gets int64 // reads of the statement, none for the journal
	}{
		{"UPDATE t SET v = v + 1 WHERE id = 2", 1},
		{"UPDATE t SET u = 102 WHERE id = 2", 2}, // the row, the new unique key
		{"DELETE FROM t WHERE id = 3", 1},
		{"INSERT INTO t VALUES (30, 1, 30)", 2}, // the row key, the unique key
		{"REPLACE INTO t VALUES (4, 9, 4)", 3},  // the row, again after deleting it, the unique key
	} {
		db.reset()
		mustRun(t, s, tc.q)
		if got := db.gets.Load() + db.batchKeys.Load(); got != tc.gets {
			t.Errorf("%s: %d reads, want %d", tc.q, got, tc.gets)
		}
	}
	mustRun(t, s, "COMMIT")
}

// TestStatementUndo checks that failing statements inside a transaction
// are undone exactly (rows and index entries), whatever the journal
// learned without reading.
func TestStatementUndo(t *testing.T) {
	c := newCluster(t, 1)
	s := c.engines[0].NewSession("root")
	ctx := context.Background()
	mustRun(t, s, "USE test", "CREATE TABLE t (id INT PRIMARY KEY, v INT, u INT, KEY v_idx (v), UNIQUE KEY u_idx (u))",
		"INSERT INTO t VALUES (1, 1, 1), (2, 2, 2), (3, 3, 3), (4, 4, NULL)")
	dump := func() string {
		res, err := s.Execute(ctx, "SELECT id, v, u FROM t ORDER BY id")
		if err != nil {
			t.Fatal(err)
		}
		return fmt.Sprint(rows(res))
	}
	mustRun(t, s, "BEGIN", "UPDATE t SET v = 10 WHERE id = 1", "DELETE FROM t WHERE id = 4")
	for _, q := range []string{
		"INSERT INTO t VALUES (5, 5, 5), (6, 6, 6), (7, 7, 1)",    // dup u on the third row
		"UPDATE t SET u = u + 1, v = v + 100 ORDER BY id DESC",    // 3→4, 2→3 collides
		"REPLACE INTO t VALUES (2, 20, 20), (8, 8, 3), (9, 9, 9)", // REPLACE deletes, then a dup id? no: ok
		"INSERT INTO t VALUES (4, 40, 40), (1, 1, 1)",             // dup id on the second row
		"UPDATE t SET id = 3 WHERE id = 1",                        // dup primary key
	} {
		before := dump()
		_, err := s.Execute(ctx, q)
		if err == nil {
			continue
		}
		t.Logf("%s: %v", q, err)
		if m := session.ToMySQL(err); m.Code != 1062 {
			t.Fatalf("%s: %v", q, err)
		}
		if after := dump(); after != before {
			t.Fatalf("%s failed but changed the table:\nbefore %s\nafter  %s", q, before, after)
		}
	}
	mustRun(t, s, "COMMIT")
	snap, err := c.engines[0].Catalog.Current(ctx)
	if err != nil {
		t.Fatal(err)
	}
	checkIndexes(t, c.db, snap.Table("test", "t"))
}
