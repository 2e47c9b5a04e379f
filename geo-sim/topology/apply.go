package topology

import (
	"github.com/meridiandb/meridian/ranges/rangespb"
	"github.com/meridiandb/meridian/replication"
	"github.com/meridiandb/meridian/truetime"
)

// Network returns a MemNetwork with a link between every ordered pair of
// nodes: one-way delay RTT/2 and one-way jitter Jitter/2. seed fixes the
// jitter (and loss) sequence the network draws.
func (t *Topology) Network(seed uint64) *replication.MemNetwork {
	net := replication.NewMemNetwork(replication.MemNetworkOptions{Seed: seed})
	t.ApplyLinks(net)
	return net
}

// ApplyLinks (re)sets every node-to-node link of net from the topology.
func (t *Topology) ApplyLinks(net *replication.MemNetwork) {
	nodes := t.Nodes()
	for _, a := range nodes {
		for _, b := range nodes {
			if a.ID == b.ID {
				continue
			}
			l := t.RegionLink(a.Region, b.Region)
			net.SetLink(replication.NodeID(a.ID), replication.NodeID(b.ID), replication.Link{Delay: l.RTT / 2, Jitter: l.Jitter / 2})
		}
	}
}

// Locality returns node id's locality.
func (t *Topology) Locality(id int) *rangespb.Locality {
	n := t.Node(id)
	return &rangespb.Locality{Region: n.Region, Zone: n.Zone}
}

// NewClocks returns one simulated clock per node (index i is node i+1),
// set from the nodes' clock models.
func (t *Topology) NewClocks() []*truetime.SimClock {
	var out []*truetime.SimClock
	for _, n := range t.Nodes() {
		out = append(out, truetime.NewSimulated(truetime.SimOptions{
			Offset: n.Clock.Offset, DriftPPM: n.Clock.DriftPPM, ClaimedEpsilon: n.Clock.Epsilon,
		}))
	}
	return out
}
