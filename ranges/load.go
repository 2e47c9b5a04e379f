package ranges

import (
	"math/rand/v2"
	"sort"
	"sync"
	"time"

	"github.com/meridiandb/meridian/replication"
	"github.com/meridiandb/meridian/truetime"
)

// LoadTracker counts requests per range and samples their keys, so that a
// range under heavy load can be split where its load divides.
type LoadTracker struct {
	mu     sync.Mutex
	rng    *rand.Rand
	ranges map[replication.RangeID]*rangeLoad
}

type rangeLoad struct {
	start   time.Duration // truetime.Mono when the window began
	count   int
	samples [][]byte // reservoir of request keys in the window
	lastQPS float64
}

const loadSamples = 64

// NewLoadTracker returns an empty tracker; seed seeds the sampling.
func NewLoadTracker(seed uint64) *LoadTracker {
	return &LoadTracker{rng: rand.New(rand.NewPCG(seed, 3)), ranges: map[replication.RangeID]*rangeLoad{}}
}

// Record counts a request for key on the range.
func (t *LoadTracker) Record(id replication.RangeID, key []byte) {
	if key == nil {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	l := t.ranges[id]
	if l == nil {
		l = &rangeLoad{start: truetime.Mono()}
		t.ranges[id] = l
	}
	l.count++
	if len(l.samples) < loadSamples {
		l.samples = append(l.samples, append([]byte(nil), key...))
	} else if j := t.rng.IntN(l.count); j < loadSamples {
		l.samples[j] = append(l.samples[j][:0], key...)
	}
}

// Roll closes the range's window if it is at least window long, and
// returns its requests per second and the median sampled key.
func (t *LoadTracker) Roll(id replication.RangeID, window time.Duration) (qps float64, median []byte, ok bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	l := t.ranges[id]
	if l == nil {
		return 0, nil, false
	}
	el := truetime.Mono() - l.start
	if el < window {
		return l.lastQPS, nil, false
	}
	qps = float64(l.count) / el.Seconds()
	samples := l.samples
	sort.Slice(samples, func(i, j int) bool { return string(samples[i]) < string(samples[j]) })
	if len(samples) > 0 {
		median = samples[len(samples)/2]
	}
	*l = rangeLoad{start: truetime.Mono(), lastQPS: qps}
	return qps, median, true
}

// Forget drops a range's load (it moved or was removed).
func (t *LoadTracker) Forget(id replication.RangeID) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.ranges, id)
}
