package main

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/spf13/cobra"

	geosim "github.com/meridiandb/meridian/geo-sim"
	"github.com/meridiandb/meridian/geo-sim/report"
	"github.com/meridiandb/meridian/geo-sim/runner"
	"github.com/meridiandb/meridian/geo-sim/topology"
	"github.com/meridiandb/meridian/geo-sim/workload"
	"github.com/meridiandb/meridian/server"
	"github.com/meridiandb/meridian/txn"
)

// geosimLayers gives geo-sim's workloads the layers above the router: the
// node's transaction gateway, and a go-sql-driver pool on the node's SQL
// listener whose connections dial through geo-sim (which charges the
// client's delay on every request and response).
func geosimLayers() runner.Layers {
	return runner.Layers{
		TxnDB: func(n *server.Node) (txn.DB, error) { return n.TxnDB(), nil },
		SQLDB: func(_ context.Context, n *server.Node, dial runner.DialFunc) (*sql.DB, error) {
			addr := n.SQLAddr()
			if addr == "" {
				return nil, fmt.Errorf("n%d serves no SQL", n.NodeID())
			}
			cfg := mysql.NewConfig()
			cfg.Net, cfg.Addr, cfg.User, cfg.DBName = "tcp", addr, "root", "test"
			cfg.InterpolateParams = true
			cfg.DialFunc = dial
			conn, err := mysql.NewConnector(cfg)
			if err != nil {
				return nil, fmt.Errorf("SQL connector for n%d at %s: %w", n.NodeID(), addr, err)
			}
			return sql.OpenDB(conn), nil
		},
	}
}

func newGeosimCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "geosim",
		Short: "Run Meridian on a simulated planet: regions, delays, clocks, faults; reports and plots",
		Long: `geosim starts an in-process Meridian cluster whose nodes sit in simulated
regions (links with real-time delays, simulated clocks), runs a workload from
clients in every region, and writes a report: per operation and region the
throughput, p50/p95/p99, the physical lower bound and the measured/bound
ratio, where the time went, and plots (latency CDFs, time breakdown,
throughput over time).`,
	}
	cmd.AddCommand(newGeosimRunCmd(), newGeosimScenarioCmd(), newGeosimListCmd(), newGeosimTopologyCmd())
	return cmd
}

func cmdContext(cmd *cobra.Command) context.Context {
	if ctx := cmd.Context(); ctx != nil {
		return ctx
	}
	return context.Background()
}

func newGeosimRunCmd() *cobra.Command {
	var o geosim.RunOptions
	var regions string
	var quiet bool
	cmd := &cobra.Command{
		Use:   "run --report DIR",
		Short: "Run a workload from every region and write a report",
		Example: `  meridian geosim run --topology global3 --placement leader=us-east --workload kv \
      --clients-per-region 4 --duration 10s --seed 1 --report /tmp/geosim-kv`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if o.ReportDir == "" {
				return errors.New("--report DIR is required")
			}
			if regions != "" {
				o.Regions = strings.Split(regions, ",")
			}
			if !quiet {
				o.Progress = cmd.ErrOrStderr()
			}
			o.Layers = geosimLayers()
			run, err := geosim.Run(cmdContext(cmd), o)
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			fmt.Fprint(out, report.LatencyTable(run).String())
			for _, n := range run.Notes {
				fmt.Fprintln(out, "note:", n)
			}
			fmt.Fprintf(out, "\nreport: %s\n", filepath.Join(o.ReportDir, "summary.md"))
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.Topology, "topology", "global3", "preset ("+strings.Join(topology.PresetNames(), ", ")+") or a topology file (YAML or JSON)")
	f.StringVar(&o.Placement, "placement", "default", "default, near, or leader=REGION[,replicas=N][,regions=A|B]")
	f.StringVar(&o.Workload, "workload", "kv", "workload: "+strings.Join(workload.Names(), ", "))
	f.StringVar(&o.Mix, "mix", "", "operation mix, e.g. write=3,read=1 (kv: "+strings.Join(workload.KVOps, ", ")+")")
	f.IntVar(&o.ClientsPerRegion, "clients-per-region", 4, "clients in each region (closed loop, one operation at a time)")
	f.StringVar(&regions, "regions", "", "regions with clients, comma-separated (default: all)")
	f.DurationVar(&o.Duration, "duration", 10*time.Second, "measured time")
	f.DurationVar(&o.Warmup, "warmup", time.Second, "unmeasured time before it")
	f.Uint64Var(&o.Seed, "seed", 1, "seed of the jitter, the clients' choices and random faults")
	f.StringVar(&o.Faults, "faults", "none", "none, random (from the seed), or a fault schedule file")
	f.StringVar(&o.ReportDir, "report", "", "directory for summary.md, CSVs and plots (required)")
	f.BoolVar(&quiet, "quiet", false, "no progress bar")
	return cmd
}

func newGeosimScenarioCmd() *cobra.Command {
	var env geosim.Env
	var quiet bool
	var names []string
	for _, s := range geosim.Scenarios() {
		names = append(names, s.Name)
	}
	cmd := &cobra.Command{
		Use:   "scenario NAME --report DIR",
		Short: "Run a scenario (" + strings.Join(names, ", ") + ") and write its report",
		Long: `Run a named scenario and write its report: a summary.md whose table sits
beside the scenario's reference, and one report directory per run.

Exit status: 0 if the scenario ran (and, for lying-clock, the checker caught
the lying run and passed the honest one), 1 otherwise.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if env.ReportDir == "" {
				return errors.New("--report DIR is required")
			}
			env.Out = cmd.OutOrStdout()
			if !quiet {
				env.Progress = cmd.ErrOrStderr()
			}
			env.Layers = geosimLayers()
			out, err := geosim.RunScenario(cmdContext(cmd), args[0], env)
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "report: %s\n", filepath.Join(env.ReportDir, "summary.md"))
			if !out.Pass {
				return fmt.Errorf("scenario %s: its check failed (see the report)", args[0])
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&env.ReportDir, "report", "", "directory for the report (required)")
	f.Uint64Var(&env.Seed, "seed", 1, "seed of everything random")
	f.Float64Var(&env.Scale, "scale", 1, "multiply the measured durations (e.g. 0.5 for a quicker, noisier run)")
	f.BoolVar(&quiet, "quiet", false, "no progress bars")
	return cmd
}

func newGeosimListCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "list",
		Short: "List topology presets, workloads and scenarios",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return writeGeosimList(cmd.OutOrStdout())
		},
	}
}

func writeGeosimList(w io.Writer) error {
	fmt.Fprintln(w, "topology presets:")
	for _, n := range topology.PresetNames() {
		t, err := topology.Preset(n)
		if err != nil {
			return err
		}
		fmt.Fprintf(w, "  %s\n", t.Summary())
	}
	fmt.Fprintln(w, "workloads:")
	fmt.Fprintf(w, "  %s\n", strings.Join(workload.Names(), ", "))
	fmt.Fprintln(w, "scenarios:")
	layers := geosimLayers()
	for _, s := range geosim.Scenarios() {
		needs := ""
		if s.Needs != "" && !(layers.TxnDB != nil && strings.HasPrefix(s.Needs, "transactions")) && !(layers.SQLDB != nil && strings.HasPrefix(s.Needs, "SQL")) {
			needs = " (needs " + s.Needs + ")"
		}
		fmt.Fprintf(w, "  %-15s %s%s\n", s.Name, s.Title, needs)
	}
	return nil
}

func newGeosimTopologyCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "topology PRESET|FILE",
		Short: "Print a preset topology's file (a starting point for your own), or check a topology file",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if src, err := topology.PresetSource(args[0]); err == nil {
				_, err = cmd.OutOrStdout().Write(src)
				return err
			}
			if _, err := os.Stat(args[0]); err != nil {
				return fmt.Errorf("%q is neither a preset (%s) nor a file", args[0], strings.Join(topology.PresetNames(), ", "))
			}
			t, err := topology.Load(args[0])
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "ok: %s, %d nodes\n", t.Summary(), t.NumNodes())
			return nil
		},
	}
}
