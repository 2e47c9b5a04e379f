package txn_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/meridiandb/meridian/replication"
	"github.com/meridiandb/meridian/server"
	"github.com/meridiandb/meridian/txn"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func startCluster(t *testing.T, nodes int) *server.Cluster {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := server.StartCluster(ctx, server.ClusterOptions{Nodes: nodes, Node: server.Config{QueueInterval: 100 * time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Stop)
	if err := c.WaitReplicated(ctx, nodes); err != nil {
		t.Fatal(err)
	}
	return c
}

func key(s string) []byte { return []byte("t/" + s) }

func TestReadWriteAndReadOnly(t *testing.T) {
	c := startCluster(t, 3)
	ctx := context.Background()
	db := c.Node(1).TxnDB()
	tx, err := db.Begin(ctx, txn.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := tx.Put(ctx, key("a"), []byte("1")); err != nil {
		t.Fatal(err)
	}
	if v, ok, err := tx.Get(ctx, key("a"), txn.ReadOptions{}); err != nil || !ok || string(v) != "1" {
		t.Fatalf("own write: %q %v %v", v, ok, err)
	}
	s1, err := tx.Commit(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// Another gateway reads it, read-write and read-only.
	db2 := c.Node(2).TxnDB()
	ro, _ := db2.Begin(ctx, txn.Options{Mode: txn.ReadOnly})
	if ro.ReadTimestamp() <= s1 {
		t.Fatalf("read-only timestamp %v not after commit %v", ro.ReadTimestamp(), s1)
	}
	if v, ok, err := ro.Get(ctx, key("a"), txn.ReadOptions{}); err != nil || !ok || string(v) != "1" {
		t.Fatalf("read-only read: %q %v %v", v, ok, err)
	}
	rw, _ := db2.Begin(ctx, txn.Options{})
	if v, ok, err := rw.Get(ctx, key("a"), txn.ReadOptions{}); err != nil || !ok || string(v) != "1" {
		t.Fatalf("locking read: %q %v %v", v, ok, err)
	}
	if err := rw.Delete(ctx, key("a")); err != nil {
		t.Fatal(err)
	}
	s2, err := rw.Commit(ctx)
	if err != nil || s2 <= s1 {
		t.Fatalf("commit %v after %v: %v", s2, s1, err)
	}
	// A stale read at s1 still sees the value.
	stale, _ := db.Begin(ctx, txn.Options{Mode: txn.Stale, ReadTimestamp: s1})
	if v, ok, err := stale.Get(ctx, key("a"), txn.ReadOptions{}); err != nil || !ok || string(v) != "1" {
		t.Fatalf("stale read at %v: %q %v %v", s1, v, ok, err)
	}
	fresh, _ := db.Begin(ctx, txn.Options{Mode: txn.ReadOnly})
	if _, ok, err := fresh.Get(ctx, key("a"), txn.ReadOptions{}); err != nil || ok {
		t.Fatalf("read after delete: found %v, %v", ok, err)
	}
}

func TestTwoPhaseCommitAcrossRanges(t *testing.T) {
	c := startCluster(t, 3)
	ctx := context.Background()
	r := c.Node(1).Router()
	for _, k := range []string{"b", "c", "d"} {
		if err := r.AdminSplit(ctx, key(k)); err != nil {
			t.Fatal(err)
		}
	}
	db := c.Node(3).TxnDB()
	tx, _ := db.Begin(ctx, txn.Options{})
	for _, k := range []string{"a", "b1", "c1", "d1"} {
		if err := tx.Put(ctx, key(k), []byte("v"+k)); err != nil {
			t.Fatal(err)
		}
	}
	s, err := tx.Commit(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if l := tx.Ledger(); l.Ranges != 4 || l.Prepare == 0 {
		t.Fatalf("ledger %+v: want 4 ranges and a prepare round", l)
	}
	ro, _ := c.Node(2).TxnDB().Begin(ctx, txn.Options{Mode: txn.ReadOnly})
	res, err := ro.Scan(ctx, txn.Span{Key: key(""), EndKey: key("z")}, txn.ScanOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Rows) != 4 {
		t.Fatalf("read-only scan after 2PC at %v found %d rows: %v", s, len(res.Rows), res.Rows)
	}
	// Reverse scan with a limit, through a read-write transaction.
	rw, _ := db.Begin(ctx, txn.Options{})
	res, err = rw.Scan(ctx, txn.Span{Key: key(""), EndKey: key("z")}, txn.ScanOptions{Reverse: true, MaxRows: 3})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, kv := range res.Rows {
		got = append(got, string(kv.Key))
	}
	if fmt.Sprint(got) != "[t/d1 t/c1 t/b1]" || res.Resume == nil {
		t.Fatalf("reverse scan = %v resume %v", got, res.Resume)
	}
	if _, err := rw.Commit(ctx); err != nil {
		t.Fatal(err)
	}
}

func TestWoundWait(t *testing.T) {
	c := startCluster(t, 3)
	ctx := context.Background()
	db := c.Node(1).TxnDB()
	older, _ := db.Begin(ctx, txn.Options{})
	younger, _ := db.Begin(ctx, txn.Options{LockTimeout: 200 * time.Millisecond})
	if _, _, err := younger.Get(ctx, key("x"), txn.ReadOptions{ForUpdate: true}); err != nil {
		t.Fatal(err)
	}
	// The older transaction wounds the younger holder and gets the lock.
	if _, _, err := older.Get(ctx, key("x"), txn.ReadOptions{ForUpdate: true}); err != nil {
		t.Fatalf("older transaction blocked: %v", err)
	}
	_ = younger.Put(ctx, key("x"), []byte("young"))
	_, err := younger.Commit(ctx)
	var re *txn.RetryableError
	if !errors.As(err, &re) {
		t.Fatalf("wounded transaction committed: %v", err)
	}
	t.Logf("wounded: %v", err)
	// A younger transaction waits for the older and times out.
	y2, _ := db.Begin(ctx, txn.Options{LockTimeout: 200 * time.Millisecond})
	if _, _, err := y2.Get(ctx, key("x"), txn.ReadOptions{}); !errors.As(err, &re) || !re.Timeout {
		t.Fatalf("younger reader: %v, want a lock wait timeout", err)
	}
	_ = y2.Rollback(ctx)
	_ = older.Put(ctx, key("x"), []byte("old"))
	if _, err := older.Commit(ctx); err != nil {
		t.Fatal(err)
	}
}

func TestRetryKeepsPriority(t *testing.T) {
	c := startCluster(t, 3)
	ctx := context.Background()
	db := c.Node(1).TxnDB()
	first, _ := db.Begin(ctx, txn.Options{})
	prio := first.(txn.Prioritized).Priority()
	_ = first.Rollback(ctx)
	// A transaction begun since is younger than the retry of first.
	other, _ := db.Begin(ctx, txn.Options{})
	if _, _, err := other.Get(ctx, key("p"), txn.ReadOptions{ForUpdate: true}); err != nil {
		t.Fatal(err)
	}
	retry, _ := db.Begin(ctx, txn.Options{Priority: prio})
	if got := retry.(txn.Prioritized).Priority(); got != prio {
		t.Fatalf("retry priority %d, want %d", got, prio)
	}
	// The retry is older, so it wounds the holder instead of waiting.
	if _, _, err := retry.Get(ctx, key("p"), txn.ReadOptions{ForUpdate: true}); err != nil {
		t.Fatalf("retry blocked behind a younger transaction: %v", err)
	}
	if err := retry.Put(ctx, key("p"), []byte("retry")); err != nil {
		t.Fatal(err)
	}
	if _, err := retry.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := other.Commit(ctx); !txn.IsRetryable(err) {
		t.Fatalf("wounded younger transaction: %v, want retryable", err)
	}
}

func TestCommitDeadline(t *testing.T) {
	c := startCluster(t, 3)
	ctx := context.Background()
	db := c.Node(1).TxnDB()
	if err := c.Node(1).Router().AdminSplit(ctx, key("m")); err != nil {
		t.Fatal(err)
	}
	for _, keys := range [][]string{{"d1"}, {"d2", "n2"}} {
		tx, _ := db.Begin(ctx, txn.Options{})
		for _, k := range keys {
			if err := tx.Put(ctx, key(k), []byte("v")); err != nil {
				t.Fatal(err)
			}
		}
		// A deadline already in the past: no commit timestamp can meet it.
		tx.(txn.Deadliner).SetDeadline(1)
		start := time.Now()
		_, err := tx.Commit(ctx)
		t.Logf("%v: commit failed after %v: %v", keys, time.Since(start), err)
		if !txn.IsRetryable(err) {
			t.Fatalf("commit of %v past its deadline: %v, want retryable", keys, err)
		}
		ro, _ := db.Begin(ctx, txn.Options{Mode: txn.ReadOnly})
		for _, k := range keys {
			if _, ok, err := ro.Get(ctx, key(k), txn.ReadOptions{}); err != nil || ok {
				t.Fatalf("%s written by a commit past its deadline (found %v, %v)", k, ok, err)
			}
		}
		// Locks are gone: a new transaction writes the keys at once.
		tx2, _ := db.Begin(ctx, txn.Options{LockTimeout: time.Second})
		for _, k := range keys {
			if err := tx2.Put(ctx, key(k), []byte("w")); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := tx2.Commit(ctx); err != nil {
			t.Fatalf("after a failed deadline commit: %v", err)
		}
	}
}

// TestCommitAfterSplit commits transactions whose gateway still routes by
// a range descriptor from before a split (as a gateway does until it hears
// of the split): the commit groups its writes again by the new ranges
// instead of sending the stale grouping over and over.
func TestCommitAfterSplit(t *testing.T) {
	c := startCluster(t, 3)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	db := c.Node(1).TxnDB()
	cache := &c.Node(1).Router().Cache
	for _, tc := range []struct {
		name         string
		before, wait string // splits before the transaction and while it runs
		keys         []string
	}{
		{name: "one range becomes two", wait: "m", keys: []string{"a1", "z1"}},
		{name: "two ranges become three", before: "c", wait: "t", keys: []string{"a2", "n2", "z2"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.before != "" {
				if err := c.Node(1).Router().AdminSplit(ctx, key(tc.before)); err != nil {
					t.Fatal(err)
				}
			}
			tx, err := db.Begin(ctx, txn.Options{})
			if err != nil {
				t.Fatal(err)
			}
			for _, k := range tc.keys {
				if _, _, err := tx.Get(ctx, key(k), txn.ReadOptions{}); err != nil {
					t.Fatal(err)
				}
				if err := tx.Put(ctx, key(k), []byte(tc.name)); err != nil {
					t.Fatal(err)
				}
			}
			old, err := c.Node(1).Router().Lookup(ctx, key(tc.wait))
			if err != nil {
				t.Fatal(err)
			}
			if err := c.Node(1).Router().AdminSplit(ctx, key(tc.wait)); err != nil {
				t.Fatal(err)
			}
			// The gateway has not heard of the split yet.
			cache.Evict(replication.RangeID(old.Desc.RangeId))
			cache.Insert(old.Desc)
			if _, err := tx.Commit(ctx); err != nil {
				t.Fatalf("commit after a split: %v", err)
			}
			ro, _ := db.Begin(ctx, txn.Options{Mode: txn.ReadOnly})
			for _, k := range tc.keys {
				if v, ok, err := ro.Get(ctx, key(k), txn.ReadOptions{}); err != nil || !ok || string(v) != tc.name {
					t.Fatalf("%s after the commit: %q %v %v", k, v, ok, err)
				}
			}
			// No lock is left behind: another gateway writes the keys at once.
			tx2, _ := c.Node(3).TxnDB().Begin(ctx, txn.Options{LockTimeout: time.Second})
			for _, k := range tc.keys {
				if _, _, err := tx2.Get(ctx, key(k), txn.ReadOptions{ForUpdate: true}); err != nil {
					t.Fatalf("lock on %s: %v", k, err)
				}
				if err := tx2.Put(ctx, key(k), []byte("after")); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := tx2.Commit(ctx); err != nil {
				t.Fatalf("after the split commit: %v", err)
			}
		})
	}
}
