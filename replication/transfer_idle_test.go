package replication_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/meridiandb/meridian/replication/repltest"
)

// TestLeaseTransferThenIdle transfers the lease and leaves the range idle:
// the new holder must still lead and serve when asked much later.
func TestLeaseTransferThenIdle(t *testing.T) {
	opts := repltest.Options{Nodes: 3}
	opts.Store.ActiveWindow = 200 * time.Millisecond
	c := repltest.New(t, opts)
	c.Bootstrap(1, keyMin, keyMax, 1, 2, 3)
	c.Start()
	c.Write(1, []byte("a"), []byte("0"), 5*time.Second)
	for round := 0; round < 3; round++ {
		lh := c.Leaseholder(1, 5*time.Second)
		to := lh.Store().NodeID()%3 + 1
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		if err := lh.TransferLease(ctx, to); err != nil {
			t.Fatal(err)
		}
		cancel()
		idle := time.NewTimer(1500 * time.Millisecond)
		<-idle.C
		target, _ := c.Node(int(to)).Store.GetReplica(1)
		c.WaitFor(3*time.Second, func() error {
			ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
			defer cancel()
			if _, err := target.EnsureLease(ctx); err != nil {
				return fmt.Errorf("n%d after idling: %v (status %+v)", to, err, target.Status())
			}
			return nil
		})
	}
}
