package session_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/meridiandb/meridian/sql/session"
	"github.com/meridiandb/meridian/sql/sqltest"
	"github.com/meridiandb/meridian/truetime"
	"github.com/meridiandb/meridian/txn"
)

// agingDB gives each read-write transaction it begins a wound-wait age
// (the one asked for, or a new, younger one) and makes the first
// failCommits commits fail with a retryable error.
type agingDB struct {
	txn.DB
	mu          sync.Mutex
	next        int64
	failCommits int
	asked       []int64 // Options.Priority of each read-write Begin
	loadControl []bool  // and its Options.LoadControl
}

func (d *agingDB) Begin(ctx context.Context, o txn.Options) (txn.Txn, error) {
	tx, err := d.DB.Begin(ctx, o)
	if err != nil || o.Mode != txn.ReadWrite {
		return tx, err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	d.asked = append(d.asked, o.Priority)
	d.loadControl = append(d.loadControl, o.LoadControl)
	d.next++
	prio := o.Priority
	if prio == 0 {
		prio = 1000 + d.next
	}
	return &agingTxn{Txn: tx, db: d, prio: prio}, nil
}

type agingTxn struct {
	txn.Txn
	db   *agingDB
	prio int64
}

func (t *agingTxn) Priority() int64 { return t.prio }

func (t *agingTxn) Commit(ctx context.Context) (truetime.Timestamp, error) {
	t.db.mu.Lock()
	fail := t.db.failCommits > 0
	t.db.failCommits--
	t.db.mu.Unlock()
	if fail {
		_ = t.Txn.Rollback(ctx)
		return 0, &txn.RetryableError{Txn: t.ID(), Reason: "wounded (test)"}
	}
	return t.Txn.Commit(ctx)
}

// TestRetriesKeepPriority checks that an autocommit statement retried
// after a retryable error begins each retry with its first transaction's
// wound-wait age, and that the next statement starts afresh.
func TestRetriesKeepPriority(t *testing.T) {
	clock := truetime.NewManual(truetime.Timestamp(1_700_000_000_000_000_000), time.Millisecond)
	db := &agingDB{DB: sqltest.NewMemDB(sqltest.MemDBOptions{Clock: clock, NoCommitWait: true, LockTimeout: time.Second})}
	e := session.NewEngine(session.EngineOptions{DB: db, Cluster: sqltest.NewSingleNode(clock)})
	ctx := context.Background()
	if err := e.Bootstrap(ctx); err != nil {
		t.Fatal(err)
	}
	s := e.NewSession("root")
	mustRun(t, s, "USE test", "CREATE TABLE t (id INT PRIMARY KEY, v INT)")
	db.mu.Lock()
	db.asked, db.failCommits = nil, 2
	db.mu.Unlock()
	mustRun(t, s, "INSERT INTO t VALUES (1, 1)", "UPDATE t SET v = 2 WHERE id = 1")
	db.mu.Lock()
	asked := db.asked
	db.mu.Unlock()
	// INSERT: fresh, then twice the first attempt's age; UPDATE: fresh.
	if len(asked) != 4 || asked[0] != 0 || asked[1] == 0 || asked[2] != asked[1] || asked[3] != 0 {
		t.Fatalf("priorities asked for %v: want [0 p p 0]", asked)
	}
}

// TestExplicitRetryKeepsAge checks that the read-write transaction a
// session begins right after a conflict aborted its explicit transaction
// (the client's retry, as MySQL clients do it) keeps the lost one's
// wound-wait age, that the one after starts afresh, and that clients'
// read-write transactions ask for load control.
func TestExplicitRetryKeepsAge(t *testing.T) {
	clock := truetime.NewManual(truetime.Timestamp(1_700_000_000_000_000_000), time.Millisecond)
	db := &agingDB{DB: sqltest.NewMemDB(sqltest.MemDBOptions{Clock: clock, NoCommitWait: true, LockTimeout: time.Second})}
	e := session.NewEngine(session.EngineOptions{DB: db, Cluster: sqltest.NewSingleNode(clock)})
	ctx := context.Background()
	if err := e.Bootstrap(ctx); err != nil {
		t.Fatal(err)
	}
	s := e.NewSession("root")
	mustRun(t, s, "USE test", "CREATE TABLE t (id INT PRIMARY KEY, v INT)", "INSERT INTO t VALUES (1, 1)")
	db.mu.Lock()
	db.asked, db.loadControl, db.failCommits = nil, nil, 1
	next := db.next
	db.mu.Unlock()
	mustRun(t, s, "BEGIN", "UPDATE t SET v = 2 WHERE id = 1")
	if _, err := s.Execute(ctx, "COMMIT"); !txn.IsRetryable(err) {
		t.Fatalf("COMMIT: %v, want the retryable error", err)
	}
	mustRun(t, s, "BEGIN", "UPDATE t SET v = 2 WHERE id = 1", "COMMIT")
	mustRun(t, s, "BEGIN", "UPDATE t SET v = 3 WHERE id = 1", "COMMIT")
	db.mu.Lock()
	asked, lc := db.asked, db.loadControl
	db.mu.Unlock()
	lost := 1000 + next + 1
	if len(asked) != 3 || asked[0] != 0 || asked[1] != lost || asked[2] != 0 {
		t.Fatalf("priorities asked for %v: want [0 %d 0]", asked, lost)
	}
	for i, on := range lc {
		if !on {
			t.Fatalf("read-write transaction %d begun without load control", i)
		}
	}
}
