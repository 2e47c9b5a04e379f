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
