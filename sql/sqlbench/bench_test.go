package sqlbench

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	_ "github.com/go-sql-driver/mysql"

	"github.com/meridiandb/meridian/ranges/rangespb"
	"github.com/meridiandb/meridian/server"
	"github.com/meridiandb/meridian/truetime"
)

const (
	tableSize = 10000
	threads   = 16
)

// bench is a started cluster with sbtest1 loaded, shared by the benchmarks
// of one test binary run.
type bench struct {
	c   *server.Cluster
	dbs []*sql.DB // one pool per node
}

var (
	benchOnce sync.Once
	shared    *bench
	benchErr  error
)

func start(b *testing.B) *bench {
	b.Helper()
	benchOnce.Do(func() { shared, benchErr = setup() })
	if benchErr != nil {
		b.Fatal(benchErr)
	}
	return shared
}

func setup() (*bench, error) {
	bn, err := setupCluster()
	if err != nil {
		return nil, err
	}
	return bn, bn.load()
}

// setupCluster starts the cluster and opens a pool per node.
func setupCluster() (*bench, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	clock := truetime.NewLocal(truetime.LocalOptions{})
	c, err := server.StartCluster(ctx, server.ClusterOptions{
		Nodes: 3, SQL: true,
		Clock: func(int) truetime.Clock { return clock },
		Locality: func(i int) *rangespb.Locality {
			return &rangespb.Locality{Region: "local", Zone: fmt.Sprintf("z%d", i)}
		},
		Node:   server.Config{QueueInterval: 500 * time.Millisecond},
		Logger: slog.New(slog.DiscardHandler),
	})
	if err != nil {
		return nil, err
	}
	if err := c.WaitReplicated(ctx, 3); err != nil {
		return nil, err
	}
	bn := &bench{c: c}
	for i := 1; i <= 3; i++ {
		db, err := sql.Open("mysql", fmt.Sprintf("root@tcp(%s)/test?interpolateParams=false", c.Node(i).SQLAddr()))
		if err != nil {
			return nil, err
		}
		db.SetMaxIdleConns(threads)
		bn.dbs = append(bn.dbs, db)
	}
	return bn, nil
}

// load creates and fills sbtest1.
func (bn *bench) load() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	db := bn.dbs[0]
	if _, err := db.ExecContext(ctx, `CREATE TABLE sbtest1 (id INTEGER NOT NULL AUTO_INCREMENT, k INTEGER DEFAULT '0' NOT NULL,
		c CHAR(120) DEFAULT '' NOT NULL, pad CHAR(60) DEFAULT '' NOT NULL, PRIMARY KEY (id))`); err != nil {
		return err
	}
	for lo := 1; lo <= tableSize; lo += 500 {
		var sb strings.Builder
		sb.WriteString("INSERT INTO sbtest1 (id, k, c, pad) VALUES ")
		for id := lo; id < lo+500 && id <= tableSize; id++ {
			if id > lo {
				sb.WriteString(",")
			}
			fmt.Fprintf(&sb, "(%d, %d, '%s', '%s')", id, rand.IntN(tableSize), strings.Repeat("c", 119), strings.Repeat("p", 59))
		}
		if _, err := db.ExecContext(ctx, sb.String()); err != nil {
			return err
		}
	}
	if _, err := db.ExecContext(ctx, "CREATE INDEX k_1 ON sbtest1(k)"); err != nil {
		return err
	}
	return nil
}

// run runs b.N operations on threads workers spread over the nodes, each
// with its own connection, and reports ops/s.
func (bn *bench) run(b *testing.B, op func(ctx context.Context, conn *sql.Conn, rng *rand.Rand) error) {
	ctx := context.Background()
	conns := make([]*sql.Conn, threads)
	for i := range conns {
		c, err := bn.dbs[i%len(bn.dbs)].Conn(ctx)
		if err != nil {
			b.Fatal(err)
		}
		defer c.Close()
		conns[i] = c
	}
	var next atomic.Int64
	var errs atomic.Int64
	var wg sync.WaitGroup
	b.ResetTimer()
	start := time.Now()
	for i := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(i), 7))
			for next.Add(1) <= int64(b.N) {
				if err := op(ctx, conns[i], rng); err != nil {
					if errs.Add(1) < 5 {
						b.Log(err)
					}
				}
			}
		}()
	}
	wg.Wait()
	el := time.Since(start)
	b.StopTimer()
	b.ReportMetric(float64(b.N)/el.Seconds(), "ops/s")
	b.ReportMetric(float64(errs.Load()), "errors")
	for _, c := range conns {
		c.Close()
	}
	bn.checkLocks(b)
}

// checkLocks reports locks still held once every transaction has ended
// (the connections are closed): they belong to no live transaction.
func (bn *bench) checkLocks(tb testing.TB) {
	deadline := time.NewTimer(5 * time.Second)
	defer deadline.Stop()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		var left []string
		for _, n := range bn.c.Nodes {
			if d := n.TxnParticipant().Locks().Describe(); d != "" {
				left = append(left, fmt.Sprintf("n%d:\n%s", n.NodeID(), d))
			}
		}
		if len(left) == 0 {
			return
		}
		select {
		case <-deadline.C:
			tb.Errorf("locks left after every transaction ended:\n%s", strings.Join(left, "\n"))
			return
		case <-tick.C:
		}
	}
}

// BenchmarkPointSelect is sysbench's oltp_point_select with prepared
// statements: autocommit SELECT c FROM sbtest1 WHERE id=?.
func BenchmarkPointSelect(b *testing.B) {
	bn := start(b)
	stmts := map[*sql.Conn]*sql.Stmt{}
	var mu sync.Mutex
	bn.run(b, func(ctx context.Context, conn *sql.Conn, rng *rand.Rand) error {
		mu.Lock()
		st := stmts[conn]
		if st == nil {
			var err error
			if st, err = conn.PrepareContext(ctx, "SELECT c FROM sbtest1 WHERE id=?"); err != nil {
				mu.Unlock()
				return err
			}
			stmts[conn] = st
		}
		mu.Unlock()
		var c string
		return st.QueryRowContext(ctx, 1+rng.IntN(tableSize)).Scan(&c)
	})
}

// BenchmarkWriteOnly is sysbench's oltp_write_only transaction (one
// table): BEGIN, an index update, a non-index update, a delete and an
// insert of the same id, COMMIT; text queries.
func BenchmarkWriteOnly(b *testing.B) {
	bn := start(b)
	bn.run(b, func(ctx context.Context, conn *sql.Conn, rng *rand.Rand) error {
		id := func() int { return 1 + rng.IntN(tableSize) }
		d := id()
		q := []string{"BEGIN",
			fmt.Sprintf("UPDATE sbtest1 SET k=k+1 WHERE id=%d", id()),
			fmt.Sprintf("UPDATE sbtest1 SET c='%d' WHERE id=%d", rng.Int(), id()),
			fmt.Sprintf("DELETE FROM sbtest1 WHERE id=%d", d),
			fmt.Sprintf("INSERT INTO sbtest1 (id, k, c, pad) VALUES (%d, %d, 'x', 'y')", d, id()), "COMMIT"}
		for _, s := range q {
			if _, err := conn.ExecContext(ctx, s); err != nil {
				conn.ExecContext(ctx, "ROLLBACK")
				return err
			}
		}
		return nil
	})
}

// BenchmarkReadWrite is a transaction shaped like sysbench's
// oltp_read_write (one table): 10 point selects, 4 range queries, 2
// updates, a delete and an insert, in BEGIN … COMMIT, with text queries.
func BenchmarkReadWrite(b *testing.B) {
	bn := start(b)
	bn.run(b, func(ctx context.Context, conn *sql.Conn, rng *rand.Rand) error {
		id := func() int { return 1 + rng.IntN(tableSize) }
		q := []string{"BEGIN"}
		for range 10 {
			q = append(q, fmt.Sprintf("SELECT c FROM sbtest1 WHERE id=%d", id()))
		}
		lo := id()
		q = append(q, fmt.Sprintf("SELECT c FROM sbtest1 WHERE id BETWEEN %d AND %d", lo, lo+99),
			fmt.Sprintf("SELECT SUM(k) FROM sbtest1 WHERE id BETWEEN %d AND %d", lo, lo+99),
			fmt.Sprintf("SELECT c FROM sbtest1 WHERE id BETWEEN %d AND %d ORDER BY c", lo, lo+99),
			fmt.Sprintf("SELECT DISTINCT c FROM sbtest1 WHERE id BETWEEN %d AND %d ORDER BY c", lo, lo+99),
			fmt.Sprintf("UPDATE sbtest1 SET k=k+1 WHERE id=%d", id()),
			fmt.Sprintf("UPDATE sbtest1 SET c='%d' WHERE id=%d", rng.Int(), id()))
		d := id()
		q = append(q, fmt.Sprintf("DELETE FROM sbtest1 WHERE id=%d", d),
			fmt.Sprintf("INSERT INTO sbtest1 (id, k, c, pad) VALUES (%d, %d, 'x', 'y')", d, id()), "COMMIT")
		for _, s := range q {
			if _, err := conn.ExecContext(ctx, s); err != nil {
				conn.ExecContext(ctx, "ROLLBACK")
				return err
			}
		}
		return nil
	})
}
