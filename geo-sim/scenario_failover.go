package geosim

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/meridiandb/meridian/geo-sim/faults"
	"github.com/meridiandb/meridian/geo-sim/report"
	"github.com/meridiandb/meridian/geo-sim/results"
	"github.com/meridiandb/meridian/geo-sim/runner"
	"github.com/meridiandb/meridian/geo-sim/topology"
	"github.com/meridiandb/meridian/geo-sim/workload"
	"github.com/meridiandb/meridian/replication"
	"github.com/meridiandb/meridian/server"
)

// failoverTopology is global3 with a second us-east node, so that the
// leases can come back to us-east once the dead node's replicas are
// replaced.
func failoverTopology() (*topology.Topology, error) {
	top, err := topology.Preset("global3")
	if err != nil {
		return nil, err
	}
	top.Name = "global3+1"
	top.Regions[0].Zones = []topology.Zone{{Name: "us-east-a", Nodes: 1}, {Name: "us-east-b", Nodes: 1}}
	return top, top.Validate()
}

// Recovery summarises a run's throughput around a fault at kill.
type Recovery struct {
	// Before is the mean throughput (ops/s) from 1s into the run to the
	// fault.
	Before float64
	// FirstOK is the time from the fault to the first operation that
	// started after it and succeeded (its completion); -1 if none.
	FirstOK time.Duration
	// Restored is the time from the fault to the start of the first three
	// consecutive buckets at ≥ 80% of Before; -1 if never.
	Restored time.Duration
}

// MeasureRecovery computes the Recovery of run around kill.
func MeasureRecovery(run *results.Run, kill time.Duration) Recovery {
	r := Recovery{FirstOK: -1, Restored: -1}
	total := run.Total()
	b := run.Bucket
	from, to := int(time.Second/b), int(kill/b)
	if to > from {
		sum := 0
		for i := from; i < to && i < len(total); i++ {
			sum += total[i]
		}
		r.Before = float64(sum) / (float64(to-from) * b.Seconds())
	}
	for _, o := range run.Ops {
		for _, s := range o.Samples {
			if s.Start >= kill {
				if d := s.Start + s.Latency - kill; r.FirstOK < 0 || d < r.FirstOK {
					r.FirstOK = d
				}
			}
		}
	}
	need := 0.8 * r.Before * b.Seconds()
	for i := to + 1; i+2 < int(run.Duration/b); i++ {
		ok := true
		for j := i; j < i+3; j++ {
			if j >= len(total) || float64(total[j]) < need {
				ok = false
			}
		}
		if ok && r.Before > 0 {
			r.Restored = time.Duration(i)*b - kill
			break
		}
	}
	return r
}

// LongestGap returns, for region, the longest time after kill with no
// operation completing, and when it began (from the start of the window).
func LongestGap(run *results.Run, region string, kill time.Duration) (gap, from time.Duration) {
	var ends []time.Duration
	for _, o := range run.Ops {
		if o.Region == region {
			for _, s := range o.Samples {
				if e := s.Start + s.Latency; e >= kill {
					ends = append(ends, e)
				}
			}
		}
	}
	slices.Sort(ends)
	prev := kill
	for _, e := range append(ends, run.Duration) {
		if e-prev > gap {
			gap, from = e-prev, prev
		}
		prev = e
	}
	return gap, from
}

func durCell(d time.Duration) string {
	if d < 0 {
		return "never"
	}
	return fmt.Sprintf("%.2fs", d.Seconds())
}

// failover kills the node holding the leases 5s into the run.
func failover(ctx context.Context, env Env) (*Outcome, error) {
	top, err := failoverTopology()
	if err != nil {
		return nil, err
	}
	sim, err := startSim(ctx, env, runner.Config{Topology: top, Node: server.Config{
		DeadTimeout: 3 * time.Second,
		Store:       replication.StoreOptions{LeaseDuration: 2 * time.Second, NodeDeadTimeout: time.Second},
	}})
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
	kill := env.dur(5 * time.Second)
	sched := faults.Schedule{Events: []faults.Event{{At: kill, Kind: faults.Kill, Node: faults.Leaseholder}}}
	run, err := sim.Run(ctx, runner.RunSpec{Name: "failover", Workload: w, ClientsPerRegion: 3, Duration: env.dur(25 * time.Second),
		Warmup: env.dur(time.Second), Bucket: 250 * time.Millisecond, Faults: sched})
	if err != nil {
		return nil, err
	}
	out := &Outcome{Pass: true, Runs: []*results.Run{run}}
	sub, err := writeRun(env, "run", run)
	if err != nil {
		return out, err
	}
	sb := header("failover", "`global3` with two us-east nodes; every range of the kv workload led from us-east; clients in "+
		"every region writing their own region's keys. 5s into the run the node holding the leases is killed (and stays down). "+
		"The survivors elect new leaders and take the leases once the old ones expire (2s leases here); the dead node's replicas "+
		"are replaced after 3s, and the allocator then moves the leases back to us-east. Clients of the dead gateway reconnect "+
		"to the other us-east node.", env)
	killedAt := kill
	for _, f := range run.Faults {
		if f.Kind == faults.Kill {
			killedAt = f.At
			fmt.Fprintf(sb, "Killed n%d at %.2fs.\n\n", f.Node, f.At.Seconds())
			if f.Err != "" {
				fmt.Fprintf(sb, "The kill FAILED: %s\n\n", f.Err)
			}
		}
	}
	rec := MeasureRecovery(run, killedAt)
	t := &report.Table{Header: []string{"throughput before", "first success after the kill", "throughput back to 80%"}}
	t.Add(fmt.Sprintf("%.0f ops/s", rec.Before), durCell(rec.FirstOK), durCell(rec.Restored))
	sb.WriteString(t.String())
	gt := &report.Table{Header: []string{"region", "longest time without a completed write after the kill", "from"}}
	for _, r := range run.Regions {
		gap, from := LongestGap(run, r, killedAt)
		gt.Add(r, fmt.Sprintf("%.2fs", gap.Seconds()), fmt.Sprintf("%.2fs", from.Seconds()))
	}
	sb.WriteString("\n" + gt.String())
	sb.WriteString("\nPer region (write latency over the whole run):\n\n")
	lt := report.LatencyTable(run)
	sb.WriteString(lt.String())
	fmt.Fprintf(sb, "\n![throughput over time](%s/throughput.png)\n\nFull report: [%s/summary.md](%s/summary.md)\n", sub, sub, sub)
	out.Summary = sb.String()
	return out, nil
}
