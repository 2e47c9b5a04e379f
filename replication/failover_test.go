package replication_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/meridiandb/meridian/replication"
	"github.com/meridiandb/meridian/replication/repltest"
	"github.com/meridiandb/meridian/truetime"
)

// leader returns the running replica that is raft leader of the range.
func leader(c *repltest.Cluster, rangeID replication.RangeID) (int, *replication.Replica) {
	for i, n := range c.Nodes {
		if !c.Running(i + 1) {
			continue
		}
		if r, err := n.Store.GetReplica(rangeID); err == nil && r.Status().IsLeader {
			return i + 1, r
		}
	}
	return 0, nil
}

func TestLeaderLossElectsNewLeader(t *testing.T) {
	for _, n := range []int{3, 5} {
		t.Run(fmt.Sprintf("nodes=%d", n), func(t *testing.T) {
			opts := repltest.Options{Nodes: n}
			opts.Store.TickInterval = 50 * time.Millisecond
			opts.Store.LeaseDuration = time.Second
			c := repltest.New(t, opts)
			var nodes []int
			for i := 1; i <= n; i++ {
				nodes = append(nodes, i)
			}
			c.Bootstrap(1, keyMin, keyMax, nodes...)
			c.Start()
			c.Write(1, []byte("a"), []byte("1"), 5*time.Second)
			old, _ := leader(c, 1)
			if old == 0 {
				t.Fatal("no leader after a write")
			}
			c.StopNode(old)
			// Followers notice after one election timeout (randomized up to two)
			// and elect in a round or two more.
			electionTimeout := 10 * 50 * time.Millisecond
			c.WaitFor(4*electionTimeout, func() error {
				if i, _ := leader(c, 1); i == 0 {
					return fmt.Errorf("no leader since n%d stopped", old)
				}
				return nil
			})
			// The new leader commits.
			c.Write(1, []byte("b"), []byte("2"), 10*time.Second)
			for i := 1; i <= n; i++ {
				if i == old {
					continue
				}
				c.WaitFor(5*time.Second, func() error {
					if v, ok := c.ReadLatest(i, []byte("b")); !ok || string(v) != "2" {
						return fmt.Errorf("n%d has not applied b", i)
					}
					return nil
				})
			}
		})
	}
}

func TestMinorityPartitionCommitsNothing(t *testing.T) {
	c := repltest.New(t, repltest.Options{Nodes: 5})
	c.Bootstrap(1, keyMin, keyMax, 1, 2, 3, 4, 5)
	c.Start()
	c.Write(1, []byte("a"), []byte("1"), 5*time.Second)
	old, oldLeader := leader(c, 1)
	// Cut the leader and one follower off from the other three.
	var minority, majority []replication.NodeID
	minority = append(minority, replication.NodeID(old))
	for i := 1; i <= 5; i++ {
		if i == old {
			continue
		}
		if len(minority) < 2 {
			minority = append(minority, replication.NodeID(i))
		} else {
			majority = append(majority, replication.NodeID(i))
		}
	}
	c.Net.Partition(minority, majority)
	// A write on the old leader cannot commit.
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	if _, err := oldLeader.EnsureLease(ctx); err == nil {
		w, err := oldLeader.AssignTimestamp(0)
		if err == nil {
			err = oldLeader.ProposeWrite(ctx, w, writeBatch("minority", "x", w.TS))
			if err == nil {
				t.Fatal("the minority committed a write")
			}
		}
	}
	// The majority elects and commits.
	var committed truetime.Timestamp
	c.WaitFor(10*time.Second, func() error {
		for _, id := range majority {
			r, err := c.Node(int(id)).Store.GetReplica(1)
			if err != nil {
				continue
			}
			if ts, err := repltest.WriteAt(r, []byte("majority"), []byte("y")); err == nil {
				committed = ts
				return nil
			}
		}
		return fmt.Errorf("majority has not committed")
	})
	// Nothing the minority proposed exists anywhere, and after healing the
	// minority learns the majority's write.
	c.Net.Heal()
	for i := 1; i <= 5; i++ {
		c.WaitFor(10*time.Second, func() error {
			if _, ok := c.ReadLatest(i, []byte("minority")); ok {
				t.Fatalf("n%d has the minority's write", i)
			}
			if v, ok := c.ReadLatest(i, []byte("majority")); !ok || string(v) != "y" {
				return fmt.Errorf("n%d lacks the majority's write at %d", i, committed)
			}
			return nil
		})
	}
}

// TestLeasesNeverOverlap partitions the leaseholder away while clocks
// disagree within their uncertainty, and checks in simulated true time that
// the old leaseholder stopped serving before the new one started, and that
// the applied leases' intervals do not overlap.
func TestLeasesNeverOverlap(t *testing.T) {
	offsets := []time.Duration{-800 * time.Microsecond, 0, 700 * time.Microsecond}
	clocks := map[int]*truetime.SimClock{}
	opts := repltest.Options{Nodes: 3, Clock: func(i int) truetime.Clock {
		c := truetime.NewSimulated(truetime.SimOptions{Offset: offsets[i-1], ClaimedEpsilon: time.Millisecond})
		clocks[i] = c
		return c
	}}
	opts.Store.LeaseDuration = time.Second
	c := repltest.New(t, opts)
	c.Bootstrap(1, keyMin, keyMax, 1, 2, 3)
	c.Start()
	c.Write(1, []byte("a"), []byte("1"), 5*time.Second)
	oldIdx, old := leader(c, 1)
	firstLease := old.Lease()

	// Watch who serves, in true time, from now on.
	var (
		mu          sync.Mutex
		lastOld     truetime.Timestamp
		firstNew    = truetime.Timestamp(1<<63 - 1)
		firstNewIdx int
		stop        = make(chan struct{})
		wg          sync.WaitGroup
	)
	for i := 1; i <= 3; i++ {
		r, _ := c.Node(i).Store.GetReplica(1)
		wg.Add(1)
		go func(i int, r *replication.Replica) {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				serving, now := r.LeaseholderAt()
				if !serving {
					continue
				}
				// The true time of the decision: the clock's reading less
				// its offset.
				at := now.Earliest + (now.Latest-now.Earliest)/2 - truetime.Timestamp(offsets[i-1])
				mu.Lock()
				if i == oldIdx {
					lastOld = max(lastOld, at)
				} else if at < firstNew {
					firstNew, firstNewIdx = at, i
				}
				mu.Unlock()
			}
		}(i, r)
	}
	c.Net.Isolate(replication.NodeID(oldIdx))
	// The majority takes over; keep it busy so it takes the lease.
	c.WaitFor(15*time.Second, func() error {
		for i := 1; i <= 3; i++ {
			if i == oldIdx {
				continue
			}
			r, _ := c.Node(i).Store.GetReplica(1)
			if _, err := repltest.WriteAt(r, []byte("b"), []byte("2")); err == nil {
				return nil
			}
		}
		return fmt.Errorf("no new leaseholder yet")
	})
	close(stop)
	wg.Wait()
	if firstNewIdx == 0 || lastOld == 0 {
		t.Fatalf("leaseholders not observed serving: old %d, new n%d", lastOld, firstNewIdx)
	}
	if lastOld >= firstNew {
		t.Fatalf("old leaseholder n%d served at true time %d, new leaseholder n%d already at %d", oldIdx, lastOld, firstNewIdx, firstNew)
	}
	t.Logf("old n%d last served %v before new n%d first served", oldIdx, time.Duration(firstNew-lastOld), firstNewIdx)
	newLease := c.Leaseholder(1, 5*time.Second).Lease()
	if newLease.Sequence <= firstLease.Sequence {
		t.Fatalf("lease sequence did not advance: %d then %d", firstLease.Sequence, newLease.Sequence)
	}
	if newLease.Start < firstLease.Expiration && newLease.Sequence == firstLease.Sequence+1 {
		t.Fatalf("new lease %v starts before the old one %v expires", newLease, firstLease)
	}
}
