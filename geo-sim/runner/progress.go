package runner

import (
	"fmt"
	"strings"
	"time"

	"github.com/meridiandb/meridian/geo-sim/results"
	"github.com/meridiandb/meridian/replication"
	"github.com/meridiandb/meridian/truetime"
)

// progress draws a progress bar on Config.Progress until stop closes.
func (s *Sim) progress(stop <-chan struct{}, spec RunSpec, rec *recorder, lastFault func() string) {
	out := s.cfg.Progress
	if out == nil {
		<-stop
		return
	}
	const width = 30
	total := spec.Warmup + spec.Duration
	begin := rec.start - spec.Warmup
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	prev := 0 // the length of the previous line, to blank its tail
	draw := func(final bool) {
		el := min(max(truetime.Mono()-begin, 0), total)
		filled := int(float64(width) * float64(el) / float64(total))
		phase := "run"
		if el < spec.Warmup {
			phase = "warm-up"
		}
		if final {
			filled, phase, el = width, "done", total
		}
		ok, bad := rec.ok.Load(), rec.bad.Load()
		rate := 0.0
		if m := el - spec.Warmup; m > 0 {
			rate = float64(ok) / m.Seconds()
		}
		line := fmt.Sprintf("%s [%s%s] %5.1fs/%.0fs %-7s %6d ops %5.0f/s %3d errors",
			trunc(spec.Name, 14), strings.Repeat("#", filled), strings.Repeat(".", width-filled),
			el.Seconds(), total.Seconds(), phase, ok, rate, bad)
		if f := lastFault(); f != "" {
			line += "  last fault: " + strings.TrimSpace(f)
		}
		n := len([]rune(line))
		fmt.Fprintf(out, "\r%s%s", line, strings.Repeat(" ", max(prev-n, 0)))
		prev = n
		if final {
			fmt.Fprintln(out)
		}
	}
	for {
		select {
		case <-tick.C:
			draw(false)
		case <-stop:
			draw(true)
			return
		}
	}
}

func trunc(s string, n int) string {
	if len(s) > n {
		return s[:n-1] + "…"
	}
	return s
}

// storeMetrics returns each running node's store metrics.
func (s *Sim) storeMetrics() map[int]replication.Metrics {
	out := map[int]replication.Metrics{}
	for i := 1; i <= len(s.clocks); i++ {
		if n := s.Node(i); n != nil && n.Store() != nil {
			out[i] = n.Store().Metrics()
		}
	}
	return out
}

// nodeStats returns each node's raft activity between two snapshots.
func (s *Sim) nodeStats(before, after map[int]replication.Metrics) []results.NodeStats {
	top := s.Topology()
	var out []results.NodeStats
	for i := 1; i <= top.NumNodes(); i++ {
		a, okA := after[i]
		b, okB := before[i]
		ns := results.NodeStats{Node: i, Region: top.Node(i).Region, Leases: a.Leaseholders}
		if okA && okB && a.Proposals >= b.Proposals {
			ns.Proposals = a.Proposals - b.Proposals
			if ns.Proposals > 0 {
				ns.MeanProposal = time.Duration((a.ProposalNanos - b.ProposalNanos) / ns.Proposals)
			}
		}
		out = append(out, ns)
	}
	return out
}
