package marketplace

import (
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

// TestHistogram compares quantiles with the exact ones of sorted samples.
func TestHistogram(t *testing.T) {
	for i := range 1500 { // up to about 2^47µs
		if us := bucketMax(i); bucketOf(us) != i || (i > 0 && bucketOf(bucketMax(i-1)+1) != i) {
			t.Fatalf("bucket %d: max %d maps to %d", i, us, bucketOf(us))
		}
	}
	r := rand.New(rand.NewPCG(1, 2))
	var h, a, b histogram
	var all []time.Duration
	for i := range 20000 {
		d := time.Duration(r.ExpFloat64()*2e6) + time.Duration(r.IntN(100))*time.Microsecond
		all = append(all, d)
		h.record(d)
		if i%2 == 0 {
			a.record(d)
		} else {
			b.record(d)
		}
	}
	a.merge(&b)
	slices.Sort(all)
	for _, q := range []float64{0.01, 0.5, 0.95, 0.99, 1} {
		exact := all[int(q*float64(len(all))+0.999999)-1]
		got := h.quantile(q)
		if got < exact.Truncate(time.Microsecond) || float64(got) > float64(exact)*1.035+float64(time.Microsecond) {
			t.Errorf("q%.2f = %v, exact %v", q, got, exact)
		}
		if m := a.quantile(q); m != got {
			t.Errorf("merged q%.2f = %v, want %v", q, m, got)
		}
	}
	if h.max != all[len(all)-1] || h.n != int64(len(all)) {
		t.Errorf("max %v n %d", h.max, h.n)
	}
}
