package runner

import (
	"context"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/meridiandb/meridian/geo-sim/faults"
	"github.com/meridiandb/meridian/geo-sim/results"
	"github.com/meridiandb/meridian/geo-sim/topology"
	"github.com/meridiandb/meridian/geo-sim/workload"
	"github.com/meridiandb/meridian/server"
)

func preset(t *testing.T, name string) *topology.Topology {
	t.Helper()
	top, err := topology.Preset(name)
	if err != nil {
		t.Fatal(err)
	}
	return top
}

func TestParsePlacement(t *testing.T) {
	g5 := preset(t, "global5")
	for _, c := range []struct {
		in      string
		want    Placement
		regions []string // policy regions of a span homed in eu-west
		leader  string
	}{
		{"default", Placement{}, nil, ""}, // 3 replicas, no leader: the allocator's choice
		{"leader=us-east", Placement{Leader: "us-east"}, []string{"us-east", "us-central", "us-west"}, "us-east"},
		{"leader=eu-west,replicas=5", Placement{Leader: "eu-west", Replicas: 5}, g5.RegionNames(), "eu-west"},
		{"near", Placement{Near: true}, []string{"eu-west", "us-east", "us-central"}, "eu-west"},
		{"replicas=2,regions=us-west|ap-northeast", Placement{Replicas: 2, Regions: []string{"us-west", "ap-northeast"}}, []string{"us-west", "ap-northeast"}, ""},
	} {
		p, err := ParsePlacement(c.in, g5)
		if err != nil {
			t.Fatalf("%s: %v", c.in, err)
		}
		if !reflect.DeepEqual(p, c.want) {
			t.Errorf("%s: got %+v", c.in, p)
		}
		if c.in != "default" {
			if back, _ := ParsePlacement(p.String(), g5); !reflect.DeepEqual(back, p) {
				t.Errorf("%s: String() = %q does not parse back", c.in, p.String())
			}
		}
		_, leader, regions := p.policy(g5, "eu-west")
		if leader != c.leader || !reflect.DeepEqual(regions, c.regions) {
			t.Errorf("%s: policy leader %q regions %v, want %q %v", c.in, leader, regions, c.leader, c.regions)
		}
	}
	for _, bad := range []string{"leader=mars", "replicas=9", "replicas=x", "colour=red", "regions=us-east|pluto"} {
		if _, err := ParsePlacement(bad, g5); err == nil {
			t.Errorf("%s: no error", bad)
		}
	}
}

// TestSeedDeterminism: a run's random streams depend only on its seed.
func TestSeedDeterminism(t *testing.T) {
	if DeriveSeed(1, "client", "us-east", 0) != DeriveSeed(1, "client", "us-east", 0) ||
		DeriveSeed(1, "client", "us-east", 0) == DeriveSeed(1, "client", "us-east", 1) ||
		DeriveSeed(1, "network") == DeriveSeed(2, "network") {
		t.Fatal("DeriveSeed is not a function of its inputs, or collides")
	}
	top := preset(t, "global3")
	jitter := func(seed uint64) []time.Duration {
		s := &Sim{top: top}
		g := newGateway(s, "eu-west", 2, DeriveSeed(seed, "delay", "eu-west", 0))
		var out []time.Duration
		for range 50 {
			out = append(out, g.oneWay(2))
		}
		return out
	}
	a, b, c := jitter(7), jitter(7), jitter(8)
	if !reflect.DeepEqual(a, b) || reflect.DeepEqual(a, c) {
		t.Fatal("client delay jitter is not determined by the seed")
	}
	for _, d := range a {
		if d < 500*time.Microsecond || d >= 600*time.Microsecond { // half of 1ms + [0, 0.2ms)/2
			t.Fatalf("one-way client delay %s outside [0.5ms, 0.6ms)", d)
		}
	}
	// A client whose region has no live node pays the way to another.
	s := &Sim{top: top}
	s.mu.nodes = make([]*serverNode, 3)
	if d := newGateway(s, "eu-west", 2, 1).oneWay(1); d < 35*time.Millisecond {
		t.Errorf("eu-west client through a us-east gateway pays %s one way, want ≥ 35.5ms", d)
	}
}

func kvWorkload(t *testing.T, mix ...workload.Weighted) *workload.KVWorkload {
	w, err := workload.NewKV(workload.KVOptions{Mix: mix})
	if err != nil {
		t.Fatal(err)
	}
	return w
}

// TestRunLocal3WithFaults runs writes and reads on local3 while a node is
// killed and restarted, and checks what the run recorded.
func TestRunLocal3WithFaults(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a cluster")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	s, err := Start(ctx, Config{Topology: preset(t, "local3"), Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	w := kvWorkload(t, workload.Weighted{Op: workload.OpWrite, Weight: 1}, workload.Weighted{Op: workload.OpRead, Weight: 1})
	if err := s.Place(ctx, w, Placement{Replicas: 3}); err != nil {
		t.Fatal(err)
	}
	sched := faults.Schedule{Events: []faults.Event{
		{At: 500 * time.Millisecond, Kind: faults.Kill, Node: 3},
		{At: time.Second, Kind: faults.Restart, Node: 3},
		{At: 1200 * time.Millisecond, Kind: faults.Offset, Node: 2, Offset: 300 * time.Microsecond},
	}}
	run, err := s.Run(ctx, RunSpec{Workload: w, ClientsPerRegion: 3, Duration: 2 * time.Second, Warmup: 300 * time.Millisecond, Faults: sched})
	if err != nil {
		t.Fatal(err)
	}
	if len(run.Ops) != 2 || run.Ops[0].Op != "write" || run.Ops[1].Op != "read" {
		t.Fatalf("ops %+v", run.Ops)
	}
	for _, o := range run.Ops {
		if o.Count() < 20 || o.BoundErr != "" || o.Bound.Total <= 0 || len(o.Ranges) != 1 || len(o.Ranges[0].Voters) != 3 {
			t.Errorf("%s: %d ops, bound %v (%s), ranges %v", o.Op, o.Count(), o.Bound, o.BoundErr, o.Ranges)
		}
		if o.Percentile(50) < o.Bound.Total {
			t.Errorf("%s: median %s beats the physical bound %s", o.Op, o.Percentile(50), o.Bound)
		}
		if o.ClientNetwork < time.Duration(o.Count())*500*time.Microsecond {
			t.Errorf("%s: clients paid %s of delay over %d ops", o.Op, o.ClientNetwork, o.Count())
		}
	}
	if len(run.Faults) != 3 {
		t.Fatalf("faults applied: %v", run.Faults)
	}
	for _, f := range run.Faults {
		if f.Err != "" {
			t.Errorf("fault %s failed", f)
		}
	}
	// The run restored the cluster: every node runs, clocks are back.
	for i := 1; i <= 3; i++ {
		if s.Node(i) == nil {
			t.Errorf("n%d not restarted", i)
		}
	}
	if off := s.Clock(2).Status().Offset; off.Abs() > 10*time.Microsecond {
		t.Errorf("n2's clock offset %s not restored", off)
	}
	if len(run.Nodes) != 3 || !slices.ContainsFunc(run.Nodes, func(n resultsNode) bool { return n.Proposals > 0 }) {
		t.Errorf("node stats %+v", run.Nodes)
	}
	if !strings.Contains(run.Topology, "local(3)") || run.Placement != "replicas=3" {
		t.Errorf("run header %q %q", run.Topology, run.Placement)
	}
}

func TestRunRejects(t *testing.T) {
	ctx := context.Background()
	if _, err := Start(ctx, Config{}); err == nil {
		t.Error("no topology: no error")
	}
	s := &Sim{top: preset(t, "local3")}
	if _, err := s.Run(ctx, RunSpec{}); err == nil {
		t.Error("no workload: no error")
	}
	if _, err := s.Run(ctx, RunSpec{Workload: kvWorkload(t), Regions: []string{"mars"}}); err == nil {
		t.Error("unknown region: no error")
	}
}

type (
	serverNode  = server.Node
	resultsNode = results.NodeStats
)
