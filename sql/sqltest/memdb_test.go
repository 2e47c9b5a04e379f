package sqltest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/meridiandb/meridian/truetime"
	"github.com/meridiandb/meridian/txn"
)

func newTestDB() (*MemDB, *truetime.ManualClock) {
	clock := truetime.NewManual(1_000_000, time.Microsecond)
	return NewMemDB(MemDBOptions{Clock: clock, NoCommitWait: true, LockTimeout: 50 * time.Millisecond}), clock
}

func put(t *testing.T, db *MemDB, k, v string) truetime.Timestamp {
	t.Helper()
	ctx := context.Background()
	tx, _ := db.Begin(ctx, txn.Options{})
	if err := tx.Put(ctx, []byte(k), []byte(v)); err != nil {
		t.Fatal(err)
	}
	ts, err := tx.Commit(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return ts
}

func get(t *testing.T, tx txn.Txn, k string) string {
	t.Helper()
	v, ok, err := tx.Get(context.Background(), []byte(k), txn.ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !ok {
		return "<none>"
	}
	return string(v)
}

func TestSnapshotAndStaleReads(t *testing.T) {
	db, clock := newTestDB()
	ctx := context.Background()
	ts1 := put(t, db, "a", "1")
	clock.Advance(time.Second)
	ts2 := put(t, db, "a", "2")
	if ts2 <= ts1 {
		t.Fatalf("commit timestamps not increasing: %d %d", ts1, ts2)
	}
	ro, _ := db.Begin(ctx, txn.Options{Mode: txn.ReadOnly})
	clock.Advance(time.Second)
	put(t, db, "a", "3")
	if got := get(t, ro, "a"); got != "2" {
		t.Fatalf("read-only snapshot saw %q", got)
	}
	if _, err := ro.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	stale, _ := db.Begin(ctx, txn.Options{Mode: txn.Stale, ReadTimestamp: ts1})
	if got := get(t, stale, "a"); got != "1" {
		t.Fatalf("stale read at ts1 saw %q", got)
	}
	if err := stale.Put(ctx, []byte("a"), nil); !errors.Is(err, txn.ErrReadOnly) {
		t.Fatalf("write in stale txn: %v", err)
	}
	// A new read-only transaction sees everything committed before it.
	ro2, _ := db.Begin(ctx, txn.Options{Mode: txn.ReadOnly})
	if got := get(t, ro2, "a"); got != "3" {
		t.Fatalf("fresh read-only saw %q", got)
	}
	// A commit after a read is above the read timestamp.
	ts4 := put(t, db, "b", "x")
	if ts4 <= ro2.ReadTimestamp() {
		t.Fatalf("commit %d not above read %d", ts4, ro2.ReadTimestamp())
	}
}

func TestWoundWait(t *testing.T) {
	db, _ := newTestDB()
	ctx := context.Background()
	older, _ := db.Begin(ctx, txn.Options{})
	younger, _ := db.Begin(ctx, txn.Options{})
	if err := younger.Put(ctx, []byte("k"), []byte("young")); err != nil {
		t.Fatal(err)
	}
	// The older transaction wounds the younger holder.
	if err := older.Put(ctx, []byte("k"), []byte("old")); err != nil {
		t.Fatal(err)
	}
	if _, err := younger.Commit(ctx); !txn.IsRetryable(err) {
		t.Fatalf("wounded commit: %v", err)
	}
	if _, err := older.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	// A younger transaction waits for an older holder, then times out.
	holder, _ := db.Begin(ctx, txn.Options{})
	if _, _, err := holder.Get(ctx, []byte("k"), txn.ReadOptions{ForUpdate: true}); err != nil {
		t.Fatal(err)
	}
	waiter, _ := db.Begin(ctx, txn.Options{})
	_, _, err := waiter.Get(ctx, []byte("k"), txn.ReadOptions{})
	var re *txn.RetryableError
	if !errors.As(err, &re) || !re.Timeout {
		t.Fatalf("want lock wait timeout, got %v", err)
	}
	_ = holder.Rollback(ctx)
	_ = waiter.Rollback(ctx)
}

func TestScanOwnWritesAndResume(t *testing.T) {
	db, _ := newTestDB()
	ctx := context.Background()
	for _, k := range []string{"a", "c", "e"} {
		put(t, db, k, k)
	}
	tx, _ := db.Begin(ctx, txn.Options{})
	_ = tx.Put(ctx, []byte("b"), []byte("b"))
	_ = tx.Delete(ctx, []byte("c"))
	res, err := tx.Scan(ctx, txn.Span{Key: []byte("a"), EndKey: []byte("z")}, txn.ScanOptions{MaxRows: 2})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Rows) != 2 || string(res.Rows[0].Key) != "a" || string(res.Rows[1].Key) != "b" || res.Resume == nil {
		t.Fatalf("first page %v resume %v", res.Rows, res.Resume)
	}
	res, err = tx.Scan(ctx, *res.Resume, txn.ScanOptions{})
	if err != nil || len(res.Rows) != 1 || string(res.Rows[0].Key) != "e" {
		t.Fatalf("second page %v %v", res.Rows, err)
	}
	res, err = tx.Scan(ctx, txn.Span{Key: []byte("a"), EndKey: []byte("z")}, txn.ScanOptions{Reverse: true, MaxRows: 1})
	if err != nil || string(res.Rows[0].Key) != "e" || string(res.Resume.EndKey) != "e" {
		t.Fatalf("reverse %v %v", res, err)
	}
}
