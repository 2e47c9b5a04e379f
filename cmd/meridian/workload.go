package main

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/meridiandb/meridian/marketplace"
)

// newWorkloadCmd groups the workloads `meridian workload` runs.
func newWorkloadCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "workload",
		Short: "Run a workload against a cluster and report throughput and latency",
	}
	cmd.AddCommand(newWorkloadMarketplaceCmd())
	return cmd
}

func newWorkloadMarketplaceCmd() *cobra.Command {
	var (
		hosts, database, user, password string
		w                               marketplace.Workload
		seed                            uint64
		load                            bool
		sample                          marketplace.SampleOptions
	)
	cmd := &cobra.Command{
		Use:   "marketplace --host H:P[,H:P…] --duration D --concurrency C",
		Short: "Buyers and sellers of the marketplace: a weighted mix of operations",
		Long: `Run the marketplace workload: C clients, each a buyer and a seller of the
sample data, perform a weighted mix of operations (searches, carts,
purchases, feedback, listings, price changes, …) for D, spread over the
given hosts. A progress bar goes to standard error; at the end a table gives
each operation's count, throughput and p50/p95/p99/max latency. Ctrl-C ends
the run early, with the report.

--load first (re)creates the database, the schema and the sample data
(accounts' password: "` + marketplace.SamplePassword + `"). Business outcomes (out of stock, empty
cart, …) count as "rejected", not errors; the exit status is 1 if any
operation failed.`,
		Example: `  meridian workload marketplace --host 127.0.0.1:4000 --load --duration 1m --concurrency 16`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			addrs := strings.Split(hosts, ",")
			for i, a := range addrs {
				if addrs[i] = strings.TrimSpace(a); addrs[i] == "" {
					return fmt.Errorf("--host %q: empty address", hosts)
				}
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt)
			defer stop()
			stderr := cmd.ErrOrStderr()
			if load {
				start := time.Now()
				sample.Seed, sample.Now = seed, time.Now()
				rep, err := loadMarketplace(ctx, addrs[0], user, password, database, sample)
				if err != nil {
					return err
				}
				fmt.Fprintf(stderr, "loaded %d sellers, %d buyers, %d items, %d purchases, %d ratings into %s in %.1fs\n",
					rep.Sellers, rep.Buyers, rep.Items, rep.Purchases, rep.Feedback, database, time.Since(start).Seconds())
			}
			conc := max(w.Concurrency, 1)
			for i, a := range addrs {
				db, err := sql.Open("mysql", marketplace.DSN(a, user, password, database))
				if err != nil {
					return err
				}
				defer db.Close()
				perHost := (conc + len(addrs) - 1 - i) / len(addrs)
				db.SetMaxOpenConns(perHost + 2)
				db.SetMaxIdleConns(perHost + 2)
				w.DBs = append(w.DBs, db)
			}
			w.Clock = marketplace.ClockFunc(time.Now)
			w.Seed = seed
			w.RunID = fmt.Sprint(time.Now().Unix())
			w.Progress = stderr
			if f, ok := stderr.(*os.File); !ok || !isCharDevice(f) {
				w.ProgressLines, w.ProgressInterval = true, 5*time.Second
			}
			rep, err := w.Run(ctx)
			if err != nil {
				return err
			}
			if err := rep.WriteTable(cmd.OutOrStdout()); err != nil {
				return err
			}
			if rep.Total.Errors > 0 {
				return fmt.Errorf("%d operations failed", rep.Total.Errors)
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&hosts, "host", "127.0.0.1:4000", "SQL addresses of the nodes, comma-separated; clients are spread over them")
	f.StringVar(&database, "database", "marketplace", "database holding the marketplace")
	f.StringVarP(&user, "user", "u", "root", "user name")
	f.StringVarP(&password, "password", "p", "", "password")
	f.DurationVar(&w.Duration, "duration", 30*time.Second, "how long to run")
	f.IntVar(&w.Concurrency, "concurrency", 8, "number of concurrent clients")
	f.Uint64Var(&seed, "seed", 1, "seed of the sample data and of the clients' choices")
	f.BoolVar(&load, "load", false, "drop and recreate the schema and load the sample data first")
	f.IntVar(&sample.Sellers, "sellers", 50, "with --load: sellers")
	f.IntVar(&sample.Buyers, "buyers", 500, "with --load: buyers")
	f.IntVar(&sample.Items, "items", 5000, "with --load: items")
	f.IntVar(&sample.Purchases, "purchases", 500, "with --load: purchases")
	return cmd
}

// loadMarketplace (re)creates database on addr with the marketplace schema
// and sample data.
func loadMarketplace(ctx context.Context, addr, user, password, database string, opts marketplace.SampleOptions) (marketplace.SampleReport, error) {
	admin, err := sql.Open("mysql", marketplace.DSN(addr, user, password, ""))
	if err != nil {
		return marketplace.SampleReport{}, err
	}
	defer admin.Close()
	if strings.ContainsAny(database, "`") {
		return marketplace.SampleReport{}, errors.New("--database: backquotes are not allowed")
	}
	if _, err := admin.ExecContext(ctx, "CREATE DATABASE IF NOT EXISTS `"+database+"`"); err != nil {
		return marketplace.SampleReport{}, fmt.Errorf("creating database %s on %s: %w", database, addr, err)
	}
	db, err := sql.Open("mysql", marketplace.DSN(addr, user, password, database))
	if err != nil {
		return marketplace.SampleReport{}, err
	}
	defer db.Close()
	if err := marketplace.DropSchema(ctx, db); err != nil {
		return marketplace.SampleReport{}, err
	}
	if err := marketplace.CreateSchema(ctx, db); err != nil {
		return marketplace.SampleReport{}, err
	}
	return marketplace.LoadSample(ctx, db, opts)
}

func isCharDevice(f *os.File) bool {
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}
