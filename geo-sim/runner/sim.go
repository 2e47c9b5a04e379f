package runner

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/meridiandb/meridian/geo-sim/topology"
	"github.com/meridiandb/meridian/geo-sim/workload"
	"github.com/meridiandb/meridian/ranges"
	"github.com/meridiandb/meridian/ranges/rangespb"
	"github.com/meridiandb/meridian/replication"
	"github.com/meridiandb/meridian/replication/replicationpb"
	"github.com/meridiandb/meridian/server"
	"github.com/meridiandb/meridian/truetime"
)

// Sim is a running cluster on a simulated planet.
type Sim struct {
	cfg Config
	// timerRes is how late a 100µs timer fires on this host (measured at
	// Start): simulated delays below it are stretched.
	timerRes time.Duration
	top      *topology.Topology
	net      *replication.MemNetwork
	clocks   []*truetime.SimClock
	cluster  *server.Cluster

	mu struct {
		sync.Mutex
		// nodes mirrors the cluster's running nodes (nil: stopped); the
		// clients read it, the fault goroutine writes it.
		nodes []*server.Node
		// set up lists the workloads whose Setup ran; placed maps each
		// placed workload to its placement.
		setUp  []workload.Workload
		placed map[workload.Workload]Placement
		// focus is the key whose leaseholder faults.Leaseholder names.
		focus []byte
	}
}

// Start starts a cluster on cfg.Topology and waits until it serves.
func Start(ctx context.Context, cfg Config) (*Sim, error) {
	cfg = cfg.withDefaults()
	if cfg.Topology == nil {
		return nil, errors.New("runner: no topology")
	}
	if err := cfg.Topology.Validate(); err != nil {
		return nil, err
	}
	s := &Sim{cfg: cfg, top: cfg.Topology.Clone(), timerRes: timerResolution()}
	s.net = s.top.Network(DeriveSeed(cfg.Seed, "network"))
	s.clocks = s.top.NewClocks()
	s.mu.placed = map[workload.Workload]Placement{}
	c, err := server.StartCluster(ctx, server.ClusterOptions{
		Nodes:    s.top.NumNodes(),
		Network:  s.net,
		Locality: s.top.Locality,
		Clock:    func(i int) truetime.Clock { return s.clocks[i-1] },
		Node:     cfg.Node,
		Logger:   cfg.Logger,
		// SQL listeners on 127.0.0.1 when workloads can reach SQL; clients'
		// connections to them are delayed like every other client trip.
		SQL: cfg.Layers.SQLDB != nil,
	})
	if err != nil {
		return nil, fmt.Errorf("starting a cluster on %s: %w", s.top.Name, err)
	}
	s.cluster = c
	s.mu.nodes = slices.Clone(c.Nodes)
	// Let the cluster finish replicating its first ranges before anything
	// splits them: splits racing with replica changes can leave ranges
	// that never settle.
	if err := s.waitReplicated(ctx, min(3, s.top.NumNodes())); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// waitReplicated waits until every range has n voters and no learner.
func (s *Sim) waitReplicated(ctx context.Context, n int) error {
	ctx, cancel := context.WithTimeout(ctx, s.cfg.SettleTimeout)
	defer cancel()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	why := ""
	for {
		infos, err := s.rangeInfos(ctx)
		why = ""
		if err != nil {
			why = err.Error()
		} else if len(infos) == 0 {
			why = "no ranges yet"
		}
		for _, r := range infos {
			if why != "" {
				break
			}
			voters := 0
			for _, rd := range r.Desc.Replicas {
				if rd.Type == replicationpb.ReplicaType_VOTER {
					voters++
				}
			}
			if voters != n || len(r.Desc.Replicas) != n {
				why = fmt.Sprintf("r%d has %d voters of %d replicas, want %d", r.Desc.RangeId, voters, len(r.Desc.Replicas), n)
			}
		}
		if why == "" {
			return nil
		}
		select {
		case <-tick.C:
		case <-ctx.Done():
			return fmt.Errorf("the cluster did not replicate its ranges %d times within %s: %s", n, s.cfg.SettleTimeout, why)
		}
	}
}

// timerResolution returns the median time a 100µs timer takes to fire.
func timerResolution() time.Duration {
	var d []time.Duration
	t := time.NewTimer(time.Hour)
	defer t.Stop()
	for range 7 {
		t0 := truetime.Mono()
		t.Reset(100 * time.Microsecond)
		<-t.C
		d = append(d, truetime.Mono()-t0)
	}
	slices.Sort(d)
	return d[len(d)/2]
}

// timerNote says, if so, that the topology's shortest links are below the
// host's timer resolution (they are simulated slower than written).
func (s *Sim) timerNote() string {
	shortest := time.Duration(-1)
	top := s.Topology()
	for a := 1; a <= top.NumNodes(); a++ {
		for b := a + 1; b <= top.NumNodes(); b++ {
			if d := top.NodeRTT(a, b) / 2; d > 0 && (shortest < 0 || d < shortest) {
				shortest = d
			}
		}
	}
	if shortest < 0 || shortest >= s.timerRes/2 {
		return ""
	}
	return fmt.Sprintf("host timers fire about %s after a 100µs request: simulated links with one-way delays under that "+
		"(the shortest here is %s) are slower than the topology says, and so are operations that cross them", s.timerRes.Round(10*time.Microsecond), shortest)
}

// Close stops the cluster.
func (s *Sim) Close() {
	s.mu.Lock()
	s.mu.nodes = make([]*server.Node, len(s.mu.nodes))
	s.mu.Unlock()
	s.cluster.Stop()
}

// Topology returns the topology the sim runs (with any ε changes).
func (s *Sim) Topology() *topology.Topology {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.top
}

// Clock returns node i's simulated clock.
func (s *Sim) Clock(i int) *truetime.SimClock {
	if i < 1 || i > len(s.clocks) {
		return nil
	}
	return s.clocks[i-1]
}

// SetEpsilon makes every node claim ε = eps, in its clock and in the
// topology the bounds are computed from.
func (s *Sim) SetEpsilon(eps time.Duration) {
	for _, c := range s.clocks {
		c.SetClaimedEpsilon(eps)
	}
	s.mu.Lock()
	s.top = s.top.WithEpsilon(eps)
	s.mu.Unlock()
}

// Node returns node i if it runs.
func (s *Sim) Node(i int) *server.Node {
	s.mu.Lock()
	defer s.mu.Unlock()
	if i < 1 || i > len(s.mu.nodes) {
		return nil
	}
	return s.mu.nodes[i-1]
}

// anyNode returns a running node, preferring pref.
func (s *Sim) anyNode(pref int) (*server.Node, int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if pref >= 1 && pref <= len(s.mu.nodes) && s.mu.nodes[pref-1] != nil {
		return s.mu.nodes[pref-1], pref
	}
	for i, n := range s.mu.nodes {
		if n != nil {
			return n, i + 1
		}
	}
	return nil, 0
}

// Kill implements faults.Target.
func (s *Sim) Kill(i int) error {
	s.mu.Lock()
	if i < 1 || i > len(s.mu.nodes) || s.mu.nodes[i-1] == nil {
		s.mu.Unlock()
		return fmt.Errorf("n%d is not running", i)
	}
	s.mu.nodes[i-1] = nil
	s.mu.Unlock()
	s.cluster.StopNode(i)
	return nil
}

// Restart implements faults.Target.
func (s *Sim) Restart(ctx context.Context, i int) error {
	if s.Node(i) != nil {
		return fmt.Errorf("n%d is running", i)
	}
	if err := s.cluster.StartNode(ctx, i); err != nil {
		return err
	}
	n := s.cluster.Node(i)
	s.mu.Lock()
	s.mu.nodes[i-1] = n
	s.mu.Unlock()
	return nil
}

func ids(ns []int) []replication.NodeID {
	out := make([]replication.NodeID, len(ns))
	for i, n := range ns {
		out[i] = replication.NodeID(n)
	}
	return out
}

// Isolate implements faults.Target.
func (s *Sim) Isolate(i int) { s.net.Isolate(replication.NodeID(i)) }

// Partition implements faults.Target.
func (s *Sim) Partition(a, b []int) { s.net.Partition(ids(a), ids(b)) }

// Heal implements faults.Target.
func (s *Sim) Heal() { s.net.Heal() }

// Leaseholder implements faults.Target: the leaseholder of the range
// holding the focus key (the first span of the last placed workload).
func (s *Sim) Leaseholder(ctx context.Context) (int, error) {
	s.mu.Lock()
	key := s.mu.focus
	s.mu.Unlock()
	if key == nil {
		return 0, errors.New("no workload is placed")
	}
	infos, err := s.rangeInfos(ctx)
	if err != nil {
		return 0, err
	}
	for _, r := range infos {
		if containsKey(r.Desc, key) && r.LeaseholderNode != 0 {
			return int(r.LeaseholderNode), nil
		}
	}
	return 0, fmt.Errorf("no leaseholder known for %q", key)
}

// LeaseholderOf returns the node holding the lease of the range that
// holds key, and its region (reading key first, so that an idle range
// takes its lease back).
func (s *Sim) LeaseholderOf(ctx context.Context, key []byte) (node int, region string, err error) {
	s.touch(ctx, [][]byte{key})
	infos, err := s.rangeInfos(ctx)
	if err != nil {
		return 0, "", err
	}
	lh, _, err := placementOf(infos, key)
	if err != nil {
		return 0, "", err
	}
	return lh, s.Topology().Node(lh).Region, nil
}

// restore undoes faults: heals the network, restarts stopped nodes and sets
// clocks back to their models (keeping the current claimed ε).
func (s *Sim) restore(ctx context.Context) error {
	s.net.Heal()
	var errs []error
	for i := 1; i <= len(s.clocks); i++ {
		if s.Node(i) == nil {
			if err := s.Restart(ctx, i); err != nil {
				errs = append(errs, fmt.Errorf("restarting n%d: %w", i, err))
			}
		}
		m := s.Topology().ClockOf(i)
		s.clocks[i-1].SetOffset(m.Offset)
		s.clocks[i-1].SetDrift(m.DriftPPM)
		s.clocks[i-1].SetClaimedEpsilon(m.Epsilon)
	}
	return errors.Join(errs...)
}

func containsKey(d *replicationpb.RangeDescriptor, key []byte) bool {
	return bytes.Compare(d.StartKey, key) <= 0 && (len(d.EndKey) == 0 || bytes.Compare(key, d.EndKey) < 0)
}

// rangeInfos returns every range's descriptor and leaseholder, asking a
// running node.
func (s *Sim) rangeInfos(ctx context.Context) ([]*rangespb.RangeInfo, error) {
	n, _ := s.anyNode(1)
	if n == nil {
		return nil, errors.New("no node is running")
	}
	return n.Ranges(ctx)
}

// Place applies p to w's spans and waits until the allocator carried it
// out (replica count, voter regions, leases in the leader region).
func (s *Sim) Place(ctx context.Context, w workload.Workload, p Placement) error {
	top := s.Topology()
	spans := w.Spans(top.RegionNames())
	type want struct {
		span     workload.HomeSpan
		replicas int
		leader   string
		regions  []string
	}
	var wants []want
	for _, sp := range spans {
		replicas, leader, regions := p.policy(top, sp.Home)
		rule := &rangespb.PlacementRule{StartKey: sp.Key, EndKey: sp.EndKey, Policy: &rangespb.PlacementPolicy{
			NumReplicas: int32(replicas), LeaderRegion: leader, Regions: regions, Name: "geosim-" + w.Name(),
		}}
		if err := s.setPlacement(ctx, rule); err != nil {
			return fmt.Errorf("placing %q: %w", sp.Key, err)
		}
		wants = append(wants, want{sp, replicas, leader, regions})
	}
	s.mu.Lock()
	s.mu.placed[w] = p
	if len(spans) > 0 {
		s.mu.focus = spans[0].Key
	}
	s.mu.Unlock()
	var keys [][]byte
	for _, sp := range spans {
		keys = append(keys, sp.Key)
	}
	return s.waitSettled(ctx, fmt.Sprintf("placement %s of %s", p, w.Name()), keys, func(infos []*rangespb.RangeInfo) (string, string, error) {
		var shape strings.Builder // where the workload's ranges are now
		for _, wt := range wants {
			for _, r := range infos {
				if !overlaps(r.Desc, wt.span.Span) {
					continue
				}
				if why := s.unsettled(r, wt.replicas, wt.leader, wt.regions); why != "" {
					return "", why, nil
				}
				fmt.Fprintf(&shape, "r%d@n%d/%d ", r.Desc.RangeId, r.LeaseholderNode, len(r.Desc.Replicas))
			}
		}
		return shape.String(), "", nil
	})
}

// Settle waits until every range that a placement rule governs — the
// runner's (Place) or the SQL layer's (a table's or a partition's
// placement policy) — matches the rule's policy (voter count, a voter in
// each of its regions, the lease in its leader region), and has stayed so
// with the same leaseholders for Config.StableFor (or, while leases still
// move, five times as long). After Config.SettleTimeout it returns an
// error naming a range that does not match.
func (s *Sim) Settle(ctx context.Context) error {
	n, _ := s.anyNode(1)
	if n == nil {
		return errors.New("no node is running")
	}
	rules := ranges.NewPlacementCache(n.Router())
	var touch [][]byte // ranges seen without a leaseholder
	return s.waitSettled(ctx, "the cluster's placement rules", nil, func(infos []*rangespb.RangeInfo) (string, string, error) {
		for _, k := range touch {
			s.touch(ctx, [][]byte{k})
		}
		touch = touch[:0]
		if err := rules.Refresh(ctx); err != nil {
			return "", "", err
		}
		var shape strings.Builder
		why := ""
		for _, r := range infos {
			pol := rules.Policy(r.Desc)
			if pol.LeaderRegion == "" && len(pol.Regions) == 0 {
				continue // the default placement: nothing to wait for
			}
			if r.LeaseholderNode == 0 && bytes.Compare(r.Desc.StartKey, ranges.DataMin) >= 0 {
				touch = append(touch, r.Desc.StartKey)
			}
			if w := s.unsettled(r, int(pol.NumReplicas), pol.LeaderRegion, pol.Regions); w != "" {
				if why == "" {
					why = fmt.Sprintf("%s (policy %s)", w, pol.Name)
				}
				continue
			}
			fmt.Fprintf(&shape, "r%d@n%d/%d ", r.Desc.RangeId, r.LeaseholderNode, len(r.Desc.Replicas))
		}
		return shape.String(), why, nil
	})
}

// waitSettled polls check (given every range) until it reports no reason
// to wait and the same shape for StableFor (see Settle), touching keys on
// each round so that idle ranges take their leases.
func (s *Sim) waitSettled(ctx context.Context, what string, keys [][]byte, check func([]*rangespb.RangeInfo) (shape, why string, err error)) error {
	ctx, cancel := context.WithTimeout(ctx, s.cfg.SettleTimeout)
	defer cancel()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	var why, last string
	stableSince, settledSince := time.Duration(-1), time.Duration(-1)
	for {
		s.touch(ctx, keys)
		infos, err := s.rangeInfos(ctx)
		why = ""
		shape := ""
		if err == nil {
			shape, why, err = check(infos)
		}
		if err != nil {
			why = err.Error()
		}
		// Settled, and unchanged for StableFor: the allocator is done
		// (leases also move for balance, which would change the bounds).
		// Leases may never stop moving (the allocator can bounce a lease
		// between nodes): after 5×StableFor of being settled, go on; the
		// run notes moves and keeps the lower bound.
		now := truetime.Mono()
		if why != "" {
			settledSince = -1
		} else if settledSince < 0 {
			settledSince = now
		}
		if why != "" || shape != last {
			stableSince = -1
		} else if stableSince < 0 {
			stableSince = now
		}
		last = shape
		if why == "" && (now-stableSince >= s.cfg.StableFor && stableSince >= 0 || now-settledSince >= 5*s.cfg.StableFor) {
			return nil
		}
		if why == "" {
			why = "waiting for the placement to stay put"
		}
		select {
		case <-tick.C:
		case <-ctx.Done():
			return fmt.Errorf("%s not carried out within %s: %s", what, s.cfg.SettleTimeout, why)
		}
	}
}

// touch reads every key, so that idle ranges (whose leases lapse) take
// their leases again and show where they are.
func (s *Sim) touch(ctx context.Context, keys [][]byte) {
	n, _ := s.anyNode(1)
	if n == nil || len(keys) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	var wg sync.WaitGroup
	for _, k := range keys {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, _, _ = n.Router().Get(ctx, k)
		}()
	}
	wg.Wait()
}

// setPlacement stores rule, retrying for a while: the split it makes can
// fail while the range is changing its replicas (the allocator is busy
// right after the cluster starts).
func (s *Sim) setPlacement(ctx context.Context, rule *rangespb.PlacementRule) error {
	deadline := truetime.Mono() + 30*time.Second
	backoff := 50 * time.Millisecond
	for {
		n, _ := s.anyNode(1)
		if n == nil {
			return errors.New("no node is running")
		}
		err := ranges.SetPlacement(ctx, n.Router(), rule)
		if err == nil || ctx.Err() != nil || truetime.Mono() > deadline {
			return err
		}
		s.cfg.Logger.Debug("placement rule not set; retrying", "err", err)
		t := time.NewTimer(backoff)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		}
		backoff = min(2*backoff, time.Second)
	}
}

func overlaps(d *replicationpb.RangeDescriptor, sp workload.Span) bool {
	return bytes.Compare(d.StartKey, sp.EndKey) < 0 && (len(d.EndKey) == 0 || bytes.Compare(sp.Key, d.EndKey) < 0)
}

// unsettled says why range r does not yet match the policy ("" if it does).
func (s *Sim) unsettled(r *rangespb.RangeInfo, replicas int, leader string, regions []string) string {
	top := s.Topology()
	var voters []int
	for _, rd := range r.Desc.Replicas {
		if rd.Type != replicationpb.ReplicaType_VOTER {
			return fmt.Sprintf("r%d has a learner on n%d", r.Desc.RangeId, rd.NodeId)
		}
		voters = append(voters, int(rd.NodeId))
	}
	desc := fmt.Sprintf("r%d [%q, %q) voters %v leaseholder n%d", r.Desc.RangeId, r.Desc.StartKey, r.Desc.EndKey, voters, r.LeaseholderNode)
	if len(voters) != replicas {
		return fmt.Sprintf("%s: want %d voters", desc, replicas)
	}
	if r.LeaseholderNode == 0 {
		return desc + ": no leaseholder"
	}
	if leader != "" && top.Node(int(r.LeaseholderNode)).Region != leader {
		return fmt.Sprintf("%s: want the lease in %s", desc, leader)
	}
	for _, reg := range regions {
		if !slices.ContainsFunc(voters, func(v int) bool { return top.Node(v).Region == reg }) {
			return fmt.Sprintf("%s: want a voter in %s", desc, reg)
		}
	}
	return ""
}

// placement returns where the range holding key is, from infos.
func placementOf(infos []*rangespb.RangeInfo, key []byte) (lh int, voters []int, err error) {
	for _, r := range infos {
		if !containsKey(r.Desc, key) {
			continue
		}
		for _, rd := range r.Desc.Replicas {
			if rd.Type == replicationpb.ReplicaType_VOTER {
				voters = append(voters, int(rd.NodeId))
			}
		}
		if r.LeaseholderNode == 0 {
			return 0, voters, fmt.Errorf("r%d has no known leaseholder", r.Desc.RangeId)
		}
		return int(r.LeaseholderNode), voters, nil
	}
	return 0, nil, fmt.Errorf("no range holds %q", key)
}

func joinErrs(errs []string) string { return strings.Join(errs, "; ") }
