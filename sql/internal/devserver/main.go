// Command devserver serves Meridian SQL over the MySQL protocol on one
// in-memory node (sqltest.MemDB): a test binary for running real clients
// (mariadb, sysbench) against the SQL layer before the cluster exists.
//
//	go run ./sql/internal/devserver -addr 127.0.0.1:4000 [-log-queries]
//
// It stops on SIGINT/SIGTERM.
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/meridiandb/meridian/sql/sqltest"
	"github.com/meridiandb/meridian/sql/wire"
	"github.com/meridiandb/meridian/truetime"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:4000", "listen address")
	logQueries := flag.Bool("log-queries", false, "log every COM_QUERY")
	eps := flag.Duration("epsilon", 100*time.Microsecond, "clock uncertainty (commit wait)")
	flag.Parse()
	clock := truetime.NewLocal(truetime.LocalOptions{Epsilon: *eps})
	db := sqltest.NewMemDB(sqltest.MemDBOptions{Clock: clock})
	var knobs wire.TestingKnobs
	if *logQueries {
		knobs.OnQuery = func(q string) { slog.Info("query", "sql", q) }
	}
	s := wire.NewServer(wire.Options{Addr: *addr, DB: db, Cluster: sqltest.NewSingleNode(clock), Knobs: knobs})
	if err := s.Start(context.Background()); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, syscall.SIGINT, syscall.SIGTERM)
	<-ch
	_ = s.Close()
}
