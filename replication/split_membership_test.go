package replication_test

import (
	"bytes"
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/meridiandb/meridian/replication"
	"github.com/meridiandb/meridian/replication/repltest"
)

// TestMembershipChangeAfterSplit commits a split and then a membership
// change proposed before the split applied (so computed from the
// unsplit descriptor): the change must not widen the range back over
// the new right-hand range.
func TestMembershipChangeAfterSplit(t *testing.T) {
	c := repltest.New(t, repltest.Options{Nodes: 4})
	c.Bootstrap(1, keyMin, keyMax, 1, 2, 3)
	c.Start()
	c.Write(1, []byte("a"), []byte("0"), 5*time.Second)
	lh := c.Leaseholder(1, 5*time.Second)
	node := lh.Store().NodeID()
	var others []replication.NodeID
	for i := 1; i <= 4; i++ {
		if replication.NodeID(i) != node {
			others = append(others, replication.NodeID(i))
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	// Cut the leader off so that both proposals wait in its log, in order.
	c.Net.Partition([]replication.NodeID{node}, others)
	pending := func(n int) {
		c.WaitFor(5*time.Second, func() error {
			if p := lh.Status().Proposals; p < n {
				return fmt.Errorf("%d proposals pending, want %d", p, n)
			}
			return nil
		})
	}
	splitErr, changeErr := make(chan error, 1), make(chan error, 1)
	before := lh.Desc()
	go func() {
		_, _, err := lh.Split(ctx, []byte("m"), 2)
		splitErr <- err
	}()
	pending(1)
	go func() {
		_, err := lh.ChangeReplicas(ctx, before, replication.AddLearner, 4)
		changeErr <- err
	}()
	pending(2)
	c.Net.Heal()
	if err := <-splitErr; err != nil {
		t.Fatalf("split: %v", err)
	}
	t.Logf("membership change: %v", <-changeErr)
	c.WaitFor(10*time.Second, func() error {
		for i := 1; i <= 4; i++ {
			r, err := c.Node(i).Store.GetReplica(1)
			if err != nil {
				continue
			}
			d := r.Desc()
			if d == nil {
				continue
			}
			if !bytes.Equal(d.EndKey, []byte("m")) {
				return fmt.Errorf("n%d: r1 is %s, want it to end at the split key", i, replication.DescribeRange(d))
			}
		}
		return nil
	})
}
