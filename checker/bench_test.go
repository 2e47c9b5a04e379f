package checker

import (
	"bytes"
	"math/rand/v2"
	"runtime"
	"testing"

	"github.com/meridiandb/meridian/checker/history"
	"github.com/meridiandb/meridian/checker/internal/sim"
	"github.com/meridiandb/meridian/checker/workload"
)

// BenchmarkCheckListAppend100k parses and checks a valid list-append history
// of 100,000 transactions from 20 processes (with commit timestamps). It
// reports the history's size and the peak heap in use during a check.
func BenchmarkCheckListAppend100k(b *testing.B) {
	data := sim.Encode(sim.Run(sim.Config{
		Kind: workload.ListAppend, Processes: 20, Txns: 100_000,
		Rand:     rand.New(rand.NewPCG(1, 2)),
		FailProb: 0.02, InfoProb: 0.01, CommitTS: true,
	}))
	b.ReportAllocs()
	b.ResetTimer()
	var peak uint64
	for b.Loop() {
		h, err := history.Parse(bytes.NewReader(data))
		if err != nil {
			b.Fatal(err)
		}
		res, err := Check(h, Options{})
		if err != nil {
			b.Fatal(err)
		}
		if !res.Valid {
			b.Fatalf("valid history flagged: %v", res.Counts)
		}
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		peak = max(peak, ms.HeapInuse)
	}
	b.ReportMetric(float64(peak)/(1<<20), "heap-inuse-MB")
	b.ReportMetric(float64(len(data))/(1<<20), "history-MB")
}
