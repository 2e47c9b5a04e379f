package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/meridiandb/meridian/server"
	"github.com/meridiandb/meridian/truetime"
)

// clockFlags select a node's TrueTime source.
type clockFlags struct {
	ntp          string
	localEpsilon time.Duration
	maxEpsilon   time.Duration
}

func (f *clockFlags) register(cmd *cobra.Command) {
	cmd.Flags().StringVar(&f.ntp, "ntp", "", "NTP servers HOST:PORT[,HOST:PORT…] bounding the clock (default: the local clock with --local-epsilon)")
	cmd.Flags().DurationVar(&f.localEpsilon, "local-epsilon", time.Millisecond, "uncertainty of the local clock when no --ntp is given")
	cmd.Flags().DurationVar(&f.maxEpsilon, "max-epsilon", 500*time.Millisecond, "with --ntp: past this uncertainty the node takes no new leases")
}

func (f *clockFlags) clock() (truetime.Clock, func(), error) {
	if f.ntp == "" {
		if f.localEpsilon <= 0 {
			return nil, nil, fmt.Errorf("--local-epsilon must be positive")
		}
		return truetime.NewLocal(truetime.LocalOptions{Epsilon: f.localEpsilon}), func() {}, nil
	}
	c, err := truetime.NewNTP(truetime.NTPOptions{Servers: strings.Split(f.ntp, ","), MaxEpsilon: f.maxEpsilon})
	if err != nil {
		return nil, nil, err
	}
	c.Start()
	return c, c.Close, nil
}

func newStartCmd() *cobra.Command {
	var (
		cfg        server.Config
		join       string
		locality   string
		clk        clockFlags
		logLevel   string
		drainLimit time.Duration
	)
	cmd := &cobra.Command{
		Use:   "start --store DIR --listen-addr H:P [--join H:P,…] [--locality region=R,zone=Z]",
		Short: "Start a node (the first one waits for `meridian init`; the others join)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if cfg.StoreDir == "" && !cfg.InMemory {
				return fmt.Errorf("--store DIR (or --in-memory) is required")
			}
			if cfg.StoreDir != "" && cfg.InMemory {
				return fmt.Errorf("--store and --in-memory exclude each other")
			}
			if cfg.RangeMaxBytes < 0 {
				return fmt.Errorf("--range-max-bytes must be positive")
			}
			loc, err := server.ParseLocality(locality)
			if err != nil {
				return err
			}
			cfg.Locality = loc
			if join != "" {
				for _, a := range strings.Split(join, ",") {
					if a = strings.TrimSpace(a); !strings.Contains(a, ":") {
						return fmt.Errorf("--join %q: want HOST:PORT", a)
					}
					cfg.Join = append(cfg.Join, strings.TrimSpace(a))
				}
			}
			level := slog.LevelInfo
			if err := level.UnmarshalText([]byte(logLevel)); err != nil {
				return fmt.Errorf("--log-level: %v", err)
			}
			cfg.Logger = slog.New(slog.NewTextHandler(cmd.ErrOrStderr(), &slog.HandlerOptions{Level: level}))
			clock, closeClock, err := clk.clock()
			if err != nil {
				return err
			}
			defer closeClock()
			cfg.Clock = clock
			return runNode(cmd.Context(), cfg, drainLimit)
		},
	}
	f := cmd.Flags()
	f.StringVar(&cfg.StoreDir, "store", "", "directory of the node's store")
	f.BoolVar(&cfg.InMemory, "in-memory", false, "keep the store in memory (lost on exit)")
	f.StringVar(&cfg.ListenAddr, "listen-addr", "127.0.0.1:26257", "address serving other nodes and tools")
	f.StringVar(&cfg.AdvertiseAddr, "advertise-addr", "", "address other nodes use to reach this one (default: --listen-addr)")
	f.StringVar(&cfg.HTTPAddr, "http-addr", "", "address of /healthz, /metrics and /debug (none if empty)")
	f.StringVar(&cfg.SQLAddr, "sql-addr", "", "address serving SQL over the MySQL protocol (none if empty)")
	f.StringVar(&join, "join", "", "addresses of nodes to join, HOST:PORT[,HOST:PORT…]")
	f.StringVar(&locality, "locality", "", "where the node is: region=R[,zone=Z]")
	f.Int64Var(&cfg.RangeMaxBytes, "range-max-bytes", 64<<20, "ranges split when their data grows past this many bytes")
	f.Float64Var(&cfg.RangeMaxQPS, "range-max-qps", 0, "ranges split when busier than this many requests per second (0: never)")
	f.DurationVar(&cfg.DeadTimeout, "dead-timeout", time.Minute, "replicas on a node down this long are replaced elsewhere")
	f.StringVar(&logLevel, "log-level", "info", "debug, info, warn or error")
	f.DurationVar(&drainLimit, "drain-timeout", 30*time.Second, "on SIGTERM, how long to move leases away before exiting")
	clk.register(cmd)
	return cmd
}

// runNode starts a node and serves until SIGINT or SIGTERM, then drains
// and stops it.
func runNode(ctx context.Context, cfg server.Config, drainLimit time.Duration) error {
	if ctx == nil {
		ctx = context.Background()
	}
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	n, err := server.NewNode(cfg)
	if err != nil {
		return err
	}
	defer n.Stop()
	if err := n.Start(ctx); err != nil {
		if ctx.Err() != nil {
			return nil // interrupted while waiting to join or be initialized
		}
		return err
	}
	fmt.Fprintf(os.Stderr, "node n%d of cluster %s serving on %s", n.NodeID(), n.ClusterID(), n.Addr())
	if a := n.HTTPAddr(); a != "" {
		fmt.Fprintf(os.Stderr, ", HTTP %s", a)
	}
	if cfg.SQLAddr != "" {
		fmt.Fprintf(os.Stderr, ", SQL %s", cfg.SQLAddr)
	}
	fmt.Fprintln(os.Stderr)
	<-ctx.Done()
	fmt.Fprintln(os.Stderr, "draining: moving leases away…")
	dctx, cancel := context.WithTimeout(context.Background(), drainLimit)
	defer cancel()
	if err := n.Drain(dctx); err != nil {
		fmt.Fprintln(os.Stderr, "drain:", err)
	}
	return nil
}

func newInitCmd() *cobra.Command {
	var host string
	cmd := &cobra.Command{
		Use:   "init --host H:P",
		Short: "Initialize a new cluster on a started node (once per cluster)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := dialNode(host)
			if err != nil {
				return err
			}
			defer c.Close()
			ctx, cancel := withTimeout(cmd.Context(), 30*time.Second)
			defer cancel()
			out, err := c.c.Call(ctx, server.MethodInit, nil)
			if err != nil {
				return fmt.Errorf("init on %s: %s", host, grpcMessage(err))
			}
			_ = out
			fmt.Fprintln(cmd.OutOrStdout(), "cluster initialized")
			return nil
		},
	}
	cmd.Flags().StringVar(&host, "host", "", "a started node, HOST:PORT")
	return cmd
}
