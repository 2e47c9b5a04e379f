package raftbench

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/meridiandb/meridian/replication"
	"github.com/meridiandb/meridian/replication/replicationpb"
	"github.com/meridiandb/meridian/storage"
	"github.com/meridiandb/meridian/truetime"
)

// Options configure a run. Zero values take the documented defaults.
type Options struct {
	// Dir holds the nodes' stores. Required.
	Dir string
	// Nodes, each holding a replica of every range. Default: 3.
	Nodes int
	// Ranges written to. Default: 1.
	Ranges int
	// Writers issue puts one after another. Default: 1.
	Writers int
	// Duration of the measured run, after Warmup. Default: 10s.
	Duration time.Duration
	Warmup   time.Duration // default: 1s
	// ValueSize in bytes. Default: 100.
	ValueSize int
	// Keys is the size of the random key space. Default: 100,000.
	Keys int
	// Progress, if set, receives a line per second.
	Progress io.Writer
}

// Result is what a run measured.
type Result struct {
	Ops      int
	Errors   int
	Duration time.Duration
	P50, P99 time.Duration
	// RaftWrites counts the nodes' synced raft log writes, and
	// RaftWriteAvg is their mean latency.
	RaftWrites   int64
	RaftWriteAvg time.Duration
}

func (r Result) OpsPerSec() float64 { return float64(r.Ops) / r.Duration.Seconds() }

// String renders the result as the one line `meridian debug raftbench`
// prints.
func (r Result) String() string {
	return fmt.Sprintf("ops/s=%.0f p50_ms=%.3f p99_ms=%.3f", r.OpsPerSec(),
		float64(r.P50)/float64(time.Millisecond), float64(r.P99)/float64(time.Millisecond))
}

const putMethod = "raftbench.put"

type node struct {
	eng   *storage.Engine
	tr    *replication.GRPCTransport
	store *replication.Store
}

// Run starts the nodes, writes for the warmup and the duration, and stops
// everything.
func Run(ctx context.Context, o Options) (Result, error) {
	if o.Dir == "" {
		return Result{}, errors.New("raftbench: a directory for the stores is required")
	}
	def := func(v *int, d int) {
		if *v == 0 {
			*v = d
		}
	}
	def(&o.Nodes, 3)
	def(&o.Ranges, 1)
	def(&o.Writers, 1)
	def(&o.ValueSize, 100)
	def(&o.Keys, 100000)
	if o.Duration == 0 {
		o.Duration = 10 * time.Second
	}
	if o.Warmup == 0 {
		o.Warmup = time.Second
	}
	nodes, err := startNodes(o)
	defer stopNodes(nodes)
	if err != nil {
		return Result{}, err
	}
	// Wait for every range to have a leaseholder.
	leaseholders := make([]replication.NodeID, o.Ranges)
	for i := range leaseholders {
		lh, err := waitLeaseholder(ctx, nodes, replication.RangeID(i+1))
		if err != nil {
			return Result{}, err
		}
		leaseholders[i] = lh
	}
	client := nodes[0].tr
	val := make([]byte, o.ValueSize)
	for i := range val {
		val[i] = 'a' + byte(i%26)
	}
	var (
		mu      sync.Mutex
		lats    []time.Duration
		errs    int
		wg      sync.WaitGroup
		startMs = truetime.Mono()
		measure = startMs + o.Warmup
		end     = measure + o.Duration
	)
	for w := 0; w < o.Writers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			r := rand.New(rand.NewPCG(uint64(w), 42))
			var mine []time.Duration
			nerr := 0
			for truetime.Mono() < end && ctx.Err() == nil {
				rangeIdx := (w + r.IntN(o.Ranges)) % o.Ranges
				key := fmt.Sprintf("bench/%04d/key-%08d", rangeIdx, r.IntN(o.Keys))
				payload := binary.BigEndian.AppendUint64(nil, uint64(rangeIdx+1))
				payload = binary.BigEndian.AppendUint32(payload, uint32(len(key)))
				payload = append(append(payload, key...), val...)
				t0 := truetime.Mono()
				cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
				_, err := client.Call(cctx, leaseholders[rangeIdx], putMethod, payload)
				cancel()
				el := truetime.Mono() - t0
				if err != nil {
					nerr++
					if lh, err := waitLeaseholder(ctx, nodes, replication.RangeID(rangeIdx+1)); err == nil {
						mu.Lock()
						leaseholders[rangeIdx] = lh
						mu.Unlock()
					}
					continue
				}
				if t0 >= measure {
					mine = append(mine, el)
				}
			}
			mu.Lock()
			lats = append(lats, mine...)
			errs += nerr
			mu.Unlock()
		}(w)
	}
	if o.Progress != nil {
		go progress(ctx, o.Progress, end, &mu, &lats)
	}
	wg.Wait()
	if len(lats) == 0 {
		return Result{Errors: errs}, fmt.Errorf("raftbench: no write succeeded (%d errors)", errs)
	}
	slices.Sort(lats)
	res := Result{
		Ops: len(lats), Errors: errs, Duration: o.Duration,
		P50: lats[len(lats)/2], P99: lats[len(lats)*99/100],
	}
	var nanos int64
	for _, n := range nodes {
		m := n.store.Metrics()
		res.RaftWrites += m.RaftWrites
		nanos += m.RaftWriteNanos
	}
	if res.RaftWrites > 0 {
		res.RaftWriteAvg = time.Duration(nanos / res.RaftWrites)
	}
	return res, nil
}

func progress(ctx context.Context, w io.Writer, end time.Duration, mu *sync.Mutex, lats *[]time.Duration) {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for truetime.Mono() < end {
		select {
		case <-t.C:
		case <-ctx.Done():
			return
		}
		fmt.Fprintf(w, "… %.0fs left\n", (end - truetime.Mono()).Seconds())
	}
}

func startNodes(o Options) ([]*node, error) {
	addrs := map[replication.NodeID]string{}
	var lis []net.Listener
	for i := 1; i <= o.Nodes; i++ {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		lis = append(lis, l)
		addrs[replication.NodeID(i)] = l.Addr().String()
	}
	desc := func(r int) *replication.RangeDescriptor {
		d := &replication.RangeDescriptor{
			RangeId:  uint64(r + 1),
			StartKey: []byte(fmt.Sprintf("bench/%04d", r)), EndKey: []byte(fmt.Sprintf("bench/%04d", r+1)),
			Generation: 1, NextReplicaId: uint64(o.Nodes + 1),
		}
		for i := 1; i <= o.Nodes; i++ {
			d.Replicas = append(d.Replicas, &replication.ReplicaDescriptor{NodeId: uint64(i), ReplicaId: uint64(i)})
		}
		return d
	}
	clock := truetime.NewLocal(truetime.LocalOptions{})
	var nodes []*node
	for i := 1; i <= o.Nodes; i++ {
		eng, err := storage.Open(storage.Options{Dir: filepath.Join(o.Dir, fmt.Sprintf("n%d", i))})
		if err != nil {
			return nodes, err
		}
		n := &node{eng: eng}
		nodes = append(nodes, n)
		for r := 0; r < o.Ranges; r++ {
			if err := replication.BootstrapRange(eng, desc(r)); err != nil {
				return nodes, fmt.Errorf("n%d: %w (is %s left from an earlier run?)", i, err, o.Dir)
			}
		}
		n.tr, err = replication.NewGRPCTransport(replication.GRPCOptions{
			NodeID: replication.NodeID(i), Listener: lis[i-1],
			Resolve: func(id replication.NodeID) (string, error) { return addrs[id], nil },
		})
		if err != nil {
			return nodes, err
		}
		n.store, err = replication.NewStore(replication.StoreOptions{
			NodeID: replication.NodeID(i), Engine: eng, Clock: clock, Transport: n.tr,
			ActiveWindow: time.Hour,
		})
		if err != nil {
			return nodes, err
		}
		n.store.SetCallHandler(putHandler(n.store))
		n.store.Start()
	}
	return nodes, nil
}

// putHandler serves a put: the range id, the key and the value.
func putHandler(s *replication.Store) replication.CallHandler {
	return func(ctx context.Context, _ replication.NodeID, method string, p []byte) ([]byte, error) {
		if method != putMethod || len(p) < 12 {
			return nil, fmt.Errorf("raftbench: bad call %s", method)
		}
		rangeID := replication.RangeID(binary.BigEndian.Uint64(p))
		klen := int(binary.BigEndian.Uint32(p[8:]))
		key, val := p[12:12+klen], p[12+klen:]
		r, err := s.GetReplica(rangeID)
		if err != nil {
			return nil, err
		}
		if _, err := r.EnsureLease(ctx); err != nil {
			return nil, err
		}
		w, err := r.AssignTimestamp(0)
		if err != nil {
			return nil, err
		}
		wb := &replicationpb.WriteBatch{Mvcc: []*replicationpb.MVCCWrite{{Key: key, Timestamp: int64(w.TS), Value: val}}}
		return nil, r.ProposeWrite(ctx, w, wb)
	}
}

func waitLeaseholder(ctx context.Context, nodes []*node, id replication.RangeID) (replication.NodeID, error) {
	deadline := truetime.Mono() + 30*time.Second
	for truetime.Mono() < deadline {
		for _, n := range nodes {
			r, err := n.store.GetReplica(id)
			if err != nil {
				continue
			}
			cctx, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
			_, err = r.EnsureLease(cctx)
			cancel()
			if err == nil {
				return n.store.NodeID(), nil
			}
		}
		if ctx.Err() != nil {
			return 0, ctx.Err()
		}
	}
	return 0, fmt.Errorf("raftbench: no leaseholder for r%d within 30s", id)
}

func stopNodes(nodes []*node) {
	for _, n := range nodes {
		if n.store != nil {
			n.store.Close()
		}
	}
	for _, n := range nodes {
		if n.tr != nil {
			_ = n.tr.Close()
		}
		if n.eng != nil {
			_ = n.eng.Close()
		}
	}
}
