package replication_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/meridiandb/meridian/replication"
	"github.com/meridiandb/meridian/replication/repltest"
	"github.com/meridiandb/meridian/truetime"
)

// TestLeaseTransfer moves the lease around the replicas: each time the
// target serves (raft leadership follows the lease) and writes continue.
func TestLeaseTransfer(t *testing.T) {
	c := repltest.New(t, repltest.Options{Nodes: 3})
	c.Bootstrap(1, keyMin, keyMax, 1, 2, 3)
	c.Start()
	c.Write(1, []byte("a"), []byte("0"), 5*time.Second)
	for round := 1; round <= 4; round++ {
		lh := c.Leaseholder(1, 5*time.Second)
		from := lh.Store().NodeID()
		to := from%3 + 1
		start := truetime.Mono()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		if err := lh.TransferLease(ctx, to); err != nil {
			t.Fatal(err)
		}
		cancel()
		target, _ := c.Node(int(to)).Store.GetReplica(1)
		c.WaitFor(5*time.Second, func() error {
			if !target.IsLeaseholder() {
				return fmt.Errorf("n%d does not serve yet: %+v", to, target.Status())
			}
			return nil
		})
		t.Logf("lease n%d -> n%d served after %v", from, to, truetime.Mono()-start)
		if _, err := repltest.WriteAt(target, []byte("a"), []byte(fmt.Sprint(round))); err != nil {
			t.Fatal(err)
		}
		if old, _ := c.Node(int(from)).Store.GetReplica(1); old.IsLeaseholder() {
			t.Fatalf("n%d still serves after transferring its lease", from)
		}
	}
	_ = replication.NodeID(0)
}
