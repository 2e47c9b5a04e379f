package workload

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"sort"
	"strings"
	"sync"

	"github.com/meridiandb/meridian/checker/history"
)

// Options configures Setup and Run. Zero values mean the defaults, except
// Rand and Clock, which Run requires.
type Options struct {
	Kind Kind
	// Concurrency is the number of clients (goroutines, each with its own
	// connection). Default 5.
	Concurrency int
	// Txns is the number of transactions to run. Default 1000.
	Txns int
	// Tables is the number of tables the keys of list-append and
	// rw-register are spread over (key mod Tables). Default 4.
	Tables int
	// Prefix starts every table name. Default "checker_".
	Prefix string
	// Gen shapes the transactions.
	Gen GenOptions
	// Isolation is requested for every transaction. Default
	// sql.LevelDefault (Meridian is always strictly serializable; set
	// sql.LevelSerializable for MySQL).
	Isolation sql.IsolationLevel
	// Rand draws the transactions. Required.
	Rand *rand.Rand
	// Clock returns monotonic nanoseconds for the history's times. Required.
	Clock func() int64
	// CommitTS, if set, is asked after each commit, on the same connection,
	// for the transaction's commit timestamp; ok is false when the database
	// did not give one.
	CommitTS func(ctx context.Context, conn *sql.Conn) (ts int64, ok bool, err error)
}

func (o Options) withDefaults() Options {
	if o.Concurrency == 0 {
		o.Concurrency = 5
	}
	if o.Txns == 0 {
		o.Txns = 1000
	}
	if o.Tables == 0 {
		o.Tables = 4
	}
	if o.Prefix == "" {
		o.Prefix = "checker_"
	}
	o.Gen = o.Gen.withDefaults()
	return o
}

// Stats counts the outcomes of a run.
type Stats struct {
	OK, Fail, Info int
	// Reasons counts the errors of failed and unknown transactions by kind
	// (when the runner knows them).
	Reasons map[string]int
}

// TopReasons renders the n most frequent failure reasons, most frequent
// first: "12 wounded by an older transaction, 3 lock wait timeout".
func (s Stats) TopReasons(n int) string {
	type kv struct {
		reason string
		count  int
	}
	var all []kv
	for r, c := range s.Reasons {
		all = append(all, kv{r, c})
	}
	sort.Slice(all, func(i, j int) bool {
		if all[i].count != all[j].count {
			return all[i].count > all[j].count
		}
		return all[i].reason < all[j].reason
	})
	var parts []string
	for i, e := range all {
		if i == n {
			parts = append(parts, fmt.Sprintf("%d other kinds", len(all)-n))
			break
		}
		parts = append(parts, fmt.Sprintf("%d %s", e.count, e.reason))
	}
	return strings.Join(parts, ", ")
}

// Setup drops and recreates the workload's tables.
func Setup(ctx context.Context, db *sql.DB, opts Options) error {
	opts = opts.withDefaults()
	for _, stmt := range schema(opts) {
		if _, err := db.ExecContext(ctx, stmt); err != nil {
			return fmt.Errorf("workload setup: %q: %w", stmt, err)
		}
	}
	return nil
}

// Run runs opts.Txns transactions of opts.Kind against db from
// opts.Concurrency clients and writes their history to out. It returns when
// every client has stopped: after the last transaction, or soon after ctx is
// done (transactions then in flight end as fail or info). The error is
// non-nil only if a client could not get a connection, a bank's setup
// transaction did not commit, or out failed.
func Run(ctx context.Context, db *sql.DB, out io.Writer, opts Options) (Stats, error) {
	return RunMulti(ctx, []*sql.DB{db}, out, opts)
}

// RunMulti is Run with the clients spread over several databases (the
// nodes of a cluster): client i uses dbs[i mod len(dbs)]. One history is
// written, in the order the clients observed events.
func RunMulti(ctx context.Context, dbs []*sql.DB, out io.Writer, opts Options) (Stats, error) {
	if len(dbs) == 0 {
		return Stats{}, errors.New("workload: no database")
	}
	opts = opts.withDefaults()
	if opts.Rand == nil || opts.Clock == nil {
		return Stats{}, errors.New("workload: Options.Rand and Options.Clock are required")
	}
	if opts.Kind == Bank && opts.Gen.Accounts < 2 {
		return Stats{}, errors.New("workload: a bank needs at least 2 accounts")
	}
	r := &runner{dbs: dbs, opts: opts, hw: history.NewWriter(out, opts.Clock), gen: NewGenerator(opts.Kind, opts.Rand, opts.Gen)}
	clients := make([]*client, opts.Concurrency)
	for i := range clients {
		c, err := r.newClient(ctx, int64(i))
		if err != nil {
			for _, c := range clients[:i] {
				c.conn.Close()
			}
			return Stats{}, err
		}
		clients[i] = c
	}
	if opts.Kind == Bank {
		// The setup runs alone, on the first client, before anything else.
		t, _ := r.next(ctx)
		err := clients[0].run(ctx, t)
		if err == nil && r.stats().OK != 1 {
			err = errors.New("workload: the bank setup transaction did not commit")
		}
		if err != nil {
			for _, c := range clients {
				c.conn.Close()
			}
			return r.stats(), errors.Join(err, r.hw.Flush())
		}
	}
	var (
		wg      sync.WaitGroup
		errOnce sync.Once
		runErr  error
	)
	for _, c := range clients {
		wg.Go(func() {
			defer func() {
				if c.conn != nil {
					c.conn.Close()
				}
			}()
			for {
				t, ok := r.next(ctx)
				if !ok {
					return
				}
				if err := c.run(ctx, t); err != nil {
					errOnce.Do(func() { runErr = err })
					return
				}
			}
		})
	}
	wg.Wait()
	if err := r.hw.Flush(); err != nil && runErr == nil {
		runErr = err
	}
	return r.stats(), runErr
}

func (r *runner) stats() Stats {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.mu.stats
}

// runner is shared by a run's clients.
type runner struct {
	dbs  []*sql.DB
	opts Options
	hw   *history.Writer
	gen  Generator

	mu struct {
		sync.Mutex
		issued int
		stats  Stats
	}
}

// next returns the next transaction to run, or false when the run is over.
func (r *runner) next(ctx context.Context) (Txn, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.mu.issued >= r.opts.Txns || ctx.Err() != nil {
		return Txn{}, false
	}
	r.mu.issued++
	return r.gen.Next(), true
}

func (r *runner) count(typ history.Type) {
	r.mu.Lock()
	defer r.mu.Unlock()
	switch typ {
	case history.OK:
		r.mu.stats.OK++
	case history.Fail:
		r.mu.stats.Fail++
	case history.Info:
		r.mu.stats.Info++
	}
}
