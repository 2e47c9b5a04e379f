package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/meridiandb/meridian/cmd/meridian/shell"
	"github.com/meridiandb/meridian/marketplace"
	"github.com/meridiandb/meridian/ranges/rangespb"
	"github.com/meridiandb/meridian/server"
	"github.com/meridiandb/meridian/truetime"
)

func newDemoCmd() *cobra.Command {
	var (
		nodes   int
		sqlAddr string
		noShell bool
		regions string
		empty   bool
		http    string
	)
	cmd := &cobra.Command{
		Use:   "demo [--nodes N] [--sql-addr H:P] [--no-shell]",
		Short: "Start an in-memory cluster in this process with the marketplace loaded, and open the SQL shell on it",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if nodes < 1 {
				return fmt.Errorf("--nodes must be at least 1")
			}
			var regionList []string
			if regions != "" {
				regionList = strings.Split(regions, ",")
			}
			return runDemo(cmd.Context(), demoOptions{nodes: nodes, sqlAddr: sqlAddr, noShell: noShell, regions: regionList, empty: empty, httpAddr: http,
				out: cmd.OutOrStdout(), errOut: cmd.ErrOrStderr(), in: cmd.InOrStdin()})
		},
	}
	f := cmd.Flags()
	f.IntVar(&nodes, "nodes", 3, "nodes in the cluster")
	f.StringVar(&sqlAddr, "sql-addr", "127.0.0.1:0", "SQL address of node 1 (the others pick free ports)")
	f.BoolVar(&noShell, "no-shell", false, "print the address to connect to and serve until interrupted")
	f.StringVar(&regions, "regions", "", "regions to spread the nodes over (round-robin), e.g. us-east,eu-west,ap-northeast")
	f.BoolVar(&empty, "empty", false, "do not load the marketplace")
	f.StringVar(&http, "http-addr", "", "address of node 1's /healthz, /metrics, /debug/ranges, /debug/clock and /debug/pprof (none if empty)")
	return cmd
}

type demoOptions struct {
	nodes   int
	sqlAddr string
	noShell bool
	regions []string
	empty   bool
	// httpAddr is node 1's HTTP address ("" for none).
	httpAddr string
	out      io.Writer
	errOut   io.Writer
	in       io.Reader
}

func runDemo(ctx context.Context, o demoOptions) error {
	if ctx == nil {
		ctx = context.Background()
	}
	fmt.Fprintf(o.errOut, "starting a %d-node in-memory cluster…\n", o.nodes)
	clock := truetime.NewLocal(truetime.LocalOptions{})
	first := true
	c, err := server.StartCluster(ctx, server.ClusterOptions{
		Nodes: o.nodes, SQL: true,
		Clock: func(int) truetime.Clock { return clock },
		Locality: func(i int) *rangespb.Locality {
			if len(o.regions) == 0 {
				return &rangespb.Locality{Region: "local", Zone: fmt.Sprintf("z%d", i)}
			}
			return &rangespb.Locality{Region: o.regions[(i-1)%len(o.regions)], Zone: fmt.Sprintf("z%d", i)}
		},
		SQLAddr: func(i int) string {
			if first && i == 1 {
				first = false
				return o.sqlAddr
			}
			return "127.0.0.1:0"
		},
		HTTPAddr: func(i int) string {
			if i == 1 {
				return o.httpAddr
			}
			return ""
		},
		Node:   server.Config{QueueInterval: 500 * time.Millisecond},
		Logger: slog.New(slog.DiscardHandler),
	})
	if err != nil {
		return err
	}
	defer c.Stop()
	wctx, cancel := context.WithTimeout(ctx, time.Minute)
	err = c.WaitReplicated(wctx, min(3, o.nodes))
	cancel()
	if err != nil {
		return err
	}
	addr := c.Node(1).SQLAddr()
	if !o.empty {
		fmt.Fprintln(o.errOut, "loading the marketplace (sellers, buyers, items, carts, purchases, feedback)…")
		if _, err := loadMarketplace(ctx, addr, "root", "", "marketplace", marketplace.SampleOptions{Now: time.Now()}); err != nil {
			return fmt.Errorf("loading the marketplace: %w", err)
		}
	}
	var others []string
	for _, n := range c.Nodes[1:] {
		others = append(others, n.SQLAddr())
	}
	fmt.Fprintf(o.errOut, "cluster ready: SQL on %s", addr)
	if len(others) > 0 {
		fmt.Fprintf(o.errOut, " (also %s)", strings.Join(others, ", "))
	}
	fmt.Fprintln(o.errOut)
	if o.noShell {
		fmt.Fprintf(o.out, "%s\n", addr)
		fmt.Fprintf(o.errOut, "connect with: meridian sql --host %s -d marketplace   (or mariadb -h %s -P %s -u root)\nserving until interrupted\n",
			addr, addr[:strings.LastIndex(addr, ":")], addr[strings.LastIndex(addr, ":")+1:])
		sctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
		defer stop()
		<-sctx.Done()
		fmt.Fprintln(o.errOut, "stopping")
		return nil
	}
	db := "marketplace"
	if o.empty {
		db = "test"
	}
	return shell.Run(ctx, shell.Options{
		Addr: addr, Database: db,
		Interactive: isTerminal(o.in) && isTerminal(o.out),
		HistoryFile: shell.DefaultHistoryFile(),
		In:          o.in, Out: o.out, Err: o.errOut,
	})
}

func isTerminal(v any) bool {
	f, ok := v.(*os.File)
	return ok && shell.IsTerminal(f)
}
