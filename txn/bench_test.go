package txn_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/meridiandb/meridian/server"
	"github.com/meridiandb/meridian/txn"
)

// The benchmarks run a 3-node in-process cluster without network delay,
// every node's clock claiming ε = 1ms, with ten ranges (split at b/0 … b/9)
// whose leases the allocator spreads over the nodes; the gateway is the
// leaseholder of b/0, so a 1-range transaction is local. Each reports, beside ns/op,
// the share of a transaction's time spent in commit wait, read from its
// latency ledger. Run with -benchtime=2s or more: commit wait only
// dominates once the cluster is warm.
//
//	go test ./txn -run - -bench . -benchtime 3s

const benchRanges = 10

func startBenchCluster(b *testing.B, disk, noCommitWait bool) (*server.Cluster, txn.DB) {
	b.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	o := server.ClusterOptions{Nodes: 3, Node: server.Config{
		QueueInterval: 100 * time.Millisecond,
		TxnKnobs:      txn.TestingKnobs{UnsafeNoCommitWait: noCommitWait},
	}}
	if disk {
		o.Dir = b.TempDir()
	}
	c, err := server.StartCluster(ctx, o)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(c.Stop)
	if err := c.WaitReplicated(ctx, 3); err != nil {
		b.Fatal(err)
	}
	for i := range benchRanges {
		if err := c.Node(1).Router().AdminSplit(ctx, benchKey(i, "")); err != nil {
			b.Fatal(err)
		}
	}
	gw, err := settledLeases(ctx, c)
	if err != nil {
		b.Fatal(err)
	}
	return c, c.Node(gw).TxnDB()
}

// settledLeases waits until the bench ranges' leases have stayed put for
// two seconds and returns the node holding b/0's.
func settledLeases(ctx context.Context, c *server.Cluster) (int, error) {
	holders := func() string {
		var s string
		for r := range benchRanges {
			for i, n := range c.Nodes {
				if rep := n.Store().LookupReplica(benchKey(r, "x")); rep != nil && rep.IsLeaseholder() {
					s += fmt.Sprint(i+1, " ")
				}
			}
		}
		return s
	}
	last, since := holders(), time.Now()
	for time.Since(since) < 2*time.Second {
		select {
		case <-ctx.Done():
			return 0, fmt.Errorf("leases did not settle (last %s): %w", last, ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
		if h := holders(); h != last || len(h) != 2*benchRanges {
			last, since = h, time.Now()
		}
	}
	var gw int
	fmt.Sscan(last, &gw)
	return gw, nil
}

func benchKey(rangeIdx int, suffix string) []byte {
	return []byte(fmt.Sprintf("b/%d/%s", rangeIdx, suffix))
}

// ledgerShare sums the commit-wait share of the transactions run.
type ledgerShare struct{ wait, total atomic.Int64 }

func (s *ledgerShare) add(l txn.Ledger) {
	s.wait.Add(int64(l.CommitWait))
	s.total.Add(int64(l.Total))
}

func (s *ledgerShare) report(b *testing.B) {
	if t := s.total.Load(); t > 0 {
		b.ReportMetric(100*float64(s.wait.Load())/float64(t), "%commit-wait")
		b.ReportMetric(float64(s.wait.Load())/float64(b.N)/1e6, "commit-wait-ms/op")
	}
}

// writeTxn writes one new key in each of the first n ranges.
func writeTxn(ctx context.Context, db txn.DB, n int, id int64) (txn.Ledger, error) {
	tx, err := db.Begin(ctx, txn.Options{})
	if err != nil {
		return txn.Ledger{}, err
	}
	for r := range n {
		if err := tx.Put(ctx, benchKey(r, fmt.Sprint(id)), []byte("v")); err != nil {
			_ = tx.Rollback(ctx)
			return txn.Ledger{}, err
		}
	}
	if _, err := tx.Commit(ctx); err != nil {
		return txn.Ledger{}, err
	}
	return tx.Ledger(), nil
}

// BenchmarkCommit measures read-write transactions writing to 1, 2 and 10
// ranges: latency one at a time (serial) and throughput with 16 clients
// (parallel), on in-memory and on disk-backed stores, with commit wait and
// without it (the difference is what commit wait costs).
func BenchmarkCommit(b *testing.B) {
	for _, disk := range []bool{false, true} {
		for _, noWait := range []bool{false, true} {
			name := map[bool]string{false: "mem", true: "disk"}[disk] + map[bool]string{false: "", true: "/no-commit-wait"}[noWait]
			b.Run(name, func(b *testing.B) {
				_, db := startBenchCluster(b, disk, noWait)
				var seq atomic.Int64
				for _, n := range []int{1, 2, 10} {
					b.Run(fmt.Sprintf("ranges=%d/serial", n), func(b *testing.B) {
						var sh ledgerShare
						ctx := context.Background()
						for b.Loop() {
							l, err := writeTxn(ctx, db, n, seq.Add(1))
							if err != nil {
								b.Fatal(err)
							}
							sh.add(l)
						}
						sh.report(b)
					})
					b.Run(fmt.Sprintf("ranges=%d/parallel", n), func(b *testing.B) {
						var sh ledgerShare
						b.SetParallelism(8)
						b.RunParallel(func(pb *testing.PB) {
							ctx := context.Background()
							for pb.Next() {
								l, err := writeTxn(ctx, db, n, seq.Add(1))
								if err != nil {
									b.Error(err)
									return
								}
								sh.add(l)
							}
						})
						sh.report(b)
					})
				}
			})
		}
	}
}

// BenchmarkReadOnly measures read-only transactions reading one key: they
// take no locks and never commit-wait.
func BenchmarkReadOnly(b *testing.B) {
	_, db := startBenchCluster(b, false, false)
	ctx := context.Background()
	if _, err := writeTxn(ctx, db, 1, 0); err != nil {
		b.Fatal(err)
	}
	read := func() error {
		tx, err := db.Begin(ctx, txn.Options{Mode: txn.ReadOnly})
		if err != nil {
			return err
		}
		if _, ok, err := tx.Get(ctx, benchKey(0, "0"), txn.ReadOptions{}); err != nil || !ok {
			return fmt.Errorf("read: found %v, %v", ok, err)
		}
		_, err = tx.Commit(ctx)
		return err
	}
	b.Run("serial", func(b *testing.B) {
		for b.Loop() {
			if err := read(); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("parallel", func(b *testing.B) {
		b.SetParallelism(8)
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if err := read(); err != nil {
					b.Error(err)
					return
				}
			}
		})
	})
}
