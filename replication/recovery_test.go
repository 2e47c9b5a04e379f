package replication_test

import (
	"bytes"
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/meridiandb/meridian/replication"
	"github.com/meridiandb/meridian/replication/repltest"
	"github.com/meridiandb/meridian/storage"
)

func keyN(i int) []byte { return []byte(fmt.Sprintf("key-%05d", i)) }

func waitApplied(t *testing.T, c *repltest.Cluster, nodes []int, keys []int) {
	t.Helper()
	for _, i := range nodes {
		c.WaitFor(10*time.Second, func() error {
			for _, k := range keys {
				if v, ok := c.ReadLatest(i, keyN(k)); !ok || string(v) != fmt.Sprint(k) {
					return fmt.Errorf("n%d: %s = %q (found %v)", i, keyN(k), v, ok)
				}
			}
			return nil
		})
	}
}

func TestLaggingFollowerCatchesUpBySnapshot(t *testing.T) {
	opts := repltest.Options{Nodes: 3}
	opts.Store.RaftLogMaxEntries = 20
	c := repltest.New(t, opts)
	c.Bootstrap(1, keyMin, keyMax, 1, 2, 3)
	c.Start()
	c.Write(1, keyN(0), []byte("0"), 5*time.Second)
	lag, _ := leader(c, 1)
	lag = lag%3 + 1 // a follower
	c.StopNode(lag)
	var keys []int
	for k := 1; k <= 120; k++ {
		c.Write(1, keyN(k), []byte(fmt.Sprint(k)), 5*time.Second)
		keys = append(keys, k)
	}
	c.StartNode(lag)
	waitApplied(t, c, []int{lag}, keys)
	if got := c.Node(lag).Store.Metrics().SnapshotsRecv; got == 0 {
		t.Fatalf("n%d caught up without a snapshot (log truncation did not happen?)", lag)
	}
	// The log was really truncated on the others.
	for i := 1; i <= 3; i++ {
		if i != lag && c.Node(i).Store.Metrics().LogTruncations == 0 {
			t.Errorf("n%d never truncated its log", i)
		}
	}
	// The caught-up replica holds the same data.
	assertSameData(t, c, []int{1, 2, 3}, 1)
}

func TestRestartRecoversState(t *testing.T) {
	c := repltest.New(t, repltest.Options{Nodes: 3})
	c.Bootstrap(1, keyMin, keyMax, 1, 2, 3)
	c.Start()
	var keys []int
	for k := 0; k < 30; k++ {
		c.Write(1, keyN(k), []byte(fmt.Sprint(k)), 5*time.Second)
		keys = append(keys, k)
	}
	waitApplied(t, c, []int{1, 2, 3}, keys)
	before := c.Leaseholder(1, 5*time.Second).Lease()
	for i := 1; i <= 3; i++ {
		c.StopNode(i)
	}
	for i := 1; i <= 3; i++ {
		c.StartNode(i)
	}
	waitApplied(t, c, []int{1, 2, 3}, keys)
	for k := 30; k < 40; k++ {
		c.Write(1, keyN(k), []byte(fmt.Sprint(k)), 10*time.Second)
		keys = append(keys, k)
	}
	waitApplied(t, c, []int{1, 2, 3}, keys)
	after := c.Leaseholder(1, 5*time.Second).Lease()
	if after.Sequence < before.Sequence {
		t.Fatalf("lease sequence went back from %d to %d after restart", before.Sequence, after.Sequence)
	}
	assertSameData(t, c, []int{1, 2, 3}, 1)
}

// assertSameData checks that the given nodes' replicas of the range hold the
// same data (by checksum of everything visible now).
func assertSameData(t *testing.T, c *repltest.Cluster, nodes []int, rangeID replication.RangeID) {
	t.Helper()
	c.WaitFor(10*time.Second, func() error {
		var first storage.Checksum
		for i, n := range nodes {
			sum, err := storage.MVCCChecksum(c.Node(n).Engine, keyMin, keyMax, 1<<62)
			if err != nil {
				return err
			}
			if i == 0 {
				first = sum
			} else if sum != first {
				return fmt.Errorf("n%d holds %d rows (%x), n%d holds %d rows (%x)", n, sum.Rows, sum.Sum[:4], nodes[0], first.Rows, first.Sum[:4])
			}
		}
		return nil
	})
}

func TestAddAndRemoveReplicaUnderLoad(t *testing.T) {
	c := repltest.New(t, repltest.Options{Nodes: 5})
	c.Bootstrap(1, keyMin, keyMax, 1, 2, 3)
	c.Start()
	c.Write(1, keyN(0), []byte("0"), 5*time.Second)

	var (
		mu    sync.Mutex
		acked []int
		stop  = make(chan struct{})
		done  = make(chan struct{})
	)
	go func() {
		defer close(done)
		for k := 1; ; k++ {
			select {
			case <-stop:
				return
			default:
			}
			if _, err := c.TryWrite(1, keyN(k), []byte(fmt.Sprint(k)), 5*time.Second); err == nil {
				mu.Lock()
				acked = append(acked, k)
				mu.Unlock()
			}
		}
	}()

	change := func(typ replication.ReplicaChangeType, node int) {
		t.Helper()
		c.WaitFor(20*time.Second, func() error {
			lh := c.Leaseholder(1, 10*time.Second)
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			defer cancel()
			_, err := lh.ChangeReplicas(ctx, nil, typ, replication.NodeID(node))
			return err
		})
	}
	waitCaughtUp := func(node int) {
		t.Helper()
		c.WaitFor(20*time.Second, func() error {
			lh := c.Leaseholder(1, 10*time.Second)
			ctx, cancel := context.WithTimeout(context.Background(), time.Second)
			defer cancel()
			match, commit, err := lh.ReplicaProgress(ctx)
			if err != nil {
				return err
			}
			rd, _ := replication.ReplicaOnNode(lh.Desc(), replication.NodeID(node))
			if rd == nil || match[replication.ReplicaID(rd.ReplicaId)] < commit {
				return fmt.Errorf("n%d not caught up", node)
			}
			return nil
		})
	}
	change(replication.AddLearner, 4)
	waitCaughtUp(4)
	change(replication.PromoteLearner, 4)
	// Remove a replica that is not the leaseholder.
	lh := c.Leaseholder(1, 10*time.Second)
	victim := 2
	if lh.Store().NodeID() == 2 {
		victim = 3
	}
	change(replication.RemoveReplica, victim)
	c.WaitFor(5*time.Second, func() error {
		mu.Lock()
		defer mu.Unlock()
		if len(acked) < 20 {
			return fmt.Errorf("only %d writes so far", len(acked))
		}
		return nil
	})
	close(stop)
	<-done

	var members []int
	for i := 1; i <= 4; i++ {
		if i != victim {
			members = append(members, i)
		}
	}
	mu.Lock()
	keys := append([]int{0}, acked...)
	mu.Unlock()
	waitApplied(t, c, members, keys)
	assertSameData(t, c, members, 1)
	// The removed replica is gone from its store, data and all.
	c.WaitFor(10*time.Second, func() error {
		if _, err := c.Node(victim).Store.GetReplica(1); err == nil {
			return fmt.Errorf("n%d still has r1", victim)
		}
		res, err := c.Node(victim).Engine.MVCCScan(keyMin, keyMax, 1<<62, storage.ScanOptions{MaxRows: 1})
		if err != nil {
			return err
		}
		if len(res.Rows) > 0 {
			return fmt.Errorf("n%d still holds data: %s", victim, res.Rows[0].Key)
		}
		return nil
	})
	desc := c.Leaseholder(1, 5*time.Second).Desc()
	if len(desc.Replicas) != 3 || bytes.Contains([]byte(replication.DescribeRange(desc)), []byte("learner")) {
		t.Fatalf("unexpected final descriptor %s", replication.DescribeRange(desc))
	}
	t.Logf("%d acknowledged writes during the changes; final %s", len(keys), replication.DescribeRange(desc))
}
