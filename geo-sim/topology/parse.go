package topology

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/meridiandb/meridian/geo-sim/internal/conf"
)

// MaxNodes bounds a topology's size: every node runs in this process.
const MaxNodes = 32

// Load reads a topology file (YAML, or JSON if it ends in .json or starts
// with '{').
func Load(path string) (*Topology, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return Parse(path, data)
}

// Resolve returns the preset called nameOrPath, or else loads the file.
func Resolve(nameOrPath string) (*Topology, error) {
	if t, err := Preset(nameOrPath); err == nil {
		return t, nil
	}
	if _, err := os.Stat(nameOrPath); err != nil {
		return nil, fmt.Errorf("topology %q is neither a preset (%s) nor a readable file: %w",
			nameOrPath, strings.Join(PresetNames(), ", "), err)
	}
	return Load(nameOrPath)
}

// Parse parses a topology from data; file names it in errors (and decides
// the format: .json is JSON; otherwise text starting with '{' is JSON, and
// the rest YAML). Every error is a *conf.Error naming the line and field.
func Parse(file string, data []byte) (*Topology, error) {
	doc, err := conf.Parse(file, data)
	if err != nil {
		return nil, err
	}
	p := &parser{doc: doc, t: &Topology{
		Links:      map[Pair]Link{},
		NodeClocks: map[int]ClockModel{},
		Clock:      ClockModel{Epsilon: DefaultEpsilon},
	}}
	if err := p.top(doc.Root); err != nil {
		return nil, err
	}
	if p.t.Name == "" {
		p.t.Name = strings.TrimSuffix(filepath.Base(file), filepath.Ext(file))
	}
	return p.t, nil
}

type parser struct {
	doc *conf.Doc
	t   *Topology

	rttNode, jitterNode *yaml.Node
	jitterDefault       float64
	rtt, jitter         map[Pair]float64
	regionLine          map[string]*yaml.Node
	nodeClocks          []*yaml.Node
}

func (p *parser) top(root *yaml.Node) error {
	d := p.doc
	err := d.Map(root, "", map[string]conf.Field{
		"name":        func(v *yaml.Node, path string) (err error) { p.t.Name, err = d.String(v, path); return },
		"description": func(v *yaml.Node, path string) error { _, err := d.String(v, path); return err },
		"regions":     p.regions,
		"rtt_ms":      func(v *yaml.Node, path string) error { p.rttNode = v; return nil },
		"jitter_ms":   func(v *yaml.Node, path string) error { p.jitterNode = v; return nil },
		"clock": func(v *yaml.Node, path string) (err error) {
			p.t.Clock, err = p.clock(v, path, p.t.Clock, nil)
			return
		},
		"node_clocks": func(v *yaml.Node, path string) error {
			return d.Seq(v, path, func(_ int, n *yaml.Node, _ string) error { p.nodeClocks = append(p.nodeClocks, n); return nil })
		},
	}, "regions", "rtt_ms")
	if err != nil {
		return err
	}
	// Matrices and node clocks need the regions and nodes, wherever they
	// appear in the file.
	if p.rtt, err = p.matrix(p.rttNode, "rtt_ms"); err != nil {
		return err
	}
	if p.jitterNode != nil {
		if p.jitterNode.Kind == yaml.ScalarNode {
			if p.jitterDefault, err = d.NonNegative(p.jitterNode, "jitter_ms"); err != nil {
				return err
			}
		} else if p.jitter, err = p.matrix(p.jitterNode, "jitter_ms"); err != nil {
			return err
		}
	}
	for pair, rtt := range p.rtt {
		j, ok := p.jitter[pair]
		if !ok {
			j = p.jitterDefault
		}
		p.t.Links[pair] = Link{RTT: ms(rtt), Jitter: ms(j)}
	}
	if m := p.t.missingLinks(); len(m) > 0 {
		return d.Errorf(p.rttNode, "rtt_ms", "no round trip between %s and %s (give %s: {%s: MS})", m[0].A, m[0].B, m[0].A, m[0].B)
	}
	for i, n := range p.nodeClocks {
		if err := p.nodeClock(n, conf.Index("node_clocks", i)); err != nil {
			return err
		}
	}
	return nil
}

func (p *parser) regions(v *yaml.Node, path string) error {
	d := p.doc
	p.regionLine = map[string]*yaml.Node{}
	err := d.Seq(v, path, func(i int, rn *yaml.Node, path string) error {
		r := Region{ClientRTT: DefaultClientRTT}
		nodes := 0
		var zonesNode *yaml.Node
		err := d.Map(rn, path, map[string]conf.Field{
			"name": func(v *yaml.Node, fp string) (err error) {
				if r.Name, err = d.String(v, fp); err != nil {
					return err
				}
				if prev, dup := p.regionLine[r.Name]; dup {
					return d.Errorf(v, fp, "region %q is already defined on line %d", r.Name, prev.Line)
				}
				p.regionLine[r.Name] = v
				return nil
			},
			"nodes": func(v *yaml.Node, fp string) (err error) { nodes, err = d.Int(v, fp, 1, MaxNodes); return },
			"zones": func(v *yaml.Node, fp string) error {
				zonesNode = v
				seen := map[string]int{}
				return d.Seq(v, fp, func(_ int, zn *yaml.Node, zp string) error {
					z := Zone{}
					err := d.Map(zn, zp, map[string]conf.Field{
						"name": func(v *yaml.Node, fp string) (err error) {
							if z.Name, err = d.String(v, fp); err != nil {
								return err
							}
							if line, dup := seen[z.Name]; dup {
								return d.Errorf(v, fp, "zone %q is already defined on line %d", z.Name, line)
							}
							seen[z.Name] = v.Line
							return nil
						},
						"nodes": func(v *yaml.Node, fp string) (err error) { z.Nodes, err = d.Int(v, fp, 1, MaxNodes); return },
					}, "name", "nodes")
					r.Zones = append(r.Zones, z)
					return err
				})
			},
			"client_rtt_ms": func(v *yaml.Node, fp string) error {
				f, err := d.NonNegative(v, fp)
				r.ClientRTT = ms(f)
				return err
			},
			"client_jitter_ms": func(v *yaml.Node, fp string) error {
				f, err := d.NonNegative(v, fp)
				r.ClientJitter = ms(f)
				return err
			},
		}, "name")
		if err != nil {
			return err
		}
		switch {
		case nodes > 0 && zonesNode != nil:
			return d.Errorf(rn, path, "give either nodes or zones, not both")
		case nodes > 0:
			for z := range nodes {
				r.Zones = append(r.Zones, Zone{Name: fmt.Sprintf("%s-%c", r.Name, 'a'+z), Nodes: 1})
			}
		case zonesNode == nil:
			return d.Errorf(rn, path, "give nodes (a count) or zones (a list)")
		case len(r.Zones) == 0:
			return d.Errorf(zonesNode, conf.Join(path, "zones"), "a region needs at least one zone")
		}
		p.t.Regions = append(p.t.Regions, r)
		return nil
	})
	if err != nil {
		return err
	}
	if len(p.t.Regions) == 0 {
		return d.Errorf(v, path, "a topology needs at least one region")
	}
	if n := p.t.NumNodes(); n > MaxNodes {
		return d.Errorf(v, path, "%d nodes in all; at most %d run in one process", n, MaxNodes)
	}
	return nil
}

// matrix reads a symmetric region×region matrix of milliseconds.
func (p *parser) matrix(n *yaml.Node, path string) (map[Pair]float64, error) {
	d := p.doc
	out := map[Pair]float64{}
	where := map[Pair]int{}
	err := d.Pairs(n, path, func(a string, kn, row *yaml.Node, rp string) error {
		if _, ok := p.regionLine[a]; !ok {
			return d.Errorf(kn, rp, "unknown region %q (regions: %s)", a, strings.Join(p.t.RegionNames(), ", "))
		}
		return d.Pairs(row, rp, func(b string, kn, v *yaml.Node, fp string) error {
			if _, ok := p.regionLine[b]; !ok {
				return d.Errorf(kn, fp, "unknown region %q (regions: %s)", b, strings.Join(p.t.RegionNames(), ", "))
			}
			f, err := d.NonNegative(v, fp)
			if err != nil {
				return err
			}
			pair := PairOf(a, b)
			if prev, dup := out[pair]; dup && prev != f {
				return d.Errorf(v, fp, "%v disagrees with %v given for %s↔%s on line %d", f, prev, b, a, where[pair])
			}
			out[pair], where[pair] = f, v.Line
			return nil
		})
	})
	return out, err
}

// clock reads a clock model over base; if node is non-nil it receives the
// node number (node_clocks entries).
func (p *parser) clock(n *yaml.Node, path string, base ClockModel, node func(*yaml.Node, string) error) (ClockModel, error) {
	d := p.doc
	c := base
	fields := map[string]conf.Field{
		"offset_ms": func(v *yaml.Node, fp string) error {
			f, err := d.Float(v, fp)
			c.Offset = ms(f)
			return err
		},
		"drift_ppm": func(v *yaml.Node, fp string) (err error) {
			if c.DriftPPM, err = d.Float(v, fp); err == nil && (c.DriftPPM > 1e5 || c.DriftPPM < -1e5) {
				err = d.Errorf(v, fp, "drift of %v ppm is beyond any real clock (want |drift| ≤ 100000)", c.DriftPPM)
			}
			return
		},
		"epsilon_ms": func(v *yaml.Node, fp string) error {
			f, err := d.Float(v, fp)
			if err == nil && f <= 0 {
				err = d.Errorf(v, fp, "a claimed ε must be > 0, got %v", f)
			}
			c.Epsilon = ms(f)
			return err
		},
	}
	var required []string
	if node != nil {
		fields["node"] = node
		required = []string{"node"}
	}
	return c, d.Map(n, path, fields, required...)
}

func (p *parser) nodeClock(n *yaml.Node, path string) error {
	d := p.doc
	id := 0
	var idNode *yaml.Node
	c, err := p.clock(n, path, p.t.Clock, func(v *yaml.Node, fp string) (err error) {
		idNode = v
		id, err = d.Int(v, fp, 1, p.t.NumNodes())
		return
	})
	if err != nil {
		return err
	}
	if _, dup := p.t.NodeClocks[id]; dup {
		return d.Errorf(idNode, conf.Join(path, "node"), "node %d already has a clock", id)
	}
	p.t.NodeClocks[id] = c
	return nil
}
