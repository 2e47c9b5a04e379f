package geosim

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/meridiandb/meridian/geo-sim/report"
	"github.com/meridiandb/meridian/geo-sim/results"
	"github.com/meridiandb/meridian/geo-sim/runner"
)

// Env is what a scenario runs with.
type Env struct {
	// ReportDir receives summary.md and one directory per run. Required.
	ReportDir string
	// Layers reach transactions and SQL.
	Layers runner.Layers
	// Progress receives progress bars (nil: none); Out the closing table
	// (nil: none).
	Progress, Out io.Writer
	// Seed of everything random. Default 1.
	Seed uint64
	// Scale multiplies every measured duration (tests use < 1). Default 1.
	Scale  float64
	Logger *slog.Logger
}

func (e Env) withDefaults() Env {
	if e.Seed == 0 {
		e.Seed = 1
	}
	if e.Scale == 0 {
		e.Scale = 1
	}
	if e.Out == nil {
		e.Out = io.Discard
	}
	return e
}

// dur scales a measured duration (never below 300ms).
func (e Env) dur(d time.Duration) time.Duration {
	return max(time.Duration(float64(d)*e.Scale), 300*time.Millisecond)
}

// Outcome is a scenario's result.
type Outcome struct {
	// Summary is the Markdown written to summary.md (and printed).
	Summary string
	// Pass is false when the scenario's own check failed (lying-clock);
	// scenarios without a check pass.
	Pass bool
	Runs []*results.Run
}

// Scenario is a named experiment.
type Scenario struct {
	Name string
	// Title is a one-line description.
	Title string
	// Needs names the layers beyond plain KV the full scenario needs, if
	// any.
	Needs string
	Run   func(ctx context.Context, env Env) (*Outcome, error)
}

// Scenarios lists every scenario, by name.
func Scenarios() []Scenario {
	out := []Scenario{
		{Name: "spanner-table3", Title: "write, read-only and snapshot-read latency with 1, 3 and 5 replicas, beside Spanner's Table 3",
			Needs: "transactions for the read-only column", Run: table3},
		{Name: "spanner-table4", Title: "two-phase commit latency with 1 to 50 participants, beside Spanner's Table 4",
			Needs: "transactions", Run: table4},
		{Name: "epsilon-sweep", Title: "single-range commit latency on global3 as ε grows from 0.5ms to 100ms", Run: epsilonSweep},
		{Name: "placement", Title: "the marketplace with leaders in one region, leaders near their users (rows homed per region), and stale reads, per region",
			Needs: "SQL (the marketplace runs over it)", Run: placementScenario},
		{Name: "failover", Title: "the leaseholders' node killed at 5s: throughput over time and time to recovery", Run: failover},
		{Name: "lying-clock", Title: "a clock claiming less uncertainty than it has: the checker catches the lie, and passes the honest run",
			Run: lyingClock},
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// Lookup returns the named scenario.
func Lookup(name string) (Scenario, error) {
	var names []string
	for _, s := range Scenarios() {
		if s.Name == name {
			return s, nil
		}
		names = append(names, s.Name)
	}
	return Scenario{}, fmt.Errorf("no scenario %q (scenarios: %s)", name, strings.Join(names, ", "))
}

// RunScenario runs the named scenario, writes its summary.md and prints it
// to env.Out.
func RunScenario(ctx context.Context, name string, env Env) (*Outcome, error) {
	s, err := Lookup(name)
	if err != nil {
		return nil, err
	}
	env = env.withDefaults()
	if env.ReportDir == "" {
		return nil, fmt.Errorf("scenario %s: no report directory", name)
	}
	if err := os.MkdirAll(env.ReportDir, 0o755); err != nil {
		return nil, err
	}
	out, err := s.Run(ctx, env)
	if err != nil {
		return out, fmt.Errorf("scenario %s: %w", name, err)
	}
	if err := os.WriteFile(filepath.Join(env.ReportDir, "summary.md"), []byte(out.Summary), 0o644); err != nil {
		return out, err
	}
	fmt.Fprintln(env.Out, out.Summary)
	return out, nil
}

// writeRun writes run's report into a subdirectory of env.ReportDir and
// returns its name.
func writeRun(env Env, sub string, run *results.Run) (string, error) {
	sub = report.FileSafe(sub)
	if _, err := report.Write(filepath.Join(env.ReportDir, sub), run); err != nil {
		return sub, err
	}
	return sub, nil
}

// header starts a scenario summary.
func header(title, what string, env Env) *strings.Builder {
	sb := &strings.Builder{}
	fmt.Fprintf(sb, "# geo-sim scenario: %s\n\n%s\n\n", title, what)
	fmt.Fprintf(sb, "Seed %d; durations scaled by %g.\n\n", env.Seed, env.Scale)
	return sb
}

func startSim(ctx context.Context, env Env, cfg runner.Config) (*runner.Sim, error) {
	cfg.Seed, cfg.Layers, cfg.Progress, cfg.Logger = env.Seed, env.Layers, env.Progress, env.Logger
	return runner.Start(ctx, cfg)
}
