package faults

import (
	"os"
	"slices"

	"gopkg.in/yaml.v3"

	"github.com/meridiandb/meridian/geo-sim/internal/conf"
	"github.com/meridiandb/meridian/geo-sim/topology"
)

// Load reads a schedule file; see Parse.
func Load(path string, t *topology.Topology) (Schedule, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Schedule{}, err
	}
	return Parse(path, data, t)
}

// Parse reads a schedule (YAML or JSON) written as
//
//	events:
//	  - {at: 5s, kind: kill, node: leaseholder}
//	  - {at: 9s, kind: restart, node: 1}
//	  - {at: 12s, kind: partition, groups: [[1], [2, 3]]}
//	  - {at: 14s, kind: heal}
//	  - {at: 15s, kind: clock-offset, node: 2, offset_ms: 3}
//	  - {at: 16s, kind: clock-drift, node: 2, drift_ppm: 200}
//	  - {at: 17s, kind: clock-epsilon, node: 2, epsilon_ms: 0.5}
//	  - {at: 18s, kind: mark, label: recovered?}
//
// Node numbers are checked against t. Errors name the line and field.
func Parse(file string, data []byte, t *topology.Topology) (Schedule, error) {
	doc, err := conf.Parse(file, data)
	if err != nil {
		return Schedule{}, err
	}
	var s Schedule
	n := t.NumNodes()
	node := func(v *yaml.Node, path string) (int, error) {
		if v.Kind == yaml.ScalarNode && v.Value == "leaseholder" {
			return Leaseholder, nil
		}
		return doc.Int(v, path, 1, n)
	}
	group := func(v *yaml.Node, path string) ([]int, error) {
		var g []int
		err := doc.Seq(v, path, func(_ int, el *yaml.Node, p string) error {
			id, err := doc.Int(el, p, 1, n)
			if err == nil && slices.Contains(g, id) {
				err = doc.Errorf(el, p, "n%d is listed twice", id)
			}
			g = append(g, id)
			return err
		})
		if err == nil && len(g) == 0 {
			err = doc.Errorf(v, path, "a side of a partition needs a node")
		}
		return g, err
	}
	err = doc.Map(doc.Root, "", map[string]conf.Field{
		"seed": func(v *yaml.Node, path string) error {
			seed, err := doc.Int(v, path, 0, 1<<62)
			s.Seed = uint64(seed)
			return err
		},
		"events": func(v *yaml.Node, path string) error {
			return doc.Seq(v, path, func(_ int, ev *yaml.Node, path string) error {
				var e Event
				var kindNode *yaml.Node
				have := map[string]bool{}
				mark := func(f conf.Field, name string) conf.Field {
					return func(v *yaml.Node, p string) error { have[name] = true; return f(v, p) }
				}
				err := doc.Map(ev, path, map[string]conf.Field{
					"at": func(v *yaml.Node, p string) (err error) {
						if e.At, err = doc.Duration(v, p); err == nil && e.At < 0 {
							err = doc.Errorf(v, p, "must not be negative")
						}
						return
					},
					"kind": func(v *yaml.Node, p string) error {
						kindNode = v
						k, err := doc.String(v, p)
						e.Kind = Kind(k)
						if err == nil && !slices.Contains([]Kind{Kill, Restart, Isolate, Cut, Heal, Offset, Drift, Epsilon, Mark}, e.Kind) {
							err = doc.Errorf(v, p, "unknown kind %q (want kill, restart, isolate, partition, heal, clock-offset, clock-drift, clock-epsilon or mark)", k)
						}
						return err
					},
					"node": mark(func(v *yaml.Node, p string) (err error) { e.Node, err = node(v, p); return }, "node"),
					"groups": mark(func(v *yaml.Node, p string) error {
						if v.Kind != yaml.SequenceNode || len(v.Content) != 2 {
							return doc.Errorf(v, p, "want two lists of nodes, the sides of the partition")
						}
						var err error
						for i := range 2 {
							if e.Groups[i], err = group(v.Content[i], conf.Index(p, i)); err != nil {
								return err
							}
						}
						return nil
					}, "groups"),
					"offset_ms": mark(func(v *yaml.Node, p string) error {
						f, err := doc.Float(v, p)
						e.Offset = msDur(f)
						return err
					}, "offset_ms"),
					"drift_ppm": mark(func(v *yaml.Node, p string) (err error) { e.DriftPPM, err = doc.Float(v, p); return }, "drift_ppm"),
					"epsilon_ms": mark(func(v *yaml.Node, p string) error {
						f, err := doc.Float(v, p)
						if err == nil && f <= 0 {
							err = doc.Errorf(v, p, "a claimed ε must be > 0")
						}
						e.Epsilon = msDur(f)
						return err
					}, "epsilon_ms"),
					"label": mark(func(v *yaml.Node, p string) (err error) { e.Label, err = doc.String(v, p); return }, "label"),
				}, "at", "kind")
				if err != nil {
					return err
				}
				need := map[Kind]string{Kill: "node", Restart: "node", Isolate: "node", Cut: "groups",
					Offset: "offset_ms", Drift: "drift_ppm", Epsilon: "epsilon_ms", Mark: "label"}
				if f, ok := need[e.Kind]; ok && !have[f] {
					return doc.Errorf(kindNode, conf.Join(path, f), "a %s event needs %s", e.Kind, f)
				}
				if (e.Kind == Offset || e.Kind == Drift || e.Kind == Epsilon) && !have["node"] {
					return doc.Errorf(kindNode, conf.Join(path, "node"), "a %s event needs node", e.Kind)
				}
				s.Events = append(s.Events, e)
				return nil
			})
		},
	}, "events")
	s.Sort()
	return s, err
}
