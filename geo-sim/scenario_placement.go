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

// placementCase is one configuration of the placement scenario.
type placementCase struct {
	name      string
	placement runner.Placement
	read      string // the read operation
}

// placementScenario compares, per client region on global3: every lease in
// us-east; each region's data led from that region; leases in us-east with
// stale reads at the nearest replica. Each client reads and writes the
// data of its own region (plain KV: a marketplace version needs its tables homed per region).
func placementScenario(ctx context.Context, env Env) (*Outcome, error) {
	top, err := topology.Preset("global3")
	if err != nil {
		return nil, err
	}
	sim, err := startSim(ctx, env, runner.Config{Topology: top})
	if err != nil {
		return nil, err
	}
	defer sim.Close()
	cases := []placementCase{
		{"leaders in us-east", runner.Placement{Leader: "us-east"}, workload.OpRead},
		{"leaders near users", runner.Placement{Near: true}, workload.OpRead},
		{"stale reads", runner.Placement{Leader: "us-east"}, workload.OpSnapshotRead},
	}
	out := &Outcome{Pass: true}
	sb := header("placement", "Three placements of the same data on `global3`, compared per client region. Each region's clients "+
		"write and read the keys of their own region (half writes, half reads). *Leaders in us-east*: every range's lease in "+
		"us-east. *Leaders near users*: each region's range led from that region. *Stale reads*: leases in us-east, reads 1s "+
		"stale at the nearest replica. A marketplace version of this scenario needs its tables homed per region; this is the plain-KV one.", env)
	t := &report.Table{Header: []string{"placement", "region", "write p50", "write bound", "read p50", "read bound", "read kind", "run"}}
	regions := top.RegionNames()
	var groups [][]float64 // per case: read p50 per region
	var names []string
	for i, c := range cases {
		w, err := workload.NewKV(workload.KVOptions{Prefix: fmt.Appendf(nil, "\x20geosim/pl-%d/", i),
			Mix: []workload.Weighted{{Op: workload.OpWrite, Weight: 1}, {Op: c.read, Weight: 1}}})
		if err != nil {
			return nil, err
		}
		if err := sim.Place(ctx, w, c.placement); err != nil {
			return out, err
		}
		run, err := sim.Run(ctx, runner.RunSpec{Name: "placement: " + c.name, Workload: w, ClientsPerRegion: 2,
			Duration: env.dur(4 * time.Second), Warmup: env.dur(time.Second)})
		if err != nil {
			return out, err
		}
		out.Runs = append(out.Runs, run)
		sub, err := writeRun(env, fmt.Sprintf("case-%d", i+1), run)
		if err != nil {
			return out, err
		}
		var reads []float64
		for _, r := range regions {
			wr, rd := run.Op(workload.OpWrite, r), run.Op(c.read, r)
			t.Add(c.name, r, report.Ms(wr.Percentile(50)), report.Ms(wr.Bound.Total), report.Ms(rd.Percentile(50)), report.Ms(rd.Bound.Total),
				c.read, fmt.Sprintf("[%s](%s/summary.md)", sub, sub))
			reads = append(reads, msf(rd.Percentile(50)), msf(wr.Percentile(50)))
		}
		groups = append(groups, reads)
		names = append(names, c.name)
	}
	// One bar per (region, read|write), one layer per case, side by side.
	gp := report.GroupedBars{Title: "median latency per client region (ms)", YLabel: "ms", Groups: names, Values: groups}
	for _, r := range regions {
		gp.Categories = append(gp.Categories, r+" read", r+" write")
	}
	if err := gp.Save(filepath.Join(env.ReportDir, "placement.png")); err != nil {
		return out, err
	}
	sb.WriteString(t.String() + "\n![median latency per region](placement.png)\n")
	out.Summary = sb.String()
	return out, nil
}
