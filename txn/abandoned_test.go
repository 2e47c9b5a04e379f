package txn_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/meridiandb/meridian/server"
	"github.com/meridiandb/meridian/txn"
)

func leaseholderOf(c *server.Cluster, k []byte) int {
	for i, n := range c.Nodes {
		if n == nil {
			continue
		}
		if r := n.Store().LookupReplica(k); r != nil && r.IsLeaseholder() {
			return i + 1
		}
	}
	return 0
}

// A transaction whose gateway restarted (and so forgot it) holds an
// exclusive lock: the participant finds it abandoned and releases the
// lock, instead of blocking younger transactions forever.
func TestAbandonedLocksReleased(t *testing.T) {
	c := startCluster(t, 3)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	k := key("abandoned")
	var lh int
	if err := waitFor(10*time.Second, func() error {
		if lh = leaseholderOf(c, k); lh == 0 {
			return context.DeadlineExceeded
		}
		return nil
	}); err != nil {
		t.Fatal("no leaseholder for the key")
	}
	gw := lh%3 + 1
	old, err := c.Node(gw).TxnDB().Begin(ctx, txn.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := old.Get(ctx, k, txn.ReadOptions{ForUpdate: true}); err != nil {
		t.Fatal(err)
	}
	if d := c.Node(lh).TxnParticipant().Locks().Describe(); !strings.Contains(d, "exclusive") {
		t.Fatalf("no exclusive lock at n%d:\n%s", lh, d)
	}
	c.StopNode(gw)
	if err := c.StartNode(ctx, gw); err != nil {
		t.Fatal(err)
	}
	// The holder is older, so without the sweep this waits out its whole
	// lock timeout and fails.
	young, err := c.Node(lh).TxnDB().Begin(ctx, txn.Options{LockTimeout: 30 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if _, _, err := young.Get(ctx, k, txn.ReadOptions{ForUpdate: true}); err != nil {
		t.Fatalf("after the gateway restarted: %v\nlocks at n%d:\n%s", err, lh, c.Node(lh).TxnParticipant().Locks().Describe())
	}
	if err := young.Put(ctx, k, []byte("young")); err != nil {
		t.Fatal(err)
	}
	if _, err := young.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	t.Logf("the abandoned lock went after %v", time.Since(start).Round(time.Millisecond))
}
