package report

import (
	"time"

	"github.com/meridiandb/meridian/geo-sim/bounds"
	"github.com/meridiandb/meridian/geo-sim/results"
)

// Part is one slice of an operation's mean latency.
type Part struct {
	Name string
	D    time.Duration
}

// PartNames is the order of breakdown parts, from the client inwards.
var PartNames = []string{"client↔gateway", "admission wait", "network", "lock wait", "raft", "2PC prepare",
	"commit wait", "safe-time wait", "retries", "other"}

// Breakdown returns where o's mean latency went, and whether it was
// measured (ledgers) rather than estimated. See the package documentation.
func Breakdown(run *results.Run, o *results.OpStats) (parts []Part, measured bool) {
	n := o.Count()
	if n == 0 {
		return nil, false
	}
	mean := o.Mean()
	client := o.ClientNetwork / time.Duration(n)
	add := func(name string, d time.Duration) {
		if d > 0 {
			parts = append(parts, Part{name, d})
		}
	}
	add("client↔gateway", client)
	if l, ok := o.MeanLedger(); ok && o.LedgerCount == n {
		add("admission wait", l.AdmissionWait)
		add("network", l.Network)
		add("lock wait", l.LockWait)
		add("raft", l.Raft)
		add("2PC prepare", l.Prepare)
		add("commit wait", l.CommitWait)
		add("safe-time wait", l.SafeTimeWait)
		add("retries", l.RetryTime)
		known := client + l.AdmissionWait + l.Network + l.LockWait + l.Raft + l.Prepare + l.CommitWait + l.SafeTimeWait + l.RetryTime
		add("other", mean-known)
		return parts, true
	}
	known := client
	if o.Bound.Total > 0 {
		add("network", o.Bound.Gateway)
		known += o.Bound.Gateway
	}
	if (o.Kind == bounds.Write || o.Kind == bounds.Commit2PC) && len(o.Ranges) > 0 {
		raft := time.Duration(0)
		for _, ns := range run.Nodes {
			if ns.Node == o.Ranges[0].Leaseholder {
				raft = ns.MeanProposal
			}
		}
		add("raft", raft)
		known += raft
	}
	add("other", mean-known)
	return parts, false
}
