package geosim

import (
	"context"
	"fmt"
	"path/filepath"
	"time"

	"github.com/meridiandb/meridian/geo-sim/report"
	"github.com/meridiandb/meridian/geo-sim/runner"
	"github.com/meridiandb/meridian/geo-sim/topology"
	"github.com/meridiandb/meridian/geo-sim/workload"
)

// SweepEpsilons are the claimed ε values epsilon-sweep visits.
var SweepEpsilons = []time.Duration{
	500 * time.Microsecond, time.Millisecond, 2 * time.Millisecond, 5 * time.Millisecond,
	10 * time.Millisecond, 20 * time.Millisecond, 30 * time.Millisecond, 35 * time.Millisecond,
	40 * time.Millisecond, 50 * time.Millisecond, 75 * time.Millisecond, 100 * time.Millisecond,
}

// epsilonSweep: writes to one range led from us-east, from us-east clients,
// with every node claiming ε from 0.5ms to 100ms. The commit costs
// max(quorum round trip, 2ε): flat until 2ε passes the 70ms round trip to
// eu-west, then rising with slope 2.
func epsilonSweep(ctx context.Context, env Env) (*Outcome, error) {
	top, err := topology.Preset("global3")
	if err != nil {
		return nil, err
	}
	sim, err := startSim(ctx, env, runner.Config{Topology: top})
	if err != nil {
		return nil, err
	}
	defer sim.Close()
	w, err := workload.NewKV(workload.KVOptions{})
	if err != nil {
		return nil, err
	}
	if err := sim.Place(ctx, w, runner.Placement{Leader: "us-east"}); err != nil {
		return nil, err
	}
	out := &Outcome{Pass: true}
	sb := header("epsilon-sweep", "Single-range commits (plain KV Put, one range led from us-east, replicas in us-east, eu-west and "+
		"ap-northeast) from clients in us-east on `global3`, as every node's claimed ε grows. A commit waits out 2ε after "+
		"taking its timestamp while raft replicates to the nearest majority, so it costs max(quorum round trip, 2ε).", env)
	t := &report.Table{Header: []string{"ε ms", "2ε ms", "quorum RTT ms", "bound ms", "p50 ms", "p99 ms", "p50/bound", "ops/s", "run"}}
	var eps, p50, p99, bound []float64
	var quorum time.Duration
	for _, e := range SweepEpsilons {
		sim.SetEpsilon(e)
		name := fmt.Sprintf("eps-%gms", float64(e)/float64(time.Millisecond))
		run, err := sim.Run(ctx, runner.RunSpec{Name: "epsilon-sweep " + name, Workload: w, ClientsPerRegion: 4,
			Regions: []string{"us-east"}, Duration: env.dur(3 * time.Second), Warmup: env.dur(500 * time.Millisecond)})
		if err != nil {
			return out, err
		}
		out.Runs = append(out.Runs, run)
		sub, err := writeRun(env, name, run)
		if err != nil {
			return out, err
		}
		o := run.Op(workload.OpWrite, "us-east")
		quorum = o.Bound.Quorum
		t.Add(report.Ms(e), report.Ms(2*e), report.Ms(o.Bound.Quorum), report.Ms(o.Bound.Total), report.Ms(o.Percentile(50)),
			report.Ms(o.Percentile(99)), report.Ratio(o.Ratio()), fmt.Sprintf("%.1f", o.Throughput(run.Duration)), fmt.Sprintf("[%s](%s/summary.md)", sub, sub))
		eps = append(eps, msf(e))
		p50 = append(p50, msf(o.Percentile(50)))
		p99 = append(p99, msf(o.Percentile(99)))
		bound = append(bound, msf(o.Bound.Total))
	}
	knee := MeasuredKnee(eps, p50)
	lp := report.LinePlot{
		Title:  "commit latency vs claimed ε (global3, leader us-east, clients us-east)",
		XLabel: "claimed ε (ms, log scale)", YLabel: "single-range commit latency (ms)", LogX: true, YMin: 0,
		Series: []report.Series{
			{Name: "measured p50", X: eps, Y: p50, Color: 0},
			{Name: "measured p99", X: eps, Y: p99, Color: 1},
			{Name: "bound: client + max(quorum RTT, 2ε)", X: eps, Y: bound, Dashed: true, Color: 2},
			{Name: "2ε", X: eps, Y: scale(eps, 2), Dashed: true, Color: 3},
		},
		Markers: []report.Marker{{X: msf(quorum) / 2, Label: fmt.Sprintf("2ε = quorum RTT (ε = %sms)", report.Ms(quorum/2))}},
	}
	if err := lp.Save(filepath.Join(env.ReportDir, "epsilon_sweep.png")); err != nil {
		return out, err
	}
	sb.WriteString(t.String())
	fmt.Fprintf(sb, "\nPredicted knee: 2ε = quorum round trip %sms, at ε = %sms.\n", report.Ms(quorum), report.Ms(quorum/2))
	if knee > 0 {
		fmt.Fprintf(sb, "Measured knee: the median first rises more than 5%% above its flat part at ε = %gms.\n", knee)
	} else {
		sb.WriteString("Measured knee: the median never rose 5% above its flat part.\n")
	}
	sb.WriteString("\n![commit latency vs ε](epsilon_sweep.png)\n")
	out.Summary = sb.String()
	return out, nil
}

// MeasuredKnee returns the first x whose y exceeds the mean of the flat
// start (the first three points) by more than 5%, or 0.
func MeasuredKnee(x, y []float64) float64 {
	if len(y) < 4 {
		return 0
	}
	flat := (y[0] + y[1] + y[2]) / 3
	for i := 3; i < len(y); i++ {
		if y[i] > flat*1.05 {
			return x[i]
		}
	}
	return 0
}

func msf(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func scale(v []float64, k float64) []float64 {
	out := make([]float64, len(v))
	for i := range v {
		out[i] = v[i] * k
	}
	return out
}
