package results

import (
	"encoding/json"
	"math"
	"os"
	"slices"
	"time"

	"github.com/meridiandb/meridian/geo-sim/bounds"
	"github.com/meridiandb/meridian/geo-sim/faults"
	"github.com/meridiandb/meridian/txn"
)

// Run is one measured run.
type Run struct {
	Name      string
	Topology  string // the topology's Summary
	Workload  string
	Placement string
	Seed      uint64
	// ClientsPerRegion in each of Regions.
	ClientsPerRegion int
	Regions          []string
	// Duration is the measured window (after Warmup); Bucket the
	// throughput resolution.
	Duration, Warmup, Bucket time.Duration
	// Epsilon is the claimed ε of the nodes' clocks when the run started
	// (the largest, if they differ).
	Epsilon time.Duration
	Ops     []*OpStats
	Faults  []faults.Applied
	Nodes   []NodeStats
	// Notes are remarks for the report (a verification's outcome, a
	// skipped operation).
	Notes []string
}

// OpStats is one operation type seen from one region.
type OpStats struct {
	Op     string
	Region string
	Kind   bounds.Kind
	// Gateway is the gateway whose bound is Bound; GatewayOps counts the
	// successful operations by the gateway node that served them.
	Gateway    int
	GatewayOps map[int]int
	Samples    []Sample
	Errors     int
	// ErrorExamples are up to three distinct error messages.
	ErrorExamples []string
	Buckets       []int // successes completed per bucket
	ErrBuckets    []int // failures per bucket
	// Ledger sums the ledgers of the samples that had one (LedgerCount).
	Ledger      txn.Ledger
	LedgerCount int
	// ClientNetwork sums the client↔gateway time the samples paid.
	ClientNetwork time.Duration
	// Bound is the median, over the operations, of each one's lower
	// bound — through the gateway that served it, for the placement of its
	// ranges when it ran (the lower of the placements read just before and
	// after it) — and so a lower bound of the median latency: if every
	// latency is at least its bound, every order statistic is at least
	// the bounds'. Ranges is the placement that median bound came from.
	// BoundErr says why there is no bound.
	Ranges   []bounds.Range
	Bound    bounds.Bound
	BoundErr string

	sorted []time.Duration
}

// Sample is one successful operation: when it started (from the start of
// the measured window), how long it took, and the gateway node that
// served it.
type Sample struct {
	Start, Latency time.Duration
	Gateway        int
}

// NodeStats is a node's raft activity during the run (store metrics).
type NodeStats struct {
	Node      int
	Region    string
	Proposals int64
	// MeanProposal is the mean time from proposing a command to applying
	// it on this node, as its leaseholder replicas saw it.
	MeanProposal time.Duration
	Leases       int
}

// Count returns the number of successful operations.
func (o *OpStats) Count() int { return len(o.Samples) }

// Latencies returns the sorted latencies.
func (o *OpStats) Latencies() []time.Duration {
	if len(o.sorted) != len(o.Samples) {
		o.sorted = make([]time.Duration, len(o.Samples))
		for i, s := range o.Samples {
			o.sorted[i] = s.Latency
		}
		slices.Sort(o.sorted)
	}
	return o.sorted
}

// Percentile returns the p-th percentile (0 < p ≤ 100) by nearest rank, or
// 0 without samples.
func (o *OpStats) Percentile(p float64) time.Duration {
	l := o.Latencies()
	if len(l) == 0 {
		return 0
	}
	i := int(math.Ceil(p/100*float64(len(l)))) - 1
	return l[min(max(i, 0), len(l)-1)]
}

// Mean returns the mean latency.
func (o *OpStats) Mean() time.Duration {
	if len(o.Samples) == 0 {
		return 0
	}
	var sum time.Duration
	for _, s := range o.Samples {
		sum += s.Latency
	}
	return sum / time.Duration(len(o.Samples))
}

// Throughput returns successful operations per second over d.
func (o *OpStats) Throughput(d time.Duration) float64 {
	if d <= 0 {
		return 0
	}
	return float64(len(o.Samples)) / d.Seconds()
}

// Ratio returns the median over the bound (0 without either).
func (o *OpStats) Ratio() float64 {
	if o.Bound.Total <= 0 || len(o.Samples) == 0 {
		return 0
	}
	return float64(o.Percentile(50)) / float64(o.Bound.Total)
}

// MeanLedger returns the mean ledger of the samples that had one.
func (o *OpStats) MeanLedger() (txn.Ledger, bool) {
	if o.LedgerCount == 0 {
		return txn.Ledger{}, false
	}
	n := time.Duration(o.LedgerCount)
	l := o.Ledger
	return txn.Ledger{
		Total: l.Total / n, Network: l.Network / n, LockWait: l.LockWait / n, Raft: l.Raft / n,
		Prepare: l.Prepare / n, CommitWait: l.CommitWait / n, SafeTimeWait: l.SafeTimeWait / n, AdmissionWait: l.AdmissionWait / n,
		RetryTime: l.RetryTime / n, Retries: l.Retries, Ranges: l.Ranges / o.LedgerCount,
	}, true
}

// AddLedger adds l to the sum.
func (o *OpStats) AddLedger(l txn.Ledger) {
	s := &o.Ledger
	s.Total += l.Total
	s.Network += l.Network
	s.LockWait += l.LockWait
	s.Raft += l.Raft
	s.Prepare += l.Prepare
	s.CommitWait += l.CommitWait
	s.SafeTimeWait += l.SafeTimeWait
	s.AdmissionWait += l.AdmissionWait
	s.Retries += l.Retries
	s.RetryTime += l.RetryTime
	s.Ranges += l.Ranges
	o.LedgerCount++
}

// Op returns the stats of op in region, or nil.
func (r *Run) Op(op, region string) *OpStats {
	for _, o := range r.Ops {
		if o.Op == op && o.Region == region {
			return o
		}
	}
	return nil
}

// OpNames returns the operations in the order they first appear.
func (r *Run) OpNames() []string {
	var out []string
	for _, o := range r.Ops {
		if !slices.Contains(out, o.Op) {
			out = append(out, o.Op)
		}
	}
	return out
}

// Total returns the successful operations of every kind, per bucket.
func (r *Run) Total() []int {
	var out []int
	for _, o := range r.Ops {
		for i, n := range o.Buckets {
			for len(out) <= i {
				out = append(out, 0)
			}
			out[i] += n
		}
	}
	return out
}

// Save writes the run as JSON (samples included), for later analysis.
func (r *Run) Save(path string) error {
	data, err := json.MarshalIndent(r, "", " ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, data, 0o644)
}
