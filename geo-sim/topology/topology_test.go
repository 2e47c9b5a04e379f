package topology

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/meridiandb/meridian/geo-sim/internal/conf"
)

func TestPresetsValid(t *testing.T) {
	want := map[string][]string{
		"local3":  {"local"},
		"us3":     {"us-east", "us-central", "us-west"},
		"global3": {"us-east", "eu-west", "ap-northeast"},
		"global5": {"us-east", "us-central", "us-west", "eu-west", "ap-northeast"},
	}
	if got := PresetNames(); len(got) != len(want) {
		t.Fatalf("presets %v, want %d", got, len(want))
	}
	for name, regions := range want {
		top, err := Preset(name)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if err := top.Validate(); err != nil {
			t.Errorf("%s: %v", name, err)
		}
		if got := strings.Join(top.RegionNames(), ","); got != strings.Join(regions, ",") {
			t.Errorf("%s regions %s, want %v", name, got, regions)
		}
		if top.NumNodes() != 3 && top.NumNodes() != 5 {
			t.Errorf("%s has %d nodes", name, top.NumNodes())
		}
	}
	g, _ := Preset("global5")
	// The AWS round trips.
	for _, c := range []struct {
		a, b string
		ms   int
	}{
		{"us-east", "us-west", 64}, {"us-east", "eu-west", 70}, {"us-east", "ap-northeast", 146},
		{"us-west", "eu-west", 119}, {"us-west", "ap-northeast", 97}, {"eu-west", "ap-northeast", 201},
	} {
		if got := g.RegionLink(c.b, c.a).RTT; got != time.Duration(c.ms)*time.Millisecond {
			t.Errorf("%s↔%s = %s, want %dms", c.a, c.b, got, c.ms)
		}
	}
	l3, _ := Preset("local3")
	if l3.NodeRTT(1, 2) != time.Millisecond || l3.NodeRTT(2, 2) != 0 {
		t.Errorf("local3 node round trips %s, %s", l3.NodeRTT(1, 2), l3.NodeRTT(2, 2))
	}
	if z := l3.Node(3).Zone; z != "local-c" {
		t.Errorf("local3 node 3 in zone %s", z)
	}
}

const goodYAML = `name: two
regions:
  - name: r1
    client_rtt_ms: 2
    zones:
      - {name: r1-a, nodes: 2}
  - {name: r2, nodes: 1}
rtt_ms:
  r1: {r1: 1.5, r2: 80}
jitter_ms:
  r2: {r1: 4}
clock: {epsilon_ms: 3, drift_ppm: 50}
node_clocks:
  - {node: 3, offset_ms: -7, epsilon_ms: 1}
`

const goodJSON = `{
  "name": "two",
  "regions": [
    {"name": "r1", "client_rtt_ms": 2, "zones": [{"name": "r1-a", "nodes": 2}]},
    {"name": "r2", "nodes": 1}
  ],
  "rtt_ms": {"r1": {"r1": 1.5, "r2": 80}},
  "jitter_ms": {"r2": {"r1": 4}},
  "clock": {"epsilon_ms": 3, "drift_ppm": 50},
  "node_clocks": [{"node": 3, "offset_ms": -7, "epsilon_ms": 1}]
}`

func TestParseYAMLAndJSONAgree(t *testing.T) {
	for _, c := range []struct{ file, text string }{{"t.yaml", goodYAML}, {"t.json", goodJSON}} {
		top, err := Parse(c.file, []byte(c.text))
		if err != nil {
			t.Fatalf("%s: %v", c.file, err)
		}
		if err := top.Validate(); err != nil {
			t.Fatalf("%s: %v", c.file, err)
		}
		if top.NumNodes() != 3 || top.Node(3).Region != "r2" || top.Node(2).Zone != "r1-a" {
			t.Errorf("%s: nodes %+v", c.file, top.Nodes())
		}
		if l := top.NodeLink(1, 3); l.RTT != 80*time.Millisecond || l.Jitter != 4*time.Millisecond {
			t.Errorf("%s: link 1-3 %+v", c.file, l)
		}
		if l := top.NodeLink(1, 2); l.RTT != 1500*time.Microsecond || l.Jitter != 0 {
			t.Errorf("%s: link 1-2 %+v", c.file, l)
		}
		if r, _ := top.Region("r1"); r.ClientRTT != 2*time.Millisecond {
			t.Errorf("%s: client rtt %s", c.file, r.ClientRTT)
		}
		if r, _ := top.Region("r2"); r.ClientRTT != DefaultClientRTT {
			t.Errorf("%s: default client rtt %s", c.file, r.ClientRTT)
		}
		if c1, c3 := top.ClockOf(1), top.ClockOf(3); c1.Epsilon != 3*time.Millisecond || c1.DriftPPM != 50 ||
			c3.Offset != -7*time.Millisecond || c3.Epsilon != time.Millisecond || c3.DriftPPM != 50 {
			t.Errorf("%s: clocks %+v %+v", c.file, c1, c3)
		}
	}
}

// TestParseErrors checks that bad files are rejected with the line and the
// field of the mistake.
func TestParseErrors(t *testing.T) {
	for _, c := range []struct {
		name, file, text string
		line             int
		field, msg       string
	}{
		{"unknown field", "a.yaml", "name: x\nregions:\n  - name: r\n    nodes: 1\n    colour: red\nrtt_ms: {r: {r: 1}}\n",
			5, "regions[0].colour", "unknown field"},
		{"nodes not a number", "a.yaml", "regions:\n  - name: r\n    nodes: three\nrtt_ms: {r: {r: 1}}\n",
			3, "regions[0].nodes", "want a whole number"},
		{"negative rtt", "a.yaml", "regions:\n  - {name: a, nodes: 1}\n  - {name: b, nodes: 1}\nrtt_ms:\n  a:\n    b: -5\n",
			6, "rtt_ms.a.b", "must not be negative"},
		{"missing pair", "a.yaml", "regions:\n  - {name: a, nodes: 1}\n  - {name: b, nodes: 1}\n  - {name: c, nodes: 1}\nrtt_ms:\n  a: {b: 5, c: 6}\n",
			6, "rtt_ms", "between b and c"},
		{"unknown region in matrix", "a.yaml", "regions:\n  - {name: a, nodes: 1}\nrtt_ms:\n  a: {a: 1}\n  mars: {a: 400}\n",
			5, "rtt_ms.mars", "unknown region"},
		{"repeated region", "a.yaml", "regions:\n  - {name: a, nodes: 1}\n  - {name: a, nodes: 2}\nrtt_ms: {a: {a: 1}}\n",
			3, "regions[1].name", "already defined on line 2"},
		{"missing regions", "a.yaml", "name: x\nrtt_ms: {}\n", 1, "regions", "missing"},
		{"zero epsilon", "a.yaml", "regions: [{name: a, nodes: 1}]\nrtt_ms: {a: {a: 1}}\nclock:\n  epsilon_ms: 0\n",
			4, "clock.epsilon_ms", "must be > 0"},
		{"clock of a missing node", "a.yaml", "regions: [{name: a, nodes: 2}]\nrtt_ms: {a: {a: 1}}\nnode_clocks:\n  - {node: 1}\n  - {node: 9, offset_ms: 3}\n",
			5, "node_clocks[1].node", "from 1 to 2"},
		{"nodes and zones", "a.yaml", "regions:\n  - name: a\n    nodes: 1\n    zones: [{name: z, nodes: 1}]\nrtt_ms: {a: {a: 1}}\n",
			2, "regions[0]", "either nodes or zones"},
		{"asymmetric matrix", "a.yaml", "regions: [{name: a, nodes: 1}, {name: b, nodes: 1}]\nrtt_ms:\n  a: {b: 5}\n  b: {a: 6}\n",
			4, "rtt_ms.b.a", "disagrees"},
		{"yaml syntax", "a.yaml", "name: x\nregions:\n\t- {name: a, nodes: 1}\n", 3, "", "YAML syntax"},
		{"yaml syntax 2", "a.yaml", "name: x\nbad: a: b\n", 2, "", "mapping values are not allowed"},
		{"json quoted number", "a.json", "{\n  \"regions\": [\n    {\"name\": \"a\", \"nodes\": \"1\"}\n  ],\n  \"rtt_ms\": {\"a\": {\"a\": 1}}\n}",
			3, "regions[0].nodes", "want a whole number"},
		{"json unknown field", "a.json", "{\"regions\": [{\"name\": \"a\", \"nodes\": 1}],\n \"rtt_ms\": {\"a\": {\"a\": 1}},\n\n \"jiter_ms\": 3}",
			4, "jiter_ms", "unknown field"},
		{"json syntax", "a.json", "{\n  \"regions\": [\n    {\"name\": \"a\",, \"nodes\": 1}\n  ]\n}", 3, "", "JSON syntax"},
		{"json truncated", "a.json", "{\n  \"regions\": [\n", 3, "", "unexpected end"},
		{"json repeated key", "a.json", "{\"regions\": [{\"name\": \"a\", \"nodes\": 1}],\n\"rtt_ms\": {\"a\": {\"a\": 1}},\n\"rtt_ms\": {}}",
			3, "rtt_ms", "repeated (first given on line 2)"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := Parse(c.file, []byte(c.text))
			var ce *conf.Error
			if !errors.As(err, &ce) {
				t.Fatalf("got %v, want a *conf.Error", err)
			}
			if ce.Line != c.line || ce.Field != c.field || !strings.Contains(ce.Msg, c.msg) || ce.File != c.file {
				t.Fatalf("got %q (line %d, field %q), want line %d, field %q, message containing %q",
					err, ce.Line, ce.Field, c.line, c.field, c.msg)
			}
			if !strings.HasPrefix(err.Error(), c.file+":") {
				t.Errorf("error %q does not start with the file name", err)
			}
		})
	}
}

func TestResolve(t *testing.T) {
	if _, err := Resolve("global3"); err != nil {
		t.Fatal(err)
	}
	if _, err := Resolve("no-such-topology"); err == nil || !strings.Contains(err.Error(), "global3") {
		t.Fatalf("got %v, want an error listing the presets", err)
	}
}

func TestApply(t *testing.T) {
	top, err := Parse("t.yaml", []byte(goodYAML))
	if err != nil {
		t.Fatal(err)
	}
	if l := top.Locality(3); l.Region != "r2" || l.Zone != "r2-a" {
		t.Errorf("locality %v", l)
	}
	clocks := top.NewClocks()
	if len(clocks) != 3 {
		t.Fatalf("%d clocks", len(clocks))
	}
	if s := clocks[2].Status(); s.Epsilon != time.Millisecond || s.Offset > -6*time.Millisecond {
		t.Errorf("node 3 clock %+v", s)
	}
	if w := top.WithEpsilon(9 * time.Millisecond); w.ClockOf(3).Epsilon != 9*time.Millisecond || top.ClockOf(3).Epsilon != time.Millisecond {
		t.Errorf("WithEpsilon changed the original or missed an override")
	}
}
