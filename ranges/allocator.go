package ranges

import (
	"context"
	"fmt"
	"log/slog"
	"sort"
	"time"

	"github.com/meridiandb/meridian/ranges/rangespb"
	"github.com/meridiandb/meridian/replication"
	"github.com/meridiandb/meridian/replication/replicationpb"
	"github.com/meridiandb/meridian/truetime"
)

// NodeInfo is what the allocator knows of a node.
type NodeInfo struct {
	ID              replication.NodeID
	Locality        *rangespb.Locality
	Live            bool
	DeadFor         time.Duration
	Decommissioning bool
	Draining        bool
	Replicas        int
	Leases          int
}

// region returns the node's region ("" if unknown).
func (n NodeInfo) region() string {
	if n.Locality == nil {
		return ""
	}
	return n.Locality.Region
}

func (n NodeInfo) zone() string {
	if n.Locality == nil {
		return ""
	}
	return n.Locality.Zone
}

// usable: the node may receive replicas and leases.
func (n NodeInfo) usable() bool { return n.Live && !n.Decommissioning && !n.Draining }

// ClusterView gives the allocator the nodes and the placement policies.
type ClusterView interface {
	Nodes() []NodeInfo
	Policy(*replication.RangeDescriptor) *rangespb.PlacementPolicy
}

// AllocatorOptions configure an Allocator.
type AllocatorOptions struct {
	// DeadTimeout: replicas on a node not live for this long are replaced.
	// Default: 1 minute.
	DeadTimeout time.Duration
	// RebalanceThreshold: a node is over- (under-) full when its replica
	// or lease count exceeds (falls below) the mean by this fraction, and
	// by at least one. Default: 0.1.
	RebalanceThreshold float64
	// LeaseBalanceCooldown spaces the lease transfers made for balance, so
	// that the counts other nodes gossip catch up before the next one.
	// Default: 1s.
	LeaseBalanceCooldown time.Duration
}

// Allocator keeps the ranges this node leads placed well: the replica count
// and regions of their policy, replicas off dead and decommissioning nodes,
// replica and lease counts balanced, leases in the preferred region. It
// makes at most one change to a range per call.
type Allocator struct {
	store  *replication.Store
	view   ClusterView
	opts   AllocatorOptions
	logger *slog.Logger
	// lastBalance is when this node last moved a lease for balance
	// (truetime.Mono); only the queue's goroutine uses it.
	lastBalance time.Duration
}

// NewAllocator returns an allocator.
func NewAllocator(s *replication.Store, view ClusterView, o AllocatorOptions, logger *slog.Logger) *Allocator {
	if o.DeadTimeout == 0 {
		o.DeadTimeout = time.Minute
	}
	if o.RebalanceThreshold == 0 {
		o.RebalanceThreshold = 0.1
	}
	if o.LeaseBalanceCooldown == 0 {
		o.LeaseBalanceCooldown = time.Second
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Allocator{store: s, view: view, opts: o, logger: logger}
}

// Change describes what Process did.
type Change struct {
	Kind   string // "add", "promote", "remove", "transfer-lease", or ""
	Node   replication.NodeID
	Reason string
}

// Process examines one range this node leads and makes at most one change.
// rebalance allows moves made only for balance (repairs are always made).
func (a *Allocator) Process(ctx context.Context, r *replication.Replica, rebalance bool) (Change, error) {
	if !r.Status().IsLeader {
		return Change{}, nil
	}
	desc := r.Desc()
	if desc == nil {
		return Change{}, nil
	}
	nodes := map[replication.NodeID]NodeInfo{}
	var usable []NodeInfo
	for _, n := range a.view.Nodes() {
		if n.ID == a.store.NodeID() {
			// This node's own counts are known first hand, not from gossip.
			n.Replicas, n.Leases = a.localCounts()
		}
		nodes[n.ID] = n
		if n.usable() {
			usable = append(usable, n)
		}
	}
	pol := a.view.Policy(desc)
	me := a.store.NodeID()
	bad := func(id replication.NodeID) bool {
		n, ok := nodes[id]
		return !ok || n.Decommissioning || (!n.Live && n.DeadFor >= a.opts.DeadTimeout)
	}

	// 0. Learners: promote those caught up, drop those on bad nodes.
	for _, rd := range desc.Replicas {
		if rd.Type != replicationpb.ReplicaType_LEARNER {
			continue
		}
		n := replication.NodeID(rd.NodeId)
		if bad(n) {
			return a.change(ctx, r, desc, replication.RemoveReplica, n, "learner on a dead or decommissioning node")
		}
		caught, err := a.caughtUp(ctx, r, replication.ReplicaID(rd.ReplicaId))
		if err != nil || !caught {
			return Change{}, err
		}
		return a.change(ctx, r, desc, replication.PromoteLearner, n, "learner caught up")
	}

	var voters, good []replication.NodeID
	for _, rd := range desc.Replicas {
		n := replication.NodeID(rd.NodeId)
		voters = append(voters, n)
		if !bad(n) {
			good = append(good, n)
		}
	}
	want := int(pol.NumReplicas)
	has := func(list []replication.NodeID, n replication.NodeID) bool {
		for _, x := range list {
			if x == n {
				return true
			}
		}
		return false
	}
	candidates := func() []NodeInfo {
		var out []NodeInfo
		for _, n := range usable {
			if !has(voters, n.ID) {
				out = append(out, n)
			}
		}
		return out
	}

	// 1. Too few good voters (or a bad one to replace): add one.
	if len(good) < want {
		if c, ok := a.bestTarget(candidates(), voters, nodes, pol); ok {
			return a.change(ctx, r, desc, replication.AddLearner, c, fmt.Sprintf("%d of %d replicas in good standing", len(good), want))
		}
	}
	// 2. A required region without a voter: add one there.
	for _, region := range pol.Regions {
		covered := false
		for _, n := range good {
			covered = covered || nodes[n].region() == region
		}
		if covered {
			continue
		}
		var inRegion []NodeInfo
		for _, c := range candidates() {
			if c.region() == region {
				inRegion = append(inRegion, c)
			}
		}
		if c, ok := a.bestTarget(inRegion, voters, nodes, pol); ok {
			return a.change(ctx, r, desc, replication.AddLearner, c, "policy region "+region+" has no replica")
		}
	}
	// 3. Too many voters (after a replacement or a move): remove the worst,
	// never the voter added last unless it is bad: a move adds its target
	// first, and removing that again (counts from gossip lag behind) would
	// undo the move, again and again.
	if len(voters) > want || (len(voters) > len(good) && len(good) >= want) {
		removable := withoutNewest(desc, voters, bad)
		victim := a.worstVoter(removable, nodes, pol, bad)
		if len(good) == len(voters) {
			// Nothing bad: a move (step 5) is under way; finish it by
			// removing the overfull voter it moves from.
			meanReplicas, _ := a.means(usable)
			for _, v := range removable {
				if a.over(float64(nodes[v].Replicas), meanReplicas) && a.coversRegionsWithout(pol, voters, v, nodes) {
					victim = v
					break
				}
			}
		}
		if victim == me {
			return a.transferLease(ctx, r, desc, nodes, pol, "the leaseholder's replica must go")
		}
		return a.change(ctx, r, desc, replication.RemoveReplica, victim, "more replicas than the policy's "+fmt.Sprint(want))
	}
	// 4. Leases: to the preferred region, then for balance.
	if pol.LeaderRegion != "" && nodes[me].region() != pol.LeaderRegion {
		return a.transferLease(ctx, r, desc, nodes, pol, "leader region is "+pol.LeaderRegion)
	}
	if !rebalance {
		return Change{}, nil
	}
	meanReplicas, meanLeases := a.means(usable)
	// 5. Replica balance: move a replica from an overfull node to an
	// underfull one.
	for _, v := range voters {
		// Not the leaseholder's own replica: it can go only with the lease
		// (step 6 balances leases; the next leaseholder may move it).
		if v == me || !a.over(float64(nodes[v].Replicas), meanReplicas) {
			continue
		}
		var under []NodeInfo
		for _, c := range candidates() {
			if a.under(float64(c.Replicas), meanReplicas) && a.keepsRegions(pol, voters, v, c, nodes) && a.keepsDiversity(voters, v, c, nodes) {
				under = append(under, c)
			}
		}
		if c, ok := a.bestTarget(under, voters, nodes, pol); ok {
			return a.change(ctx, r, desc, replication.AddLearner, c, fmt.Sprintf("rebalancing from n%d (%d replicas, mean %.1f)", v, nodes[v].Replicas, meanReplicas))
		}
	}
	// 6. Lease balance, one transfer per cooldown.
	if a.over(float64(nodes[me].Leases), meanLeases) && truetime.Mono()-a.lastBalance > a.opts.LeaseBalanceCooldown {
		for _, v := range voters {
			n := nodes[v]
			if v != me && n.usable() && a.under(float64(n.Leases), meanLeases) && (pol.LeaderRegion == "" || n.region() == pol.LeaderRegion) {
				if _, err := r.EnsureLease(ctx); err != nil {
					return Change{}, err
				}
				if err := r.TransferLease(ctx, v); err != nil {
					return Change{}, err
				}
				a.lastBalance = truetime.Mono()
				return Change{Kind: "transfer-lease", Node: v, Reason: fmt.Sprintf("balancing leases (%d here, mean %.1f)", nodes[me].Leases, meanLeases)}, nil
			}
		}
	}
	return Change{}, nil
}

// localCounts counts this store's initialized replicas and the leases it
// holds.
func (a *Allocator) localCounts() (replicas, leases int) {
	for _, r := range a.store.Replicas() {
		if r.IsInitialized() {
			replicas++
			if r.HoldsLease() {
				leases++
			}
		}
	}
	return replicas, leases
}

func (a *Allocator) means(usable []NodeInfo) (replicas, leases float64) {
	if len(usable) == 0 {
		return 0, 0
	}
	for _, n := range usable {
		replicas += float64(n.Replicas)
		leases += float64(n.Leases)
	}
	return replicas / float64(len(usable)), leases / float64(len(usable))
}

func (a *Allocator) over(v, mean float64) bool {
	return v > mean*(1+a.opts.RebalanceThreshold) && v >= mean+1
}

func (a *Allocator) under(v, mean float64) bool {
	return v < mean*(1-a.opts.RebalanceThreshold) && v <= mean-1
}

// keepsRegions reports whether replacing from by to leaves every policy
// region with a voter.
func (a *Allocator) keepsRegions(pol *rangespb.PlacementPolicy, voters []replication.NodeID, from replication.NodeID, to NodeInfo, nodes map[replication.NodeID]NodeInfo) bool {
	for _, region := range pol.Regions {
		ok := to.region() == region
		for _, v := range voters {
			if v != from && nodes[v].region() == region {
				ok = true
			}
		}
		if !ok {
			return false
		}
	}
	return true
}

// keepsDiversity reports whether replacing from by to keeps the number of
// distinct regions among the voters.
func (a *Allocator) keepsDiversity(voters []replication.NodeID, from replication.NodeID, to NodeInfo, nodes map[replication.NodeID]NodeInfo) bool {
	if to.region() == nodes[from].region() {
		return true
	}
	for _, v := range voters {
		if v != from && nodes[v].region() == to.region() {
			return false
		}
	}
	return true
}

// bestTarget picks the candidate that adds the most diversity (a new
// region, then a new zone) and holds the fewest replicas.
func (a *Allocator) bestTarget(cands []NodeInfo, voters []replication.NodeID, nodes map[replication.NodeID]NodeInfo, pol *rangespb.PlacementPolicy) (replication.NodeID, bool) {
	if len(cands) == 0 {
		return 0, false
	}
	regions, zones := map[string]int{}, map[string]int{}
	for _, v := range voters {
		regions[nodes[v].region()]++
		zones[nodes[v].region()+"/"+nodes[v].zone()]++
	}
	score := func(c NodeInfo) (int, int, int, replication.NodeID) {
		return regions[c.region()], zones[c.region()+"/"+c.zone()], c.Replicas, c.ID
	}
	sort.Slice(cands, func(i, j int) bool {
		a1, b1, c1, d1 := score(cands[i])
		a2, b2, c2, d2 := score(cands[j])
		if a1 != a2 {
			return a1 < a2
		}
		if b1 != b2 {
			return b1 < b2
		}
		if c1 != c2 {
			return c1 < c2
		}
		return d1 < d2
	})
	return cands[0].ID, true
}

// worstVoter picks the voter to remove: one on a bad node first, then one
// whose region holds another voter (so diversity is kept), then the one on
// the fullest node.
func (a *Allocator) worstVoter(voters []replication.NodeID, nodes map[replication.NodeID]NodeInfo, pol *rangespb.PlacementPolicy, bad func(replication.NodeID) bool) replication.NodeID {
	regions := map[string]int{}
	for _, v := range voters {
		regions[nodes[v].region()]++
	}
	type scored struct {
		id                     replication.NodeID
		bad, crowded, replicas int
	}
	var s []scored
	for _, v := range voters {
		x := scored{id: v, replicas: nodes[v].Replicas}
		if bad(v) {
			x.bad = 1
		}
		// Removing a voter whose region has another keeps diversity (and a
		// required region covered).
		if reg := nodes[v].region(); regions[reg] > 1 {
			x.crowded = 1
		}
		s = append(s, x)
	}
	sort.Slice(s, func(i, j int) bool {
		if s[i].bad != s[j].bad {
			return s[i].bad > s[j].bad
		}
		if s[i].crowded != s[j].crowded {
			return s[i].crowded > s[j].crowded
		}
		if s[i].replicas != s[j].replicas {
			return s[i].replicas > s[j].replicas
		}
		return s[i].id > s[j].id
	})
	return s[0].id
}

// coversRegionsWithout reports whether every policy region keeps a voter
// once v is removed.
func (a *Allocator) coversRegionsWithout(pol *rangespb.PlacementPolicy, voters []replication.NodeID, v replication.NodeID, nodes map[replication.NodeID]NodeInfo) bool {
	for _, region := range pol.Regions {
		ok := false
		for _, x := range voters {
			ok = ok || (x != v && nodes[x].region() == region)
		}
		if !ok {
			return false
		}
	}
	return true
}

// withoutNewest returns voters without the one with the highest replica id
// (the last added), unless it is bad or the only one.
func withoutNewest(desc *replication.RangeDescriptor, voters []replication.NodeID, bad func(replication.NodeID) bool) []replication.NodeID {
	var newest *replication.ReplicaDescriptor
	for _, rd := range desc.Replicas {
		if newest == nil || rd.ReplicaId > newest.ReplicaId {
			newest = rd
		}
	}
	if newest == nil || len(voters) < 2 || bad(replication.NodeID(newest.NodeId)) {
		return voters
	}
	out := make([]replication.NodeID, 0, len(voters)-1)
	for _, v := range voters {
		if v != replication.NodeID(newest.NodeId) {
			out = append(out, v)
		}
	}
	return out
}

// transferLease moves the lease to the best other voter (in the leader
// region if the policy names one).
func (a *Allocator) transferLease(ctx context.Context, r *replication.Replica, desc *replication.RangeDescriptor, nodes map[replication.NodeID]NodeInfo, pol *rangespb.PlacementPolicy, reason string) (Change, error) {
	me := a.store.NodeID()
	var best replication.NodeID
	bestScore := 1 << 30
	for _, rd := range desc.Replicas {
		n := nodes[replication.NodeID(rd.NodeId)]
		if n.ID == me || rd.Type != replicationpb.ReplicaType_VOTER || !n.usable() {
			continue
		}
		score := n.Leases
		if pol.LeaderRegion != "" && n.region() != pol.LeaderRegion {
			score += 1 << 20
		}
		if score < bestScore {
			best, bestScore = n.ID, score
		}
	}
	if best == 0 {
		return Change{}, nil
	}
	if pol.LeaderRegion != "" && nodes[best].region() != pol.LeaderRegion && nodes[me].region() == pol.LeaderRegion {
		return Change{}, nil
	}
	if _, err := r.EnsureLease(ctx); err != nil {
		return Change{}, err
	}
	if err := r.TransferLease(ctx, best); err != nil {
		return Change{}, err
	}
	a.logger.Info("lease transfer", "range", r.RangeID(), "to", best, "reason", reason)
	return Change{Kind: "transfer-lease", Node: best, Reason: reason}, nil
}

func (a *Allocator) caughtUp(ctx context.Context, r *replication.Replica, id replication.ReplicaID) (bool, error) {
	match, commit, err := r.ReplicaProgress(ctx)
	if err != nil {
		return false, err
	}
	return match[id] >= commit, nil
}

func (a *Allocator) change(ctx context.Context, r *replication.Replica, desc *replication.RangeDescriptor, kind replication.ReplicaChangeType, n replication.NodeID, reason string) (Change, error) {
	cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	// Act under a valid lease: an idle range's lease may have lapsed.
	if _, err := r.EnsureLease(cctx); err != nil {
		return Change{}, err
	}
	if _, err := r.ChangeReplicas(cctx, desc, kind, n); err != nil {
		return Change{}, err
	}
	names := map[replication.ReplicaChangeType]string{replication.AddLearner: "add", replication.PromoteLearner: "promote", replication.RemoveReplica: "remove"}
	a.logger.Info("replica change", "range", r.RangeID(), "change", names[kind], "node", n, "reason", reason)
	return Change{Kind: names[kind], Node: n, Reason: reason}, nil
}
