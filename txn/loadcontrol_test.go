package txn_test

import (
	"context"
	"testing"
	"time"

	"github.com/meridiandb/meridian/server"
	"github.com/meridiandb/meridian/txn"
	"github.com/meridiandb/meridian/txn/admission"
)

// TestLoadControl: transactions that abort each other make the gateway
// limit how many run at once; one over the limit waits for a slot, and its
// ledger says so. Without LoadControl a transaction never waits.
func TestLoadControl(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c, err := server.StartCluster(ctx, server.ClusterOptions{Nodes: 3, Node: server.Config{
		QueueInterval: 100 * time.Millisecond,
		Admission:     admission.Options{Window: 6, MaxWait: time.Minute, IdleRelease: time.Minute},
	}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Stop()
	if err := c.WaitReplicated(ctx, 3); err != nil {
		t.Fatal(err)
	}
	db := c.Node(1).TxnDB()
	lc := txn.Options{LoadControl: true}
	begin := func(o txn.Options) txn.Txn {
		t.Helper()
		tx, err := db.Begin(ctx, o)
		if err != nil {
			t.Fatal(err)
		}
		return tx
	}
	get := func(tx txn.Txn, k string) {
		t.Helper()
		if _, _, err := tx.Get(ctx, key(k), txn.ReadOptions{}); err != nil {
			t.Fatalf("%s reading %s: %v", tx.ID(), k, err)
		}
	}

	// Two rounds of three readers of one key; the oldest writes it and
	// wounds the other two: 2 commits, 4 aborts, 3 at once.
	for round := 0; round < 2; round++ {
		old, young1, young2 := begin(lc), begin(lc), begin(lc)
		for _, tx := range []txn.Txn{old, young1, young2} {
			get(tx, "hot")
		}
		if err := old.Put(ctx, key("hot"), []byte("v")); err != nil {
			t.Fatal(err)
		}
		if _, err := old.Commit(ctx); err != nil {
			t.Fatalf("the oldest transaction's commit: %v", err)
		}
		for _, tx := range []txn.Txn{young1, young2} {
			_ = tx.Put(ctx, key("other"), []byte("v"))
			if _, err := tx.Commit(ctx); !txn.IsRetryable(err) {
				t.Fatalf("a wounded transaction's commit: %v, want a retryable error", err)
			}
		}
	}
	m := db.Admission()
	if m.Limit != 2 || m.Active != 0 || m.Decreases != 1 {
		t.Fatalf("load control after a window of 4 aborts in 6: %+v, want a limit of 2 and nothing active", m)
	}

	// Two hold the slots; a third waits until one commits.
	a, b := begin(lc), begin(lc)
	get(a, "a")
	get(b, "b")
	waiter := begin(lc)
	done := make(chan error, 1)
	go func() {
		_, _, err := waiter.Get(ctx, key("c"), txn.ReadOptions{})
		done <- err
	}()
	for db.Admission().Waiting != 1 {
		select {
		case err := <-done:
			t.Fatalf("the third transaction did not wait for a slot (err %v)", err)
		case <-ctx.Done():
			t.Fatal("the third transaction never queued for a slot")
		case <-time.After(time.Millisecond):
		}
	}
	// Transactions without load control pass by.
	free := begin(txn.Options{})
	get(free, "d")
	if _, err := free.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if free.Ledger().AdmissionWait != 0 {
		t.Fatalf("a transaction without load control waited %v", free.Ledger().AdmissionWait)
	}
	if _, err := a.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatalf("the waiting transaction's read: %v", err)
	}
	if w := waiter.Ledger().AdmissionWait; w <= 0 {
		t.Fatalf("the waiting transaction's ledger shows no admission wait")
	}
	for _, tx := range []txn.Txn{b, waiter} {
		if err := tx.Rollback(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if m := db.Admission(); m.Active != 0 || m.Waiting != 0 || m.Waited != 1 {
		t.Fatalf("load control at the end: %+v, want nothing active or waiting, one wait", m)
	}
}
