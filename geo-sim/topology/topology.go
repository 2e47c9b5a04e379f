package topology

import (
	"fmt"
	"sort"
	"time"
)

// Topology is a validated planet; see the package documentation.
type Topology struct {
	Name    string
	Regions []Region
	// Links holds the round trip of each unordered pair of regions
	// (including a region with itself), keyed by Pair.
	Links map[Pair]Link
	// Clock is every node's clock model unless NodeClocks overrides it.
	Clock ClockModel
	// NodeClocks overrides Clock for some nodes (by node number).
	NodeClocks map[int]ClockModel
}

// Region is a region: its zones and its clients' access delay.
type Region struct {
	Name  string
	Zones []Zone
	// ClientRTT is the round trip between a client in this region and its
	// gateway node; ClientJitter adds uniform [0, ClientJitter) to it.
	ClientRTT, ClientJitter time.Duration
}

// Zone is a zone of a region with its number of nodes.
type Zone struct {
	Name  string
	Nodes int
}

// Link is a round trip between two regions: at least RTT, plus a uniform
// extra in [0, Jitter).
type Link struct {
	RTT, Jitter time.Duration
}

// ClockModel is a node's simulated clock: its offset from true time, its
// drift in parts per million and the uncertainty ε it claims (Now() is its
// reading ± ε). A claimed ε below |offset| makes the clock lie.
type ClockModel struct {
	Offset   time.Duration
	DriftPPM float64
	Epsilon  time.Duration
}

// DefaultEpsilon is the claimed ε of a clock model that names none.
const DefaultEpsilon = time.Millisecond

// DefaultClientRTT is the client↔gateway round trip of a region that names
// none.
const DefaultClientRTT = time.Millisecond

// Pair is an unordered pair of region names, with A ≤ B.
type Pair struct{ A, B string }

// PairOf returns the pair of a and b.
func PairOf(a, b string) Pair {
	if b < a {
		a, b = b, a
	}
	return Pair{a, b}
}

// Node is one node of a topology.
type Node struct {
	ID     int // from 1
	Region string
	Zone   string
	Clock  ClockModel
}

// Nodes returns every node in number order.
func (t *Topology) Nodes() []Node {
	var out []Node
	for _, r := range t.Regions {
		for _, z := range r.Zones {
			for range z.Nodes {
				id := len(out) + 1
				out = append(out, Node{ID: id, Region: r.Name, Zone: z.Name, Clock: t.ClockOf(id)})
			}
		}
	}
	return out
}

// NumNodes returns the number of nodes.
func (t *Topology) NumNodes() int {
	n := 0
	for _, r := range t.Regions {
		for _, z := range r.Zones {
			n += z.Nodes
		}
	}
	return n
}

// Node returns node id (from 1); it panics if there is no such node, a
// caller's bug.
func (t *Topology) Node(id int) Node {
	ns := t.Nodes()
	if id < 1 || id > len(ns) {
		panic(fmt.Sprintf("topology %s has no node %d (it has %d)", t.Name, id, len(ns)))
	}
	return ns[id-1]
}

// RegionNames returns the regions' names in file order.
func (t *Topology) RegionNames() []string {
	out := make([]string, len(t.Regions))
	for i, r := range t.Regions {
		out[i] = r.Name
	}
	return out
}

// Region returns the named region.
func (t *Topology) Region(name string) (Region, bool) {
	for _, r := range t.Regions {
		if r.Name == name {
			return r, true
		}
	}
	return Region{}, false
}

// NodesIn returns the numbers of the nodes in region, in order.
func (t *Topology) NodesIn(region string) []int {
	var out []int
	for _, n := range t.Nodes() {
		if n.Region == region {
			out = append(out, n.ID)
		}
	}
	return out
}

// ClockOf returns node id's clock model.
func (t *Topology) ClockOf(id int) ClockModel {
	if c, ok := t.NodeClocks[id]; ok {
		return c
	}
	return t.Clock
}

// RegionLink returns the round trip between regions a and b.
func (t *Topology) RegionLink(a, b string) Link { return t.Links[PairOf(a, b)] }

// NodeLink returns the round trip between nodes a and b: zero for a node
// with itself, the in-region round trip for two nodes of one region.
func (t *Topology) NodeLink(a, b int) Link {
	if a == b {
		return Link{}
	}
	return t.RegionLink(t.Node(a).Region, t.Node(b).Region)
}

// NodeRTT returns the minimum round trip between nodes a and b.
func (t *Topology) NodeRTT(a, b int) time.Duration { return t.NodeLink(a, b).RTT }

// Clone returns a deep copy.
func (t *Topology) Clone() *Topology {
	c := *t
	c.Regions = make([]Region, len(t.Regions))
	for i, r := range t.Regions {
		r.Zones = append([]Zone(nil), r.Zones...)
		c.Regions[i] = r
	}
	c.Links = make(map[Pair]Link, len(t.Links))
	for k, v := range t.Links {
		c.Links[k] = v
	}
	c.NodeClocks = make(map[int]ClockModel, len(t.NodeClocks))
	for k, v := range t.NodeClocks {
		c.NodeClocks[k] = v
	}
	return &c
}

// WithEpsilon returns a copy in which every node claims ε = eps.
func (t *Topology) WithEpsilon(eps time.Duration) *Topology {
	c := t.Clone()
	c.Clock.Epsilon = eps
	for id, m := range c.NodeClocks {
		m.Epsilon = eps
		c.NodeClocks[id] = m
	}
	return c
}

// Validate checks the invariants listed in the package documentation. Files
// are checked as they are parsed, with line numbers; Validate is for
// topologies built in code.
func (t *Topology) Validate() error {
	if len(t.Regions) == 0 {
		return fmt.Errorf("topology %s: no regions", t.Name)
	}
	seen := map[string]bool{}
	for _, r := range t.Regions {
		if r.Name == "" || seen[r.Name] {
			return fmt.Errorf("topology %s: region name %q is empty or repeated", t.Name, r.Name)
		}
		seen[r.Name] = true
		zones, nodes := map[string]bool{}, 0
		for _, z := range r.Zones {
			if z.Name == "" || zones[z.Name] || z.Nodes < 1 {
				return fmt.Errorf("topology %s: region %s: zone %q is unnamed, repeated or has no nodes", t.Name, r.Name, z.Name)
			}
			zones[z.Name] = true
			nodes += z.Nodes
		}
		if nodes == 0 {
			return fmt.Errorf("topology %s: region %s has no nodes", t.Name, r.Name)
		}
		if r.ClientRTT < 0 || r.ClientJitter < 0 {
			return fmt.Errorf("topology %s: region %s: negative client delay", t.Name, r.Name)
		}
	}
	if err := t.checkLinks(); err != nil {
		return err
	}
	for id, c := range t.NodeClocks {
		if id < 1 || id > t.NumNodes() {
			return fmt.Errorf("topology %s: clock for node %d, which does not exist", t.Name, id)
		}
		if c.Epsilon <= 0 {
			return fmt.Errorf("topology %s: node %d claims ε %s; want > 0", t.Name, id, c.Epsilon)
		}
	}
	if t.Clock.Epsilon <= 0 {
		return fmt.Errorf("topology %s: clock claims ε %s; want > 0", t.Name, t.Clock.Epsilon)
	}
	return nil
}

// missingLinks returns the pairs that need a round trip and have none.
func (t *Topology) missingLinks() []Pair {
	var out []Pair
	for i, a := range t.Regions {
		for _, b := range t.Regions[i:] {
			p := PairOf(a.Name, b.Name)
			if a.Name == b.Name && len(t.NodesIn(a.Name)) < 2 {
				continue
			}
			if _, ok := t.Links[p]; !ok {
				out = append(out, p)
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].A+"\x00"+out[i].B < out[j].A+"\x00"+out[j].B })
	return out
}

func (t *Topology) checkLinks() error {
	if m := t.missingLinks(); len(m) > 0 {
		return fmt.Errorf("topology %s: no round trip between %s and %s", t.Name, m[0].A, m[0].B)
	}
	for p, l := range t.Links {
		if l.RTT < 0 || l.Jitter < 0 {
			return fmt.Errorf("topology %s: negative round trip or jitter between %s and %s", t.Name, p.A, p.B)
		}
	}
	return nil
}

// Summary returns a one-line description, e.g. "global3: us-east(1) eu-west(1) ap-northeast(1)".
func (t *Topology) Summary() string {
	s := t.Name + ":"
	for _, r := range t.Regions {
		s += fmt.Sprintf(" %s(%d)", r.Name, len(t.NodesIn(r.Name)))
	}
	return s
}

// ms converts milliseconds to a duration.
func ms(f float64) time.Duration { return time.Duration(f * float64(time.Millisecond)) }
