package runner

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/meridiandb/meridian/geo-sim/faults"
	"github.com/meridiandb/meridian/geo-sim/results"
	"github.com/meridiandb/meridian/geo-sim/workload"
	"github.com/meridiandb/meridian/truetime"
)

// RunSpec describes one measured window. Zero fields take the defaults.
type RunSpec struct {
	// Name labels the run in reports. Default: the workload's name.
	Name string
	// Workload to run. Required. It is placed (with Config.Placement) and
	// set up on first use.
	Workload workload.Workload
	// ClientsPerRegion in every client region. Default 1.
	ClientsPerRegion int
	// Regions with clients. Default: every region.
	Regions []string
	// Duration of the measured window. Default 10s.
	Duration time.Duration
	// Warmup runs the clients before the window (caches fill, leases
	// settle) without measuring. Default 1s.
	Warmup time.Duration
	// Bucket is the throughput resolution. Default: Duration/20, at least
	// 500ms.
	Bucket time.Duration
	// Faults to apply; times are from the start of the window.
	Faults faults.Schedule
	// ErrorPause is how long a client waits after a failed operation
	// before its next. Default 20ms.
	ErrorPause time.Duration
}

func (r RunSpec) withDefaults(s *Sim) RunSpec {
	if r.Name == "" {
		r.Name = r.Workload.Name()
	}
	if r.ClientsPerRegion == 0 {
		r.ClientsPerRegion = 1
	}
	if len(r.Regions) == 0 {
		r.Regions = s.Topology().RegionNames()
	}
	if r.Duration == 0 {
		r.Duration = 10 * time.Second
	}
	if r.Warmup == 0 {
		r.Warmup = time.Second
	}
	if r.Bucket == 0 {
		r.Bucket = max(r.Duration/20, 500*time.Millisecond)
	}
	if r.ErrorPause == 0 {
		r.ErrorPause = 20 * time.Millisecond
	}
	return r
}

// recorder collects one run's measurements from every client.
type recorder struct {
	mu      sync.Mutex
	start   time.Duration // Mono at the start of the window
	spec    RunSpec
	ops     map[[2]string]*results.OpStats
	ok, bad atomic.Int64
}

func (r *recorder) stats(op, region string) *results.OpStats {
	k := [2]string{op, region}
	o := r.ops[k]
	if o == nil {
		o = &results.OpStats{Op: op, Region: region}
		r.ops[k] = o
	}
	return o
}

func bump(b *[]int, i int) {
	for len(*b) <= i {
		*b = append(*b, 0)
	}
	(*b)[i]++
}

// record adds one operation that started at t0 and ended at t1 (Mono).
func (r *recorder) record(region string, gateway int, res workload.Result, err error, t0, t1, client time.Duration) {
	end := r.start + r.spec.Duration
	if t0 < r.start || t0 >= end {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	o := r.stats(res.Op, region)
	bucket := int((t1 - r.start) / r.spec.Bucket)
	if err != nil {
		r.bad.Add(1)
		o.Errors++
		if len(o.ErrorExamples) < 3 && !slices.Contains(o.ErrorExamples, err.Error()) {
			o.ErrorExamples = append(o.ErrorExamples, err.Error())
		}
		if t1 < end {
			bump(&o.ErrBuckets, bucket)
		}
		return
	}
	r.ok.Add(1)
	o.Samples = append(o.Samples, results.Sample{Start: t0 - r.start, Latency: t1 - t0, Gateway: gateway})
	if o.GatewayOps == nil {
		o.GatewayOps = map[int]int{}
	}
	o.GatewayOps[gateway]++
	o.ClientNetwork += client
	if res.Ledger != nil {
		o.AddLedger(*res.Ledger)
	}
	if t1 < end {
		bump(&o.Buckets, bucket)
	}
}

type client struct {
	region string
	gw     *gateway
	c      workload.Client
}

// Run runs one measured window and returns what it measured.
func (s *Sim) Run(ctx context.Context, spec RunSpec) (*results.Run, error) {
	if spec.Workload == nil {
		return nil, errors.New("runner: no workload")
	}
	spec = spec.withDefaults(s)
	w := spec.Workload
	top := s.Topology()
	for _, r := range spec.Regions {
		if _, ok := top.Region(r); !ok {
			return nil, fmt.Errorf("runner: no region %q in %s", r, top.Name)
		}
	}
	if err := s.Prepare(ctx, w); err != nil {
		return nil, err
	}
	s.mu.Lock()
	p := s.mu.placed[w]
	s.mu.Unlock()
	clients, err := s.newClients(ctx, spec)
	defer func() {
		for _, c := range clients {
			_ = c.c.Close()
			c.gw.close()
		}
	}()
	if err != nil {
		return nil, err
	}
	run := &results.Run{
		Name: spec.Name, Topology: top.Summary(), Workload: w.Name(), Placement: p.String(), Seed: s.cfg.Seed,
		ClientsPerRegion: spec.ClientsPerRegion, Regions: spec.Regions,
		Duration: spec.Duration, Warmup: spec.Warmup, Bucket: spec.Bucket,
	}
	for _, c := range s.clocks {
		run.Epsilon = max(run.Epsilon, c.Status().Epsilon)
	}
	if note := s.timerNote(); note != "" {
		run.Notes = append(run.Notes, note)
	}
	rec := &recorder{spec: spec, ops: map[[2]string]*results.OpStats{}}
	rec.start = truetime.Mono() + spec.Warmup
	end := rec.start + spec.Duration
	before := s.storeMetrics()

	// The clients, the fault schedule and the progress bar.
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	for _, c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s.drive(runCtx, c, rec, end, spec.ErrorPause)
		}()
	}
	var appliedMu sync.Mutex
	var lastFault string
	faultsDone := make(chan []faults.Applied, 1)
	go func() {
		faultsDone <- faults.Execute(runCtx, spec.Faults, rec.start, s, func(a faults.Applied) {
			appliedMu.Lock()
			lastFault = a.String()
			appliedMu.Unlock()
		})
	}()
	// Where the ranges are decides the bounds: read as the window opens
	// (after the warm-up has woken them: idle ranges let their leases
	// lapse) and every second after, since leases can move.
	var snaps []snapshot
	var snapErr error
	snapsDone := make(chan struct{})
	go func() {
		defer close(snapsDone)
		t := time.NewTimer(rec.start - truetime.Mono())
		defer t.Stop()
		for {
			select {
			case <-t.C:
			case <-runCtx.Done():
				return
			}
			at := truetime.Mono()
			if at >= end {
				return
			}
			infos, err := s.rangeInfos(runCtx)
			if err == nil {
				snaps = append(snaps, snapshot{at: at - rec.start, infos: infos})
			} else if snapErr == nil {
				snapErr = err
			}
			t.Reset(time.Second)
		}
	}()
	progressDone := make(chan struct{})
	stopProgress := make(chan struct{})
	go func() {
		defer close(progressDone)
		s.progress(stopProgress, spec, rec, func() string {
			appliedMu.Lock()
			defer appliedMu.Unlock()
			return lastFault
		})
	}()
	wg.Wait()
	close(stopProgress)
	<-progressDone
	cancel()
	<-snapsDone
	run.Faults = <-faultsDone
	endInfos, endErr := s.rangeInfos(ctx)
	if err := s.restore(ctx); err != nil {
		run.Notes = append(run.Notes, "restoring the cluster after the run: "+err.Error())
	}
	run.Nodes = s.nodeStats(before, s.storeMetrics())
	if endErr == nil {
		snaps = append(snaps, snapshot{at: spec.Duration, infos: endInfos})
	} else if snapErr == nil {
		snapErr = endErr
	}
	s.finish(run, spec, rec, snaps, snapErr)
	if v, ok := w.(workload.Verifier); ok {
		gw := newGateway(s, spec.Regions[0], top.NodesIn(spec.Regions[0])[0], DeriveSeed(s.cfg.Seed, "verify"))
		err := v.Verify(ctx, gw)
		gw.close()
		if err != nil {
			run.Notes = append(run.Notes, fmt.Sprintf("%s verification FAILED: %v", w.Name(), err))
		} else {
			run.Notes = append(run.Notes, w.Name()+" verification passed")
		}
	}
	return run, nil
}

// Prepare places w (with Config.Placement, unless Place did already) and
// sets it up (once), as Run does before its window. A scenario calls it
// first to act between the setup and the window: change placement by SQL,
// Settle.
func (s *Sim) Prepare(ctx context.Context, w workload.Workload) error {
	s.mu.Lock()
	_, placed := s.mu.placed[w]
	s.mu.Unlock()
	if !placed {
		if err := s.Place(ctx, w, s.cfg.Placement); err != nil {
			return err
		}
	}
	return s.setUp(ctx, w)
}

// Gateway returns a gateway of region as a client there has one (its
// calls and SQL connections pay the region's delays), for a scenario's own
// statements (placement DDL, checks). Close releases its connections.
func (s *Sim) Gateway(region string) (gw workload.Gateway, closeFn func(), err error) {
	nodes := s.Topology().NodesIn(region)
	if len(nodes) == 0 {
		return nil, nil, fmt.Errorf("runner: no region %q in %s", region, s.Topology().Name)
	}
	g := newGateway(s, region, nodes[0], DeriveSeed(s.cfg.Seed, "gateway", region))
	return g, g.close, nil
}

// drive runs one client until end.
func (s *Sim) drive(ctx context.Context, c client, rec *recorder, end, pause time.Duration) {
	opCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	// Operations still going 10s after the window are abandoned.
	stop := time.AfterFunc(end-truetime.Mono()+10*time.Second, cancel)
	defer stop.Stop()
	// debt is client delay charged but not slept (short trips); it is
	// slept off between operations once it adds up, so that a client's
	// pace matches the delays it is charged.
	var debt time.Duration
	sleep := func(d time.Duration) {
		t := time.NewTimer(d)
		select {
		case <-t.C:
		case <-ctx.Done():
		}
		t.Stop()
	}
	for truetime.Mono() < end && ctx.Err() == nil {
		c.gw.takeWaited()
		t0 := truetime.Mono()
		res, err := c.c.Step(opCtx)
		waited, virtual := c.gw.takeWaited()
		t1 := truetime.Mono() + virtual
		rec.record(c.region, c.gw.Node(), res, err, t0, t1, waited)
		if debt += virtual; debt >= s.cfg.MinSleep {
			before := truetime.Mono()
			sleep(debt)
			debt -= truetime.Mono() - before
		}
		if err != nil && pause > 0 {
			sleep(pause)
		}
	}
}

func (s *Sim) setUp(ctx context.Context, w workload.Workload) error {
	s.mu.Lock()
	done := slices.Contains(s.mu.setUp, w)
	s.mu.Unlock()
	if done {
		return nil
	}
	top := s.Topology()
	region := top.RegionNames()[0]
	gw := newGateway(s, region, top.NodesIn(region)[0], DeriveSeed(s.cfg.Seed, "setup", w.Name()))
	defer gw.close()
	env := workload.SetupEnv{
		Regions: top.RegionNames(),
		Gateway: gw,
		Rand:    rand.New(rand.NewPCG(DeriveSeed(s.cfg.Seed, "setup-rand", w.Name()), 1)),
	}
	if err := w.Setup(ctx, env); err != nil {
		return err
	}
	s.mu.Lock()
	s.mu.setUp = append(s.mu.setUp, w)
	s.mu.Unlock()
	return nil
}

func (s *Sim) newClients(ctx context.Context, spec RunSpec) ([]client, error) {
	top := s.Topology()
	var out []client
	for _, region := range spec.Regions {
		nodes := top.NodesIn(region)
		for i := range spec.ClientsPerRegion {
			gw := newGateway(s, region, nodes[i%len(nodes)], DeriveSeed(s.cfg.Seed, "delay", region, i))
			c, err := spec.Workload.NewClient(ctx, workload.ClientEnv{
				Region: region, Index: i, Gateway: gw,
				Rand: rand.New(rand.NewPCG(DeriveSeed(s.cfg.Seed, "client", spec.Name, region, i), 2)),
			})
			if err != nil {
				gw.close()
				return out, fmt.Errorf("client %d of %s: %w", i, region, err)
			}
			out = append(out, client{region: region, gw: gw, c: c})
		}
	}
	return out, nil
}
