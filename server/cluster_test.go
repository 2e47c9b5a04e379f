package server

import (
	"context"
	"fmt"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestInProcessClusterReplicatesAndSplits(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	c, err := StartCluster(ctx, ClusterOptions{Nodes: 3, Node: Config{RangeMaxBytes: 16 << 10, QueueInterval: 100 * time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Stop()
	r := c.Node(2).Router()
	for i := 0; i < 500; i++ {
		if _, err := r.Put(ctx, []byte(fmt.Sprintf("user/%05d", i)), make([]byte, 100)); err != nil {
			t.Fatalf("put %d: %v", i, err)
		}
	}
	if err := c.WaitReplicated(ctx, 3); err != nil {
		t.Fatal(err)
	}
	rs, err := c.Node(1).Ranges(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(rs) < 3 {
		t.Fatalf("only %d ranges after writing 50KB with 16KB ranges", len(rs))
	}
	for i := 1; i <= 3; i++ {
		rows, err := c.Node(i).Router().Scan(ctx, []byte("user/"), []byte("user0"), 0, rangesSendOptions())
		if err != nil {
			for j := 1; j <= 3; j++ {
				for _, rep := range c.Node(j).Store().Replicas() {
					st := rep.Status()
					t.Logf("n%d r%d leader=%v(%d) term=%d lease=%v lh=%v q=%v", j, st.RangeID, st.IsLeader, st.Leader, st.Term, st.Lease, rep.IsLeaseholder(), st.Quiesced)
					if st.IsLeader {
						cctx, cc := context.WithTimeout(context.Background(), time.Second)
						_, err := rep.EnsureLease(cctx)
						cc()
						t.Logf("  EnsureLease: %v; now %v", err, c.Node(j).cfg.Clock.Now())
					}
				}
			}
			t.Fatal(err)
		}
		if len(rows) != 500 {
			t.Fatalf("n%d scanned %d rows, want 500", i, len(rows))
		}
	}
	t.Logf("%d ranges", len(rs))
}

// TestScanWithStaleRangeCache: a node whose range cache predates a split
// scans from the split key; the range it routes to no longer holds the key
// and must say so (a range key mismatch), so that the router looks the new
// range up instead of being told to resume where it started, forever.
func TestScanWithStaleRangeCache(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := StartCluster(ctx, ClusterOptions{Nodes: 3, Node: Config{QueueInterval: 100 * time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Stop()
	if err := c.WaitReplicated(ctx, 3); err != nil {
		t.Fatal(err)
	}
	writer, stale := c.Node(1).Router(), c.Node(2).Router()
	for i := 0; i < 20; i++ {
		if _, err := writer.Put(ctx, fmt.Appendf(nil, "k/%02d", i), []byte("v")); err != nil {
			t.Fatal(err)
		}
	}
	// The stale node caches the range holding every k/ key, then another
	// node splits it.
	if rows, err := stale.Scan(ctx, []byte("k/"), []byte("k0"), 0, rangesSendOptions()); err != nil || len(rows) != 20 {
		t.Fatalf("first scan: %d rows, %v", len(rows), err)
	}
	if err := writer.AdminSplit(ctx, []byte("k/10")); err != nil {
		t.Fatal(err)
	}
	if e, err := stale.Lookup(ctx, []byte("k/10")); err != nil || string(e.Desc.EndKey) == "k/10" || string(e.Desc.StartKey) == "k/10" {
		t.Fatalf("the node's cache already knows the split (%v, %v): the test needs it stale", e.Desc, err)
	}
	sctx, scancel := context.WithTimeout(ctx, 10*time.Second)
	defer scancel()
	rows, err := stale.Scan(sctx, []byte("k/10"), []byte("k0"), 0, rangesSendOptions())
	if err != nil || len(rows) != 10 {
		t.Fatalf("scan from the split key with a stale cache: %d rows, %v; want 10", len(rows), err)
	}
	rows, err = stale.Scan(sctx, []byte("k/"), []byte("k0"), 5, rangesSendOptions())
	if err != nil || len(rows) != 5 {
		t.Fatalf("limited scan: %d rows, %v; want 5", len(rows), err)
	}
}
