package checkrun

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/meridiandb/meridian/checker/history"
	"github.com/meridiandb/meridian/checker/workload"
	"github.com/meridiandb/meridian/ranges/rangespb"
	"github.com/meridiandb/meridian/replication"
	"github.com/meridiandb/meridian/server"
	"github.com/meridiandb/meridian/truetime"
	"github.com/meridiandb/meridian/txn"
)

// Options configure an in-process run. Zero values take the defaults.
type Options struct {
	Kind workload.Kind
	// Nodes and Regions of the cluster (nodes go to regions round-robin).
	// Defaults: 3 and 1.
	Nodes, Regions int
	// Duration of the workload. Default: 30s.
	Duration time.Duration
	// Concurrency: clients. Default: 20 (the cluster mostly waits on
	// simulated network delay, so more clients commit more).
	Concurrency int
	// Nemesis lists the faults to inject: kill, partition, skew,
	// lease-transfer.
	Nemesis []string
	// Seed makes the transactions, delays and faults reproducible.
	Seed uint64
	// Epsilon is every clock's claimed uncertainty; real offsets stay
	// within it. Default: 2ms.
	Epsilon time.Duration
	// RegionDelay is the one-way delay between regions. Default: 10ms.
	RegionDelay time.Duration
	// UnsafeNoCommitWait disables commit wait (a demonstration of what it
	// protects).
	UnsafeNoCommitWait bool
	// History receives the history. Required.
	History io.Writer
	// Log receives progress lines. Default: discard.
	Log io.Writer
}

// Stats count a run's transactions by outcome.
type Stats = workload.Stats

const keyPrefix = "chk/"

// Run starts an in-process cluster, runs the workload with the nemesis and
// writes the history.
func Run(ctx context.Context, o Options) (Stats, error) {
	if o.Nodes == 0 {
		o.Nodes = 3
	}
	if o.Regions == 0 {
		o.Regions = 1
	}
	if o.Duration == 0 {
		o.Duration = 30 * time.Second
	}
	if o.Concurrency == 0 {
		o.Concurrency = 20
	}
	if o.Epsilon == 0 {
		o.Epsilon = 2 * time.Millisecond
	}
	if o.RegionDelay == 0 {
		o.RegionDelay = 10 * time.Millisecond
	}
	if o.Log == nil {
		o.Log = io.Discard
	}
	for _, n := range o.Nemesis {
		switch n {
		case "kill", "partition", "skew", "lease-transfer":
		default:
			return Stats{}, fmt.Errorf("unknown nemesis %q (want kill, partition, skew or lease-transfer)", n)
		}
	}
	rng := rand.New(rand.NewPCG(o.Seed, 0xc0ffee))
	net := replication.NewMemNetwork(replication.MemNetworkOptions{Seed: o.Seed + 1, Default: replication.Link{Delay: 200 * time.Microsecond}})
	region := func(i int) int { return (i - 1) % o.Regions }
	for a := 1; a <= o.Nodes; a++ {
		for b := 1; b <= o.Nodes; b++ {
			if a != b && region(a) != region(b) {
				net.SetLink(replication.NodeID(a), replication.NodeID(b), replication.Link{Delay: o.RegionDelay, Jitter: o.RegionDelay / 10})
			}
		}
	}
	clocks := make([]*truetime.SimClock, o.Nodes+1)
	for i := 1; i <= o.Nodes; i++ {
		clocks[i] = truetime.NewSimulated(truetime.SimOptions{ClaimedEpsilon: o.Epsilon, Offset: skew(rng, o.Epsilon)})
	}
	cfg := server.Config{QueueInterval: 250 * time.Millisecond, DeadTimeout: time.Hour, TxnKnobs: txn.TestingKnobs{UnsafeNoCommitWait: o.UnsafeNoCommitWait}}
	cfg.Store.TickInterval = 50 * time.Millisecond
	cfg.Store.LeaseDuration = 2 * time.Second
	c, err := server.StartCluster(ctx, server.ClusterOptions{
		Nodes: o.Nodes, Network: net, Node: cfg,
		Locality: func(i int) *rangespb.Locality {
			return &rangespb.Locality{Region: "r" + strconv.Itoa(region(i)), Zone: "z" + strconv.Itoa(i)}
		},
		Clock: func(i int) truetime.Clock { return clocks[i] },
	})
	if err != nil {
		return Stats{}, err
	}
	r := &run{o: o, c: c, net: net, clocks: clocks, rng: rng}
	defer r.stop()
	wctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	if err := c.WaitReplicated(wctx, min(3, o.Nodes)); err != nil {
		return Stats{}, err
	}
	// Ten ranges (keys by their first digit), so that transactions span
	// ranges (two-phase commit) and leases spread over the nodes.
	for d := 1; d <= 9; d++ {
		if err := c.Node(1).Router().AdminSplit(wctx, []byte(keyPrefix+o.Kind.String()+"/"+strconv.Itoa(d))); err != nil {
			return Stats{}, fmt.Errorf("splitting the workload's keys: %w", err)
		}
	}
	fmt.Fprintf(o.Log, "cluster of %d nodes in %d regions up, workload keys in 10 ranges; running %v of %s with %d clients, nemesis %v\n",
		o.Nodes, o.Regions, o.Duration, o.Kind, o.Concurrency, o.Nemesis)
	return r.workload(ctx)
}

// skew draws a clock offset inside the claimed uncertainty.
func skew(rng *rand.Rand, eps time.Duration) time.Duration {
	return time.Duration((rng.Float64()*2 - 1) * 0.9 * float64(eps))
}

// run is one in-process run.
type run struct {
	o      Options
	c      *server.Cluster
	net    *replication.MemNetwork
	clocks []*truetime.SimClock
	rng    *rand.Rand
	mu     sync.Mutex // guards the cluster's node list against the nemesis
	down   map[int]bool
}

func (r *run) stop() {
	r.net.Heal()
	r.c.Stop()
}

// gateway returns a running node's transaction DB, preferring node i.
func (r *run) gateway(i int) txn.DB {
	r.mu.Lock()
	defer r.mu.Unlock()
	for j := 0; j < r.o.Nodes; j++ {
		n := r.c.Nodes[(i+j)%r.o.Nodes]
		if n != nil {
			return n.TxnDB()
		}
	}
	return nil
}

func (r *run) workload(ctx context.Context) (Stats, error) {
	hw := history.NewWriter(r.o.History, func() int64 { return int64(truetime.Mono()) })
	// As many active keys as clients (and half as many bank accounts):
	// contended enough for anomalies to show, not so much that most
	// transactions wound each other.
	gen := workload.NewGenerator(r.o.Kind, rand.New(rand.NewPCG(r.o.Seed, 7)),
		workload.GenOptions{ActiveKeys: max(8, r.o.Concurrency), Accounts: max(5, r.o.Concurrency/2)})
	var (
		genMu sync.Mutex
		stats Stats
		wg    sync.WaitGroup
	)
	next := func() workload.Txn {
		genMu.Lock()
		defer genMu.Unlock()
		return gen.Next()
	}
	count := func(t history.Type, err error) {
		genMu.Lock()
		defer genMu.Unlock()
		if err != nil && !errors.Is(err, errInsufficientFunds) {
			if stats.Reasons == nil {
				stats.Reasons = map[string]int{}
			}
			stats.Reasons[failureReason(err)]++
		}
		switch t {
		case history.OK:
			stats.OK++
		case history.Fail:
			stats.Fail++
		case history.Info:
			stats.Info++
		}
	}
	if r.o.Kind == workload.Bank {
		// The accounts are set up alone, before anything else.
		t := next()
		hw.Invoke(0, t.Mops)
		out, typ, ts, err := r.exec(ctx, r.gateway(0), t)
		hw.Complete(typ, 0, out, int64(ts), typ == history.OK)
		count(typ, err)
		if typ != history.OK {
			return stats, errors.New("the bank's setup transaction did not commit")
		}
	}
	wctx, cancel := context.WithTimeout(ctx, r.o.Duration)
	defer cancel()
	nemesisDone := make(chan struct{})
	go func() {
		defer close(nemesisDone)
		r.nemesis(wctx)
	}()
	for p := 0; p < r.o.Concurrency; p++ {
		wg.Add(1)
		go func(p int) {
			defer wg.Done()
			process := int64(p)
			for wctx.Err() == nil {
				t := next()
				db := r.gateway(p)
				hw.Invoke(process, t.Mops)
				out, typ, ts, err := r.exec(wctx, db, t)
				if typ != history.OK {
					out = nil
				}
				hw.Complete(typ, process, out, int64(ts), typ == history.OK)
				count(typ, err)
				if typ == history.Info {
					process += int64(r.o.Concurrency)
				}
			}
		}(p)
	}
	wg.Wait()
	<-nemesisDone
	return stats, hw.Flush()
}

func (r *run) key(m history.Mop) []byte {
	return []byte(keyPrefix + r.o.Kind.String() + "/" + strconv.FormatInt(m.Key.Int, 10))
}

// exec runs t as one transaction and classifies the outcome: fail if it
// cannot have committed, info if its commit's outcome is unknown.
func (r *run) exec(ctx context.Context, db txn.DB, t workload.Txn) ([]history.Mop, history.Type, truetime.Timestamp, error) {
	if db == nil {
		return nil, history.Fail, 0, errors.New("no live gateway")
	}
	readOnly := true
	for _, m := range t.Mops {
		if m.F != history.Read {
			readOnly = false
		}
	}
	opts := txn.Options{}
	if readOnly {
		opts.Mode = txn.ReadOnly
	}
	tctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	tx, err := db.Begin(tctx, opts)
	if err != nil {
		return nil, history.Fail, 0, err
	}
	out, err := r.ops(tctx, tx, t)
	if err != nil {
		_ = tx.Rollback(tctx)
		return nil, history.Fail, 0, err
	}
	ts, err := tx.Commit(tctx)
	if err != nil {
		if txn.IsRetryable(err) {
			return nil, history.Fail, 0, err
		}
		return nil, history.Info, 0, err
	}
	return out, history.OK, ts, nil
}

var errInsufficientFunds = errors.New("insufficient funds")

var (
	digits     = regexp.MustCompile(`[0-9]+`)
	abortedTxn = regexp.MustCompile(`^(.*txn \S+ aborted: |(replication|ranges|txn): |txn \S+: )*`)
)

// failureReason names the kind of error a transaction failed with, for
// the run's summary: a retryable error's reason, or the error's text up
// to its details, with numbers elided.
func failureReason(err error) string {
	s := err.Error()
	var re *txn.RetryableError
	if errors.As(err, &re) {
		s = re.Reason
	}
	s = abortedTxn.ReplaceAllString(s, "")
	for _, sep := range []string{" (", ": "} {
		if i := strings.Index(s, sep); i > 0 {
			s = s[:i]
		}
	}
	return digits.ReplaceAllString(s, "N")
}

func (r *run) ops(ctx context.Context, tx txn.Txn, t workload.Txn) ([]history.Mop, error) {
	out := append([]history.Mop(nil), t.Mops...)
	if r.o.Kind == workload.Bank {
		return r.bank(ctx, tx, t, out)
	}
	for i, m := range out {
		k := r.key(m)
		switch m.F {
		case history.Read:
			v, ok, err := tx.Get(ctx, k, txn.ReadOptions{})
			if err != nil {
				return nil, err
			}
			if !ok {
				out[i].Nil = true
				continue
			}
			out[i].Nil = false
			if r.o.Kind == workload.ListAppend {
				if out[i].List, err = parseList(string(v)); err != nil {
					return nil, err
				}
			} else if out[i].Value, err = strconv.ParseInt(string(v), 10, 64); err != nil {
				return nil, err
			}
		case history.Append:
			v, ok, err := tx.Get(ctx, k, txn.ReadOptions{ForUpdate: true})
			if err != nil {
				return nil, err
			}
			s := strconv.FormatInt(m.Value, 10)
			if ok && len(v) > 0 {
				s = string(v) + "," + s
			}
			if err := tx.Put(ctx, k, []byte(s)); err != nil {
				return nil, err
			}
		case history.Write:
			if err := tx.Put(ctx, k, []byte(strconv.FormatInt(m.Value, 10))); err != nil {
				return nil, err
			}
		}
	}
	return out, nil
}

// bank runs the setup (blind writes), a transfer, or a read of every
// account.
func (r *run) bank(ctx context.Context, tx txn.Txn, t workload.Txn, out []history.Mop) ([]history.Mop, error) {
	switch {
	case t.Amount > 0:
		for i := range 2 {
			v, ok, err := tx.Get(ctx, r.key(out[i]), txn.ReadOptions{ForUpdate: true})
			if err != nil {
				return nil, err
			}
			if !ok {
				return nil, fmt.Errorf("account %d missing", out[i].Key.Int)
			}
			out[i].Nil = false
			if out[i].Value, err = strconv.ParseInt(string(v), 10, 64); err != nil {
				return nil, err
			}
		}
		if out[0].Value < t.Amount {
			return nil, errInsufficientFunds
		}
		out[2].Nil, out[2].Value = false, out[0].Value-t.Amount
		out[3].Nil, out[3].Value = false, out[1].Value+t.Amount
		for _, m := range out[2:] {
			if err := tx.Put(ctx, r.key(m), []byte(strconv.FormatInt(m.Value, 10))); err != nil {
				return nil, err
			}
		}
	case out[0].F == history.Write:
		for _, m := range out {
			if err := tx.Put(ctx, r.key(m), []byte(strconv.FormatInt(m.Value, 10))); err != nil {
				return nil, err
			}
		}
	default:
		prefix := []byte(keyPrefix + r.o.Kind.String() + "/")
		res, err := tx.Scan(ctx, txn.Span{Key: prefix, EndKey: append(append([]byte(nil), prefix[:len(prefix)-1]...), '0')}, txn.ScanOptions{})
		if err != nil {
			return nil, err
		}
		bal := map[int64]int64{}
		for _, kv := range res.Rows {
			id, err := strconv.ParseInt(string(kv.Key[len(prefix):]), 10, 64)
			if err != nil {
				return nil, err
			}
			if bal[id], err = strconv.ParseInt(string(kv.Value), 10, 64); err != nil {
				return nil, err
			}
		}
		for i, m := range out {
			if b, ok := bal[m.Key.Int]; ok {
				out[i].Nil, out[i].Value = false, b
			}
		}
	}
	return out, nil
}

func parseList(s string) ([]int64, error) {
	if s == "" {
		return []int64{}, nil
	}
	parts := strings.Split(s, ",")
	out := make([]int64, 0, len(parts))
	for _, p := range parts {
		v, err := strconv.ParseInt(p, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("list %q: %w", s, err)
		}
		out = append(out, v)
	}
	return out, nil
}
