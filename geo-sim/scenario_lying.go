package geosim

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/meridiandb/meridian/checker"
	"github.com/meridiandb/meridian/checker/history"
	"github.com/meridiandb/meridian/geo-sim/faults"
	"github.com/meridiandb/meridian/geo-sim/report"
	"github.com/meridiandb/meridian/geo-sim/runner"
	"github.com/meridiandb/meridian/geo-sim/topology"
	"github.com/meridiandb/meridian/geo-sim/workload"
	"github.com/meridiandb/meridian/truetime"
)

// lying3: three nearby regions, so that each key's lease can be put on a
// chosen node (n1 in east, n2 in west).
const lying3 = `name: lying3
description: Three regions 2 ms apart, one node each.
regions:
  - {name: east, nodes: 1, client_rtt_ms: 0.5}
  - {name: west, nodes: 1, client_rtt_ms: 0.5}
  - {name: north, nodes: 1, client_rtt_ms: 0.5}
rtt_ms:
  east: {east: 1, west: 2, north: 2}
  west: {west: 1, north: 2}
  north: {north: 1}
jitter_ms: 0.2
clock: {epsilon_ms: 1}
`

// LiarOffset is how far behind true time the lying node's clock is set in
// the lying run, while it keeps claiming ε = 1ms; the honest run's offset
// (HonestOffset) stays within its ε.
const (
	LiarOffset   = -20 * time.Millisecond
	HonestOffset = -500 * time.Microsecond
)

// clockCheck is one run of the lying-clock scenario.
type clockCheck struct {
	name    string
	offset  time.Duration
	verdict *checker.Result
	lying   bool
}

// lyingClock: key a is led by n1 (honest), key b by n2. Clients write a,
// then b, then a…, recording every write and its commit timestamp. With
// n2's clock 20ms behind while it claims ±1ms, a write to b that starts
// after a write to a finished can get a lower timestamp: external
// consistency is broken, and the checker's timestamp-order check says so.
// With an honest offset (−0.5ms, inside ε) the same run passes.
func lyingClock(ctx context.Context, env Env) (*Outcome, error) {
	top, err := topology.Parse("lying3.yaml", []byte(lying3))
	if err != nil {
		return nil, err
	}
	sim, err := startSim(ctx, env, runner.Config{Topology: top})
	if err != nil {
		return nil, err
	}
	defer sim.Close()
	out := &Outcome{}
	sb := header("lying-clock", "Two keys: **a** led by n1 (honest clock), **b** led by n2. Clients in every region write a, then b, "+
		"then a…, with plain Puts (each commit-waited), and record each write with its commit timestamp as an rw-register "+
		"history. In the *lying* run n2's clock is set 20ms behind true time while it still claims ε = 1ms; in the *honest* "+
		"run it is 0.5ms behind, inside its ε. The history of each run goes to Meridian's checker (strict serializability, "+
		"including commit timestamps against real time).", env)
	cases := []*clockCheck{{name: "honest", offset: HonestOffset}, {name: "lying", offset: LiarOffset, lying: true}}
	t := &report.Table{Header: []string{"run", "n2 offset", "n2 claimed ε", "writes", "checker verdict", "anomalies", "history"}}
	for i, c := range cases {
		var buf bytes.Buffer
		hist := history.NewWriter(&buf, func() int64 { return int64(truetime.Mono()) })
		w := workload.NewRegisters(fmt.Appendf(nil, "\x20geosim/lie-%d/", i), []string{"east", "west"}, hist)
		if err := sim.Place(ctx, w, runner.Placement{Near: true, Replicas: 3}); err != nil {
			return out, err
		}
		sched := faults.Schedule{Events: []faults.Event{{At: 0, Kind: faults.Offset, Node: 2, Offset: c.offset}}}
		run, err := sim.Run(ctx, runner.RunSpec{Name: "lying-clock: " + c.name, Workload: w, ClientsPerRegion: 2,
			Duration: env.dur(3 * time.Second), Warmup: env.dur(500 * time.Millisecond), Faults: sched})
		if err != nil {
			return out, err
		}
		out.Runs = append(out.Runs, run)
		sub, err := writeRun(env, c.name, run)
		if err != nil {
			return out, err
		}
		if err := hist.Flush(); err != nil {
			return out, err
		}
		histFile := filepath.Join(sub, "history.jsonl")
		if err := os.WriteFile(filepath.Join(env.ReportDir, histFile), buf.Bytes(), 0o644); err != nil {
			return out, err
		}
		h, err := history.Parse(bytes.NewReader(buf.Bytes()))
		if err != nil {
			return out, fmt.Errorf("the %s run's history does not parse: %w", c.name, err)
		}
		res, err := checker.Check(h, checker.Options{Workload: checker.Register})
		if err != nil {
			return out, fmt.Errorf("checking the %s run: %w", c.name, err)
		}
		c.verdict = res
		var text bytes.Buffer
		_ = res.WriteText(&text, 5)
		if err := os.WriteFile(filepath.Join(env.ReportDir, sub, "check.txt"), text.Bytes(), 0o644); err != nil {
			return out, err
		}
		verdict := "valid"
		if !res.Valid {
			verdict = "INVALID"
		}
		var counts []string
		for k, n := range res.Counts {
			counts = append(counts, fmt.Sprintf("%s ×%d", k, n))
		}
		t.Add(fmt.Sprintf("[%s](%s/summary.md)", c.name, sub), report.Ms(c.offset)+"ms", "1ms", fmt.Sprint(res.OK), verdict,
			strings.Join(counts, ", "), fmt.Sprintf("[history](%s) · [check](%s/check.txt)", histFile, sub))
	}
	honest, liar := cases[0].verdict, cases[1].verdict
	out.Pass = honest.Valid && !liar.Valid
	sb.WriteString(t.String())
	switch {
	case out.Pass:
		sb.WriteString("\n**Verdict: PASS** — the checker caught the lying clock and passed the honest run.\n")
	case !honest.Valid:
		sb.WriteString("\n**Verdict: FAIL** — the honest run's history is not strictly serializable.\n")
	default:
		sb.WriteString("\n**Verdict: FAIL** — the lying run was not caught.\n")
	}
	sb.WriteString("\nRe-check a history with `meridian check --history FILE`.\n")
	out.Summary = sb.String()
	return out, nil
}
