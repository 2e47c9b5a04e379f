package bounds

import (
	"strings"
	"testing"
	"time"

	"github.com/meridiandb/meridian/geo-sim/topology"
)

const ms = time.Millisecond

func preset(t *testing.T, name string) *topology.Topology {
	t.Helper()
	top, err := topology.Preset(name)
	if err != nil {
		t.Fatal(err)
	}
	return top
}

func TestQuorumRTT(t *testing.T) {
	g5 := preset(t, "global5") // 1 us-east, 2 us-central, 3 us-west, 4 eu-west, 5 ap-northeast
	g3 := preset(t, "global3") // 1 us-east, 2 eu-west, 3 ap-northeast
	for _, c := range []struct {
		top    *topology.Topology
		leader int
		voters []int
		want   time.Duration
	}{
		{g3, 1, []int{1}, 0},
		{g3, 1, []int{1, 2}, 70 * ms},          // two voters: both needed
		{g3, 1, []int{1, 2, 3}, 70 * ms},       // nearest of two others
		{g3, 3, []int{1, 2, 3}, 146 * ms},      // ap-northeast's nearest is us-east
		{g5, 1, []int{1, 2, 3, 4, 5}, 64 * ms}, // two nearest of 12, 64, 70, 146
		{g5, 5, []int{1, 2, 3, 4, 5}, 135 * ms},
	} {
		if got := QuorumRTT(c.top, c.leader, c.voters); got != c.want {
			t.Errorf("%s: leader n%d voters %v: quorum %s, want %s", c.top.Name, c.leader, c.voters, got, c.want)
		}
	}
}

func TestCompute(t *testing.T) {
	g3 := preset(t, "global3")
	l3 := preset(t, "local3")
	all3 := Range{Leaseholder: 1, Voters: []int{1, 2, 3}}
	eps := func(d time.Duration) func(int) time.Duration { return func(int) time.Duration { return d } }
	for _, c := range []struct {
		name     string
		in       Input
		want     time.Duration
		critical string
	}{
		{"write from the leader's region", Input{Topology: g3, ClientRegion: "us-east", Gateway: 1, Kind: Write, Ranges: []Range{all3}},
			71 * ms, "quorum"},
		{"write from eu-west", Input{Topology: g3, ClientRegion: "eu-west", Gateway: 2, Kind: Write, Ranges: []Range{all3}},
			141 * ms, "quorum"},
		{"write where 2ε passes the quorum", Input{Topology: g3, ClientRegion: "us-east", Gateway: 1, Kind: Write, Ranges: []Range{all3}, Epsilon: eps(50 * ms)},
			101 * ms, "commit wait"},
		{"write at 2ε just under the quorum", Input{Topology: g3, ClientRegion: "us-east", Gateway: 1, Kind: Write, Ranges: []Range{all3}, Epsilon: eps(34 * ms)},
			71 * ms, "quorum"},
		{"one replica: only commit wait", Input{Topology: l3, ClientRegion: "local", Gateway: 2, Kind: Write, Ranges: []Range{{Leaseholder: 1, Voters: []int{1}}}},
			500*time.Microsecond + 1*ms + 2*ms, "commit wait"},
		{"leaseholder read from ap-northeast", Input{Topology: g3, ClientRegion: "ap-northeast", Gateway: 3, Kind: LeaseholderRead, Ranges: []Range{all3}},
			147 * ms, ""},
		{"nearest read from ap-northeast", Input{Topology: g3, ClientRegion: "ap-northeast", Gateway: 3, Kind: NearestRead, Ranges: []Range{all3}},
			1 * ms, ""},
		{"read-only without a local replica", Input{Topology: g3, ClientRegion: "ap-northeast", Gateway: 3, Kind: ReadOnly, Ranges: []Range{{Leaseholder: 1, Voters: []int{1, 2}}}},
			147 * ms, ""},
		{"read-modify-write from eu-west: two reads at the leaseholder, then the commit", Input{Topology: g3, ClientRegion: "eu-west", Gateway: 2,
			Kind: Write, Ranges: []Range{all3}, Reads: []int{0, 0}},
			// client 1 + gateway 70 + reads 2×(1+70) + quorum 70
			283 * ms, "quorum"},
		{"read-only across three ranges, one after the other", Input{Topology: g3, ClientRegion: "us-east", Gateway: 1, Kind: ReadOnly,
			Ranges: []Range{all3, {Leaseholder: 2, Voters: []int{1, 2}}, {Leaseholder: 3, Voters: []int{3}}}},
			// client 1 + 0, then (1 + 0), then (1 + 146)
			149 * ms, ""},
		{"2pc with one participant is a write", Input{Topology: g3, ClientRegion: "us-east", Gateway: 1, Kind: Commit2PC, Ranges: []Range{all3}},
			71 * ms, "quorum"},
		{"2pc across the atlantic", Input{Topology: g3, ClientRegion: "us-east", Gateway: 1, Kind: Commit2PC,
			Ranges: []Range{all3, {Leaseholder: 2, Voters: []int{1, 2, 3}}}},
			// client 1 + prepare (70 to eu-west + its quorum 70) + coordinator quorum 70
			211 * ms, "prepare"},
		{"2pc whose commit wait dominates", Input{Topology: l3, ClientRegion: "local", Gateway: 1, Kind: Commit2PC, Epsilon: eps(10 * ms),
			Ranges: []Range{{Leaseholder: 1, Voters: []int{1, 2, 3}}, {Leaseholder: 2, Voters: []int{1, 2, 3}}}},
			// client 0.5 + max(1+1+1, 2ε=20, 0.5+10+10=20.5)
			500*time.Microsecond + 20500*time.Microsecond, "commit wait"},
	} {
		t.Run(c.name, func(t *testing.T) {
			b, err := Compute(c.in)
			if err != nil {
				t.Fatal(err)
			}
			if b.Total != c.want || b.Critical != c.critical {
				t.Fatalf("bound %v (critical %q), want %s (%q)", b, b.Critical, c.want, c.critical)
			}
			if !strings.HasPrefix(b.String(), b.Total.String()) {
				t.Errorf("String() = %q", b.String())
			}
		})
	}
}

func TestComputeErrors(t *testing.T) {
	g3 := preset(t, "global3")
	for _, in := range []Input{
		{Topology: g3, ClientRegion: "mars", Gateway: 1, Kind: Write, Ranges: []Range{{1, []int{1}}}},
		{Topology: g3, ClientRegion: "us-east", Gateway: 9, Kind: Write, Ranges: []Range{{1, []int{1}}}},
		{Topology: g3, ClientRegion: "us-east", Gateway: 1, Kind: Write},
		{Topology: g3, ClientRegion: "us-east", Gateway: 1, Kind: Write, Ranges: []Range{{2, []int{1}}}},
		{Topology: g3, ClientRegion: "us-east", Gateway: 1, Kind: Write, Ranges: []Range{{1, []int{1}}, {2, []int{2}}}},
		{Topology: g3, ClientRegion: "us-east", Gateway: 1, Kind: Write, Ranges: []Range{{1, []int{1}}}, Reads: []int{1}},
		{Topology: g3, ClientRegion: "us-east", Gateway: 1, Kind: NearestRead, Ranges: []Range{{1, []int{1}}}, Reads: []int{0}},
	} {
		if _, err := Compute(in); err == nil {
			t.Errorf("%+v: no error", in)
		}
	}
}

// TestMoreReplicasNeverFaster: a write's bound never drops when voters are
// added farther away than the current majority.
func TestMoreReplicasNeverFaster(t *testing.T) {
	g5 := preset(t, "global5")
	prev := time.Duration(0)
	for n := 1; n <= 5; n += 2 {
		var voters []int
		for i := 1; i <= n; i++ {
			voters = append(voters, i)
		}
		b, err := Compute(Input{Topology: g5, ClientRegion: "us-east", Gateway: 1, Kind: Write, Ranges: []Range{{1, voters}}})
		if err != nil {
			t.Fatal(err)
		}
		if b.Total < prev {
			t.Errorf("%d voters: %s < %s", n, b.Total, prev)
		}
		prev = b.Total
	}
}
