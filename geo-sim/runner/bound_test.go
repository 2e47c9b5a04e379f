package runner

import (
	"strings"
	"testing"
	"time"

	"github.com/meridiandb/meridian/geo-sim/bounds"
	"github.com/meridiandb/meridian/geo-sim/results"
	"github.com/meridiandb/meridian/geo-sim/workload"
	"github.com/meridiandb/meridian/ranges/rangespb"
	"github.com/meridiandb/meridian/replication/replicationpb"
)

func info(start, end string, lh int, voters ...int) *rangespb.RangeInfo {
	d := &replicationpb.RangeDescriptor{RangeId: 7, StartKey: []byte(start), EndKey: []byte(end)}
	for _, v := range voters {
		d.Replicas = append(d.Replicas, &replicationpb.ReplicaDescriptor{NodeId: uint64(v), ReplicaId: uint64(v)})
	}
	return &rangespb.RangeInfo{Desc: d, LeaseholderNode: uint64(lh)}
}

// TestSetBound: each operation is bounded through its own gateway by the
// placement of its time, and the reported bound is the median of those.
func TestSetBound(t *testing.T) {
	top := preset(t, "local3") // client 0.5ms, nodes 1ms apart, ε 1ms
	s := &Sim{top: top}
	spans := []workload.Span{{Key: []byte("k"), EndKey: []byte("l")}}
	op := workload.OpSpec{Name: "write", Kind: bounds.Write, Spans: func(string) []workload.Span { return spans }}
	snaps := []snapshot{
		{at: 0, infos: []*rangespb.RangeInfo{info("a", "z", 1, 1, 2, 3)}},
		{at: time.Second, infos: []*rangespb.RangeInfo{info("a", "z", 2, 1, 2, 3)}},
		{at: 2 * time.Second, infos: []*rangespb.RangeInfo{info("a", "z", 2, 1, 2, 3)}},
	}
	ms := time.Millisecond
	o := &results.OpStats{Op: "write", Region: "local", Kind: bounds.Write, Samples: []results.Sample{
		// Through n3 before the move: 0.5 + 1 + max(1, 2) = 3.5ms, but
		// the next snapshot's placement is as far: 3.5ms.
		{Start: 100 * ms, Gateway: 3},
		// Through n2 in the first second: the lease may already have
		// moved to n2, so the lower bound is 2.5ms.
		{Start: 500 * ms, Gateway: 2},
		{Start: 1500 * ms, Gateway: 2}, // 2.5ms
		{Start: 1600 * ms, Gateway: 1}, // 3.5ms
		{Start: 1700 * ms, Gateway: 2}, // 2.5ms
	}}
	note, err := s.setBound(top, o, op, snaps)
	if err != nil {
		t.Fatal(err)
	}
	// Bounds sorted: 2.5 2.5 2.5 3.5 3.5; the median is 2.5ms via n2.
	if o.Bound.Total != 2500*time.Microsecond || o.Gateway != 2 || o.Ranges[0].Leaseholder != 2 {
		t.Errorf("bound %v via n%d ranges %v", o.Bound, o.Gateway, o.Ranges)
	}
	if !strings.Contains(note, "ranges moved") {
		t.Errorf("note %q", note)
	}
	// Without samples, the first placement through the region's gateway.
	empty := &results.OpStats{Op: "write", Region: "local", Kind: bounds.Write, Gateway: 3}
	if _, err := s.setBound(top, empty, op, snaps[:1]); err != nil || empty.Bound.Total != 3500*time.Microsecond {
		t.Errorf("no samples: %v %v", empty.Bound, err)
	}
	// A span no range holds is an error.
	op.Spans = func(string) []workload.Span { return []workload.Span{{Key: []byte("zz")}} }
	if _, err := s.setBound(top, o, op, snaps); err == nil {
		t.Error("no error for a span outside every range")
	}
}
