package replication_test

import (
	"fmt"
	"syscall"
	"testing"
	"time"

	"github.com/meridiandb/meridian/replication"
	"github.com/meridiandb/meridian/replication/repltest"
)

// TestThousandIdleRangesQuiesce starts 1,000 ranges on 3 nodes, lets them
// elect and take leases, and checks that once idle they all quiesce and the
// nodes stop exchanging raft messages (the store-level heartbeat, one per
// node pair, is all that is left).
func TestThousandIdleRangesQuiesce(t *testing.T) {
	if testing.Short() {
		t.Skip("starts 3,000 replicas")
	}
	const ranges = 1000
	opts := repltest.Options{Nodes: 3}
	opts.Store.ActiveWindow = 300 * time.Millisecond
	opts.Store.TickInterval = 50 * time.Millisecond
	c := repltest.New(t, opts)
	for i := 0; i < ranges; i++ {
		start := []byte(fmt.Sprintf("r%04d", i))
		end := []byte(fmt.Sprintf("r%04d", i+1))
		c.Bootstrap(replication.RangeID(i+1), start, end, 1, 2, 3)
	}
	c.Start()
	quiesced := func() (int, error) {
		total := 0
		for i := 1; i <= 3; i++ {
			m := c.Node(i).Store.Metrics()
			total += m.QuiescedRanges
		}
		if total < 3*ranges {
			var stuck []string
			for i := 1; i <= 3 && len(stuck) < 6; i++ {
				for _, r := range c.Node(i).Store.Replicas() {
					if st := r.Status(); !st.Quiesced && len(stuck) < 6 {
						stuck = append(stuck, fmt.Sprintf("n%d r%d leader=%v(%d) term=%d applied=%d lease=%v", i, st.RangeID, st.IsLeader, st.Leader, st.Term, st.AppliedIndex, st.Lease))
					}
				}
			}
			return total, fmt.Errorf("%d of %d replicas quiesced; e.g. %v", total, 3*ranges, stuck)
		}
		return total, nil
	}
	c.WaitFor(60*time.Second, func() error { _, err := quiesced(); return err })
	sent := func() int64 {
		var n int64
		for i := 1; i <= 3; i++ {
			n += c.Node(i).Store.Metrics().MessagesSent
		}
		return n
	}
	before, cpuBefore := sent(), cpuTime()
	// Over a few raft election timeouts, an idle cluster sends (almost) no
	// raft messages.
	idle := time.NewTimer(1500 * time.Millisecond)
	<-idle.C
	if d := sent() - before; d > 30 {
		t.Fatalf("idle ranges sent %d raft messages in 1.5s", d)
	}
	t.Logf("idle: 3,000 replicas used %v of CPU in 1.5s", cpuTime()-cpuBefore)
	// A write wakes its range.
	c.Write(500, []byte("r0499x"), []byte("v"), 10*time.Second)
}

// cpuTime returns the process's user and system CPU time.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
