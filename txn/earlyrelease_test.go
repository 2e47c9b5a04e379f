package txn_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/meridiandb/meridian/replication"
	"github.com/meridiandb/meridian/server"
	"github.com/meridiandb/meridian/truetime"
	"github.com/meridiandb/meridian/txn"
)

// TestReadDuringCommitWait reads a write whose locks were released before
// its commit wait ended, on a cluster whose clocks disagree within their ε:
// n1 and n3 run 150ms ahead, n2 150ms behind (ε 200ms). T1 commits at a
// leaseholder ahead, so its timestamp lies ~350ms ahead of true time; T2
// reads T1's write during T1's commit wait and commits on n2, whose clock
// alone would give it a timestamp below T1's. T2 must still commit above
// T1, whether it wrote nothing or wrote a range n2 leads.
func TestReadDuringCommitWait(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	clocks := map[int]truetime.Clock{}
	for i, off := range []time.Duration{150 * time.Millisecond, -150 * time.Millisecond, 150 * time.Millisecond} {
		clocks[i+1] = truetime.NewSimulated(truetime.SimOptions{Offset: off, ClaimedEpsilon: 200 * time.Millisecond})
	}
	c, err := server.StartCluster(ctx, server.ClusterOptions{Nodes: 3, Node: server.Config{QueueInterval: 100 * time.Millisecond},
		Clock: func(i int) truetime.Clock { return clocks[i] }})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Stop()
	if err := c.WaitReplicated(ctx, 3); err != nil {
		t.Fatal(err)
	}
	if err := c.Node(1).Router().AdminSplit(ctx, key("m")); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		writes bool
	}{{"T2 only reads", false}, {"T2 writes where n2 leads", true}} {
		t.Run(tc.name, func(t *testing.T) {
			leaseTo(t, c, key("a"), 1)
			leaseTo(t, c, key("z"), 2)
			t1, _ := c.Node(1).TxnDB().Begin(ctx, txn.Options{})
			if err := t1.Put(ctx, key("a"), []byte(tc.name)); err != nil {
				t.Fatal(err)
			}
			type result struct {
				ts  truetime.Timestamp
				err error
			}
			done := make(chan result, 1)
			go func() {
				s, err := t1.Commit(ctx)
				done <- result{s, err}
			}()
			// T2 on n2 reads a until it sees T1's write (T1's commit
			// wait has ~400ms to run).
			var t2 txn.Txn
			if err := waitFor(10*time.Second, func() error {
				t2, _ = c.Node(2).TxnDB().Begin(ctx, txn.Options{})
				v, _, err := t2.Get(ctx, key("a"), txn.ReadOptions{})
				if err == nil && string(v) == tc.name {
					return nil
				}
				t2.Rollback(ctx)
				return fmt.Errorf("T1's write not visible yet (%q, %v)", v, err)
			}); err != nil {
				t.Fatal(err)
			}
			if tc.writes {
				if err := t2.Put(ctx, key("z"), []byte("t2")); err != nil {
					t.Fatal(err)
				}
			}
			s2, err := t2.Commit(ctx)
			if err != nil {
				t.Fatal(err)
			}
			r1 := <-done
			if r1.err != nil {
				t.Fatal(r1.err)
			}
			t.Logf("T1 at %v, T2 (which read T1) at %v", r1.ts, s2)
			if s2 <= r1.ts {
				t.Fatalf("T2 read T1's write but committed at %v, not above T1's %v", s2, r1.ts)
			}
		})
	}
}

// leaseTo moves key's lease to node n.
func leaseTo(t *testing.T, c *server.Cluster, k []byte, n int) {
	t.Helper()
	holder := func() int {
		for i := 1; i <= 3; i++ {
			if r := c.Node(i).Store().LookupReplica(k); r != nil && r.IsLeaseholder() {
				return i
			}
		}
		return 0
	}
	err := waitFor(15*time.Second, func() error {
		h := holder()
		if h == n {
			return nil
		}
		if h == 0 {
			return fmt.Errorf("no leaseholder for %q", k)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := c.Node(h).Store().LookupReplica(k).TransferLease(ctx, replication.NodeID(n)); err != nil {
			return err
		}
		return fmt.Errorf("lease of %q moving from n%d to n%d", k, h, n)
	})
	if err != nil {
		t.Fatal(err)
	}
}
