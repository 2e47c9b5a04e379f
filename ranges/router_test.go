package ranges

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/meridiandb/meridian/kv/kvpb"
	"github.com/meridiandb/meridian/replication"
)

// lossyCaller loses the answer of its first call (after "running" it) and
// answers the others.
type lossyCaller struct {
	mu    sync.Mutex
	calls []replication.NodeID
}

func (c *lossyCaller) Call(_ context.Context, to replication.NodeID, _ string, _ []byte) ([]byte, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.calls = append(c.calls, to)
	if len(c.calls) == 1 {
		return nil, fmt.Errorf("%w: batch on n%d: partitioned", replication.ErrResponseLost, to)
	}
	return proto.Marshal(&kvpb.BatchResponse{Responses: []*kvpb.Response{{}}})
}

// oneRange is a directory of one meta range on nodes 1-3, all live and
// in one region.
type oneRange struct{}

func (oneRange) MetaRange() *replication.RangeDescriptor {
	return &replication.RangeDescriptor{RangeId: 1, StartKey: []byte{}, EndKey: SystemMax, Replicas: []*replication.ReplicaDescriptor{
		{NodeId: 1, ReplicaId: 1}, {NodeId: 2, ReplicaId: 2}, {NodeId: 3, ReplicaId: 3}}}
}
func (oneRange) NodeLive(replication.NodeID) bool   { return true }
func (oneRange) Distance(id replication.NodeID) int { return min(int(id)-1, 2) }

func TestSendAtMostOnce(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	reqs := []*kvpb.Request{{Value: &kvpb.Request_Get{Get: &kvpb.GetRequest{Key: MetaMin}}}}

	// An idempotent request is retried after its answer was lost.
	c := &lossyCaller{}
	r := NewRouter(RouterOptions{NodeID: 9, Caller: c, Directory: oneRange{}})
	if _, err := r.Send(ctx, MetaMin, SendOptions{}, reqs); err != nil {
		t.Fatalf("retried send: %v", err)
	}
	if len(c.calls) != 2 {
		t.Fatalf("calls %v, want 2 (one lost, one retried)", c.calls)
	}

	// One that must run at most once is not: its outcome is ambiguous.
	c = &lossyCaller{}
	r = NewRouter(RouterOptions{NodeID: 9, Caller: c, Directory: oneRange{}})
	_, err := r.Send(ctx, MetaMin, SendOptions{AtMostOnce: true}, reqs)
	if !errors.Is(err, replication.ErrAmbiguousResult) {
		t.Fatalf("at-most-once send after a lost answer: %v, want an ambiguous result", err)
	}
	if len(c.calls) != 1 {
		t.Fatalf("calls %v, want 1", c.calls)
	}
}

// staleMeta answers meta lookups with a stale entry first (the meta range
// not yet updated after a split) and the current one after that.
type staleMeta struct {
	mu           sync.Mutex
	calls        int
	stale, fresh *replication.RangeDescriptor
}

func (m *staleMeta) Call(_ context.Context, _ replication.NodeID, _ string, _ []byte) ([]byte, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.calls++
	d := m.fresh
	if m.calls == 1 {
		d = m.stale
	}
	b, err := proto.Marshal(d)
	if err != nil {
		return nil, err
	}
	return proto.Marshal(&kvpb.BatchResponse{Responses: []*kvpb.Response{{Value: &kvpb.Response_Scan{Scan: &kvpb.ScanResponse{
		Rows: []*kvpb.KeyValue{{Key: MetaKey(d.EndKey), Value: b}}}}}}})
}

// TestLookupWhileMetaLags looks up a key after r6 split twice: the cache
// knows r6's newest descriptor (which no longer holds the key) and the
// meta range still has an older one of r6 (which does). The lookup waits
// for the meta range to catch up instead of failing.
func TestLookupWhileMetaLags(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	reps := []*replication.ReplicaDescriptor{{NodeId: 1, ReplicaId: 1}}
	k := func(s string) []byte { return append([]byte{0x10}, s...) }
	m := &staleMeta{
		stale: &replication.RangeDescriptor{RangeId: 6, StartKey: k("f"), EndKey: KeyMax, Generation: 9, Replicas: reps},
		fresh: &replication.RangeDescriptor{RangeId: 7, StartKey: k("p"), EndKey: KeyMax, Generation: 10, Replicas: reps},
	}
	r := NewRouter(RouterOptions{NodeID: 1, Caller: m, Directory: oneRange{}})
	r.Cache.Insert(&replication.RangeDescriptor{RangeId: 6, StartKey: k("f"), EndKey: k("p"), Generation: 10, Replicas: reps})
	e, err := r.Lookup(ctx, k("x"))
	if err != nil {
		t.Fatalf("lookup while meta lags: %v", err)
	}
	if e.Desc.RangeId != 7 || m.calls != 2 {
		t.Fatalf("found r%d after %d meta reads, want r7 after 2", e.Desc.RangeId, m.calls)
	}
}
