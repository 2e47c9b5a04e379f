package txn

import (
	"context"
	"testing"
	"time"

	"github.com/meridiandb/meridian/txn/txnpb"
)

// TestLockStatePerRange checks that a transaction prepared on one range
// of a store and active on another is treated per range: a rollback of
// the active range frees its locks, the prepared range keeps its own, and
// the abandoned-transaction sweep sees the active locks.
func TestLockStatePerRange(t *testing.T) {
	lt := NewLockTable()
	ctx := context.Background()
	old := &txnpb.TxnMeta{Id: []byte("old"), Priority: 1}
	tx := &txnpb.TxnMeta{Id: []byte("tx"), Priority: 2}
	young := &txnpb.TxnMeta{Id: []byte("young"), Priority: 3}
	acquire := func(m *txnpb.TxnMeta, key string, mode lockMode) error {
		_, err := lt.Acquire(ctx, AcquireOptions{Txn: m, Key: []byte(key), Mode: mode, Timeout: 50 * time.Millisecond})
		return err
	}
	// tx writes a in range [a, b) and reads c in range [c, d), prepared there.
	if err := acquire(tx, "a", exclusive); err != nil {
		t.Fatal(err)
	}
	if err := acquire(tx, "c", shared); err != nil {
		t.Fatal(err)
	}
	if err := lt.SetState(tx, prepared, []byte("c"), []byte("d")); err != nil {
		t.Fatal(err)
	}
	if got := lt.Idle(0); len(got) != 1 {
		t.Fatalf("idle transactions %v: want tx, active on [a, b)", got)
	}
	// The older transaction cannot wound tx where it is prepared.
	if err := acquire(old, "c", exclusive); err == nil {
		t.Fatal("wounded a prepared transaction")
	}
	// A rollback on [a, b) frees a, even though tx is prepared on [c, d).
	if !lt.AbortActive(tx.Id, "rolled back", []byte("a"), []byte("b")) {
		t.Fatal("rollback on the active range refused")
	}
	if err := acquire(young, "a", exclusive); err != nil {
		t.Fatalf("a still locked after the rollback of tx there: %v\n%s", err, lt.Describe())
	}
	// The prepared range keeps its lock through a rollback and a sweep.
	if lt.AbortActive(tx.Id, "rolled back", []byte("c"), []byte("d")) {
		t.Fatal("rollback released a prepared range")
	}
	lt.AbortActive(tx.Id, "abandoned", nil, nil)
	if err := acquire(young, "c", exclusive); err == nil {
		t.Fatalf("prepared lock on c released:\n%s", lt.Describe())
	}
	if got := lt.Idle(0); len(got) != 1 || string(got[0].Id) != "young" {
		t.Fatalf("idle transactions %v: want only young", got)
	}
	// Its resolution releases the range.
	lt.Release(tx.Id, []byte("c"), []byte("d"))
	if err := acquire(young, "c", exclusive); err != nil {
		t.Fatalf("c still locked after resolution: %v", err)
	}
}

// TestReleaseShared: a committing transaction's read locks go once its
// timestamp is taken, its write locks stay.
func TestReleaseShared(t *testing.T) {
	lt := NewLockTable()
	ctx := context.Background()
	tx := &txnpb.TxnMeta{Id: []byte("tx"), Priority: 1}
	other := &txnpb.TxnMeta{Id: []byte("other"), Priority: 2}
	take := func(m *txnpb.TxnMeta, key, end string, mode lockMode) error {
		o := AcquireOptions{Txn: m, Key: []byte(key), Mode: mode, Timeout: 20 * time.Millisecond}
		if end != "" {
			o.End = []byte(end)
		}
		_, err := lt.Acquire(ctx, o)
		return err
	}
	for _, l := range []struct {
		key, end string
		mode     lockMode
	}{{"a", "", shared}, {"b", "d", shared}, {"c", "", exclusive}, {"x", "", shared}} {
		if err := take(tx, l.key, l.end, l.mode); err != nil {
			t.Fatal(err)
		}
	}
	if err := lt.SetState(tx, committing, []byte("a"), []byte("m")); err != nil {
		t.Fatal(err)
	}
	lt.ReleaseShared(tx.Id, []byte("a"), []byte("m"))
	for _, k := range []string{"a", "b", "bb"} {
		if err := take(other, k, "", exclusive); err != nil {
			t.Fatalf("%s still read-locked after ReleaseShared: %v\n%s", k, err, lt.Describe())
		}
	}
	if err := take(other, "c", "", shared); err == nil {
		t.Fatalf("the write lock on c went with the read locks:\n%s", lt.Describe())
	}
	if err := take(other, "x", "", exclusive); err == nil {
		t.Fatalf("the read lock on x, outside the span released, went too:\n%s", lt.Describe())
	}
}
