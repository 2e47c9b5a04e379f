package checkrun

import (
	"context"
	gosql "database/sql"
	"fmt"
	"io"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/meridiandb/meridian/checker/workload"
	"github.com/meridiandb/meridian/truetime"
)

// SQLOptions configure a run over SQL against a running cluster.
type SQLOptions struct {
	Kind        workload.Kind
	Hosts       []string // SQL addresses; clients are spread over them
	User        string
	Duration    time.Duration
	Concurrency int
	Seed        uint64
	History     io.Writer
}

// RunSQL runs the checker's SQL workload through go-sql-driver, one client
// group per host, and writes one history. Every committed transaction's
// timestamp comes from SELECT @@last_commit_ts.
func RunSQL(ctx context.Context, o SQLOptions) (Stats, error) {
	if len(o.Hosts) == 0 {
		return Stats{}, fmt.Errorf("no --host given")
	}
	if o.User == "" {
		o.User = "root"
	}
	if o.Concurrency == 0 {
		o.Concurrency = 6
	}
	if o.Duration == 0 {
		o.Duration = 30 * time.Second
	}
	var dbs []*gosql.DB
	defer func() {
		for _, db := range dbs {
			db.Close()
		}
	}()
	for _, h := range o.Hosts {
		cfg := mysql.NewConfig()
		cfg.User, cfg.Net, cfg.Addr, cfg.DBName = o.User, "tcp", strings.TrimSpace(h), "test"
		cfg.Timeout, cfg.ReadTimeout, cfg.WriteTimeout = 5*time.Second, 15*time.Second, 15*time.Second
		db, err := gosql.Open("mysql", cfg.FormatDSN())
		if err != nil {
			return Stats{}, err
		}
		dbs = append(dbs, db)
	}
	wopts := workload.Options{Kind: o.Kind, Rand: rand.New(rand.NewPCG(o.Seed, 1)), Clock: func() int64 { return int64(truetime.Mono()) },
		Txns: 1 << 30,
		CommitTS: func(ctx context.Context, conn *gosql.Conn) (int64, bool, error) {
			var ts int64
			err := conn.QueryRowContext(ctx, "SELECT @@last_commit_ts").Scan(&ts)
			return ts, err == nil && ts > 0, err
		}}
	sctx, cancel := context.WithTimeout(ctx, time.Minute)
	err := workload.Setup(sctx, dbs[0], wopts)
	cancel()
	if err != nil {
		return Stats{}, err
	}
	wctx, cancel := context.WithTimeout(ctx, o.Duration)
	defer cancel()
	wopts.Concurrency = o.Concurrency
	return workload.RunMulti(wctx, dbs, o.History, wopts)
}
