package marketplace

import (
	"math/bits"
	"time"
)

// histogram records latencies in microseconds in log-linear buckets: exact
// below 64µs, then 32 buckets per power of two, so a quantile is reported
// within about 3%. It is not safe for concurrent use; each workload client
// keeps its own and they are merged at the end.
type histogram struct {
	counts   []int64
	n        int64
	sum, max time.Duration
}

const histSubBits = 5 // 32 sub-buckets per power of two

func bucketOf(us int64) int {
	if us < 1<<(histSubBits+1) {
		return int(max(us, 0))
	}
	shift := bits.Len64(uint64(us)) - (histSubBits + 1)
	return shift<<histSubBits + int(us>>shift)
}

// bucketMax is the largest value (µs) that falls in bucket i.
func bucketMax(i int) int64 {
	if i < 1<<(histSubBits+1) {
		return int64(i)
	}
	shift := i>>histSubBits - 1
	top := int64(i - shift<<histSubBits)
	return (top+1)<<shift - 1
}

func (h *histogram) record(d time.Duration) {
	b := bucketOf(d.Microseconds())
	if b >= len(h.counts) {
		h.counts = append(h.counts, make([]int64, b+1-len(h.counts))...)
	}
	h.counts[b]++
	h.n++
	h.sum += d
	h.max = max(h.max, d)
}

func (h *histogram) merge(o *histogram) {
	if len(o.counts) > len(h.counts) {
		h.counts = append(h.counts, make([]int64, len(o.counts)-len(h.counts))...)
	}
	for i, c := range o.counts {
		h.counts[i] += c
	}
	h.n += o.n
	h.sum += o.sum
	h.max = max(h.max, o.max)
}

// quantile returns the q-quantile (0 < q ≤ 1): the upper bound of the
// bucket holding the ⌈q·n⌉-th smallest value, capped at the maximum.
func (h *histogram) quantile(q float64) time.Duration {
	if h.n == 0 {
		return 0
	}
	rank := int64(q*float64(h.n) + 0.999999)
	rank = min(max(rank, 1), h.n)
	var seen int64
	for i, c := range h.counts {
		if seen += c; seen >= rank {
			return min(time.Duration(bucketMax(i))*time.Microsecond, h.max)
		}
	}
	return h.max
}
