package runner

import (
	"context"
	"database/sql"
	"fmt"
	"hash/fnv"
	"io"
	"log/slog"
	"net"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/meridiandb/meridian/geo-sim/topology"
	"github.com/meridiandb/meridian/server"
	"github.com/meridiandb/meridian/txn"
)

// Config configures a Sim. Zero fields take the documented defaults.
type Config struct {
	// Topology to run on. Required.
	Topology *topology.Topology
	// Seed from which every random choice is derived. Default 1.
	Seed uint64
	// Placement of the workloads' spans (Place may set another). Default:
	// 3 replicas (fewer if there are fewer nodes), no leader region.
	Placement Placement
	// Node is the template of every node's configuration. Defaults for a
	// simulation: QueueInterval 200ms (placement settles fast),
	// DeadTimeout 10s.
	Node server.Config
	// Layers reach the layers above the router; nil ones make workloads
	// that need them fail with workload.ErrNeedsTxnLayer / ErrNeedsSQL.
	Layers Layers
	// SettleTimeout bounds the wait for a placement to be carried out.
	// Default 90s.
	SettleTimeout time.Duration
	// StableFor: a placement counts as carried out once it has held, with
	// the same leaseholders, for this long (or has held, leases moving,
	// for five times as long). Default 1s.
	StableFor time.Duration
	// MinSleep: client↔gateway trips shorter than this are not slept but
	// added to the operation's latency, because host timers overshoot
	// short sleeps (by about 1ms on some hosts). Default 2ms.
	MinSleep time.Duration
	// Progress receives a progress bar while a run goes (nil: none).
	Progress io.Writer
	// Logger for the cluster. Default: discard.
	Logger *slog.Logger
}

// DialFunc dials a gateway; the connections it returns pay the client's
// delay.
type DialFunc func(ctx context.Context, network, addr string) (net.Conn, error)

// Layers give workloads the layers above the router. The transaction
// layer's owner wires them (see cmd/meridian/geosim.go).
type Layers struct {
	// TxnDB returns the transaction API of node n, with n as the gateway.
	// It is called for every transaction (the gateway node may change
	// while nodes die), so it should return a DB cached per node. geo-sim
	// wraps it to charge the client's delay on each round trip.
	TxnDB func(n *server.Node) (txn.DB, error)
	// SQLDB opens a connection pool to node n's SQL listener whose
	// connections are made with dial (which charges the client's delay).
	SQLDB func(ctx context.Context, n *server.Node, dial DialFunc) (*sql.DB, error)
}

func (c Config) withDefaults() Config {
	if c.Seed == 0 {
		c.Seed = 1
	}
	if c.Node.QueueInterval == 0 {
		c.Node.QueueInterval = 200 * time.Millisecond
	}
	if c.Node.DeadTimeout == 0 {
		c.Node.DeadTimeout = 10 * time.Second
	}
	if c.StableFor == 0 {
		c.StableFor = time.Second
	}
	if c.MinSleep == 0 {
		c.MinSleep = 2 * time.Millisecond
	}
	if c.SettleTimeout == 0 {
		c.SettleTimeout = 90 * time.Second
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c
}

// Placement says where the workloads' spans live.
type Placement struct {
	// Replicas is the number of voters. Default 3 (or every node, if
	// fewer).
	Replicas int
	// Leader is the region leases go to ("" lets the allocator choose).
	Leader string
	// Near puts each span's leases in its home region (the region whose
	// clients use it), overriding Leader.
	Near bool
	// Regions must each hold a voter. Default: every region if Replicas
	// covers them; otherwise the leader's region and those nearest to it.
	Regions []string
}

// String renders p in the form ParsePlacement reads.
func (p Placement) String() string {
	var parts []string
	switch {
	case p.Near:
		parts = append(parts, "near")
	case p.Leader != "":
		parts = append(parts, "leader="+p.Leader)
	}
	if p.Replicas != 0 {
		parts = append(parts, "replicas="+strconv.Itoa(p.Replicas))
	}
	if len(p.Regions) > 0 {
		parts = append(parts, "regions="+strings.Join(p.Regions, "|"))
	}
	if len(parts) == 0 {
		return "default"
	}
	return strings.Join(parts, ",")
}

// ParsePlacement reads "default", "near", or comma-separated settings
// leader=REGION, replicas=N, regions=A|B|C (e.g.
// "leader=us-east,replicas=5"), checking regions against t.
func ParsePlacement(s string, t *topology.Topology) (Placement, error) {
	var p Placement
	if s == "" || s == "default" {
		return p, nil
	}
	region := func(r string) error {
		if _, ok := t.Region(r); !ok {
			return fmt.Errorf("placement %q: no region %q in %s (regions: %s)", s, r, t.Name, strings.Join(t.RegionNames(), ", "))
		}
		return nil
	}
	for _, part := range strings.Split(s, ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(part), "=")
		switch k {
		case "near":
			p.Near = true
		case "leader":
			if err := region(v); err != nil {
				return p, err
			}
			p.Leader = v
		case "replicas":
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 || n > t.NumNodes() {
				return p, fmt.Errorf("placement %q: replicas=%q; want 1 to %d (the nodes of %s)", s, v, t.NumNodes(), t.Name)
			}
			p.Replicas = n
		case "regions":
			for _, r := range strings.Split(v, "|") {
				if err := region(r); err != nil {
					return p, err
				}
				p.Regions = append(p.Regions, r)
			}
		default:
			return p, fmt.Errorf("placement %q: unknown setting %q (want near, leader=R, replicas=N, regions=A|B)", s, part)
		}
	}
	return p, nil
}

// policy returns the replica count, leader region and voter regions of a
// span homed in home.
func (p Placement) policy(t *topology.Topology, home string) (replicas int, leader string, regions []string) {
	replicas = p.Replicas
	if replicas == 0 {
		replicas = min(3, t.NumNodes())
	}
	leader = p.Leader
	if p.Near && home != "" {
		leader = home
	}
	if len(p.Regions) > 0 {
		return replicas, leader, p.Regions
	}
	names := t.RegionNames()
	if replicas >= len(names) {
		return replicas, leader, names
	}
	if leader == "" {
		return replicas, leader, nil
	}
	// The leader's region and the nearest others, one voter each.
	others := slices.DeleteFunc(slices.Clone(names), func(r string) bool { return r == leader })
	slices.SortStableFunc(others, func(a, b string) int {
		return int(t.RegionLink(leader, a).RTT - t.RegionLink(leader, b).RTT)
	})
	return replicas, leader, append([]string{leader}, others[:replicas-1]...)
}

// DeriveSeed returns the seed of one random stream of a run: a hash of the
// run's seed and the stream's name parts.
func DeriveSeed(seed uint64, parts ...any) uint64 {
	h := fnv.New64a()
	fmt.Fprint(h, seed)
	for _, p := range parts {
		fmt.Fprintf(h, "/%v", p)
	}
	x := h.Sum64()
	// splitmix64 finaliser, so that near names give far seeds.
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return x
}
