package geosim

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/meridiandb/meridian/geo-sim/faults"
	"github.com/meridiandb/meridian/geo-sim/report"
	"github.com/meridiandb/meridian/geo-sim/results"
	"github.com/meridiandb/meridian/geo-sim/runner"
	"github.com/meridiandb/meridian/geo-sim/topology"
	"github.com/meridiandb/meridian/geo-sim/workload"
)

// RunOptions configure Run (`meridian geosim run`). Zero fields take the
// defaults.
type RunOptions struct {
	// Topology is a preset name or a topology file. Default "global3".
	Topology string
	// Placement, as runner.ParsePlacement reads it. Default "default".
	Placement string
	// Workload is kv, bank or marketplace. Default kv.
	Workload string
	// Mix of the workload's operations ("write=3,read=1"). Default: the
	// workload's.
	Mix string
	// ClientsPerRegion. Default 4.
	ClientsPerRegion int
	// Regions with clients. Default: all.
	Regions []string
	// Duration of the measured window (default 10s) and the warm-up before
	// it (default 1s).
	Duration, Warmup time.Duration
	// Seed of everything random. Default 1.
	Seed uint64
	// Faults: "" or "none", "random" (drawn from the seed), or a schedule
	// file.
	Faults string
	// ReportDir receives the report. Required.
	ReportDir string
	// Layers reach transactions and SQL.
	Layers runner.Layers
	// Progress receives the progress bar (nil: none).
	Progress io.Writer
	// Logger for the cluster.
	Logger *slog.Logger
}

// NewWorkload builds the named workload with a mix ("" for its default).
func NewWorkload(name, mix string) (workload.Workload, error) {
	var o workload.Options
	if mix != "" {
		known := map[string][]string{"kv": workload.KVOps, "bank": workload.BankOps}[name]
		m, err := workload.ParseMix(mix, known)
		if err != nil {
			return nil, err
		}
		o.KV.Mix, o.Bank.Mix = m, m
	}
	return workload.New(name, o)
}

// LoadFaults returns the schedule spec names on t: none, random (from seed
// over d), or a file.
func LoadFaults(spec string, t *topology.Topology, d time.Duration, seed uint64) (faults.Schedule, error) {
	switch strings.TrimSpace(spec) {
	case "", "none":
		return faults.Schedule{}, nil
	case "random":
		return faults.Random(t, faults.RandomOptions{Duration: d}, runner.DeriveSeed(seed, "faults"))
	}
	return faults.Load(spec, t)
}

// Run starts a cluster, runs one workload from every region, writes the
// report and returns the results.
func Run(ctx context.Context, o RunOptions) (*results.Run, error) {
	if o.ReportDir == "" {
		return nil, fmt.Errorf("geosim: no report directory")
	}
	def := func(s *string, d string) {
		if *s == "" {
			*s = d
		}
	}
	def(&o.Topology, "global3")
	def(&o.Workload, "kv")
	if o.ClientsPerRegion == 0 {
		o.ClientsPerRegion = 4
	}
	if o.Duration == 0 {
		o.Duration = 10 * time.Second
	}
	if o.Warmup == 0 {
		o.Warmup = time.Second
	}
	top, err := topology.Resolve(o.Topology)
	if err != nil {
		return nil, err
	}
	p, err := runner.ParsePlacement(o.Placement, top)
	if err != nil {
		return nil, err
	}
	w, err := NewWorkload(o.Workload, o.Mix)
	if err != nil {
		return nil, err
	}
	sched, err := LoadFaults(o.Faults, top, o.Duration, o.Seed)
	if err != nil {
		return nil, err
	}
	sim, err := runner.Start(ctx, runner.Config{Topology: top, Seed: o.Seed, Placement: p, Layers: o.Layers, Progress: o.Progress, Logger: o.Logger})
	if err != nil {
		return nil, err
	}
	defer sim.Close()
	name := fmt.Sprintf("%s on %s", w.Name(), top.Name)
	run, err := sim.Run(ctx, runner.RunSpec{Name: name, Workload: w, ClientsPerRegion: o.ClientsPerRegion, Regions: o.Regions,
		Duration: o.Duration, Warmup: o.Warmup, Faults: sched})
	if err != nil {
		return nil, err
	}
	if _, err := report.Write(o.ReportDir, run); err != nil {
		return run, err
	}
	return run, nil
}
