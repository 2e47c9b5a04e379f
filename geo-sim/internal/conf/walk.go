package conf

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// Field handles the value of one mapping key; path is the field's path.
type Field func(v *yaml.Node, path string) error

// Join appends key to path.
func Join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// Index appends [i] to path.
func Index(path string, i int) string { return fmt.Sprintf("%s[%d]", path, i) }

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.AliasNode:
		return "an alias"
	}
	if n.Tag == "!!null" {
		return "null"
	}
	return fmt.Sprintf("%q", n.Value)
}

// Map walks the mapping n in file order, calling the handler of each key.
// A key without a handler, a repeated key or a missing required key is an
// error naming it.
func (d *Doc) Map(n *yaml.Node, path string, fields map[string]Field, required ...string) error {
	if n.Kind != yaml.MappingNode {
		return d.Errorf(n, path, "want a mapping, got %s", kindName(n))
	}
	seen := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		key := k.Value
		if line, dup := seen[key]; dup {
			return d.Errorf(k, Join(path, key), "repeated (first given on line %d)", line)
		}
		seen[key] = k.Line
		h, ok := fields[key]
		if !ok {
			names := make([]string, 0, len(fields))
			for f := range fields {
				names = append(names, f)
			}
			sort.Strings(names)
			return d.Errorf(k, Join(path, key), "unknown field (want one of %s)", strings.Join(names, ", "))
		}
		if err := h(v, Join(path, key)); err != nil {
			return err
		}
	}
	for _, r := range required {
		if _, ok := seen[r]; !ok {
			return d.Errorf(n, Join(path, r), "missing (required)")
		}
	}
	return nil
}

// Pairs walks a mapping whose keys are free-form names (like a matrix row),
// in file order.
func (d *Doc) Pairs(n *yaml.Node, path string, each func(key string, k, v *yaml.Node, path string) error) error {
	if n.Kind != yaml.MappingNode {
		return d.Errorf(n, path, "want a mapping, got %s", kindName(n))
	}
	seen := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if line, dup := seen[k.Value]; dup {
			return d.Errorf(k, Join(path, k.Value), "repeated (first given on line %d)", line)
		}
		seen[k.Value] = k.Line
		if err := each(k.Value, k, v, Join(path, k.Value)); err != nil {
			return err
		}
	}
	return nil
}

// Seq walks the list n.
func (d *Doc) Seq(n *yaml.Node, path string, each func(i int, v *yaml.Node, path string) error) error {
	if n.Kind != yaml.SequenceNode {
		return d.Errorf(n, path, "want a list, got %s", kindName(n))
	}
	for i, v := range n.Content {
		if err := each(i, v, Index(path, i)); err != nil {
			return err
		}
	}
	return nil
}

// String returns the scalar n as a non-empty string.
func (d *Doc) String(n *yaml.Node, path string) (string, error) {
	if n.Kind != yaml.ScalarNode || n.Tag == "!!null" {
		return "", d.Errorf(n, path, "want a string, got %s", kindName(n))
	}
	if n.Value == "" {
		return "", d.Errorf(n, path, "must not be empty")
	}
	return n.Value, nil
}

// Float returns the scalar n as a finite number. Quoted numbers are
// rejected: a value written as a string is most likely a mistake.
func (d *Doc) Float(n *yaml.Node, path string) (float64, error) {
	if n.Kind != yaml.ScalarNode || (n.Tag != "!!int" && n.Tag != "!!float") {
		return 0, d.Errorf(n, path, "want a number, got %s", kindName(n))
	}
	f, err := strconv.ParseFloat(strings.ReplaceAll(n.Value, "_", ""), 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, d.Errorf(n, path, "want a finite number, got %q", n.Value)
	}
	return f, nil
}

// NonNegative returns the number n, which must be ≥ 0.
func (d *Doc) NonNegative(n *yaml.Node, path string) (float64, error) {
	f, err := d.Float(n, path)
	if err == nil && f < 0 {
		err = d.Errorf(n, path, "must not be negative, got %v", f)
	}
	return f, err
}

// Int returns the scalar n as a whole number in [lo, hi].
func (d *Doc) Int(n *yaml.Node, path string, lo, hi int) (int, error) {
	if n.Kind != yaml.ScalarNode || n.Tag != "!!int" {
		return 0, d.Errorf(n, path, "want a whole number, got %s", kindName(n))
	}
	v, err := strconv.ParseInt(strings.ReplaceAll(n.Value, "_", ""), 0, 64)
	if err != nil || v < int64(lo) || v > int64(hi) {
		return 0, d.Errorf(n, path, "want a whole number from %d to %d, got %s", lo, hi, n.Value)
	}
	return int(v), nil
}

// Duration returns the scalar n as a Go duration string ("5s", "250ms");
// a bare number is read as seconds.
func (d *Doc) Duration(n *yaml.Node, path string) (time.Duration, error) {
	if n.Kind == yaml.ScalarNode && (n.Tag == "!!int" || n.Tag == "!!float") {
		f, err := d.Float(n, path)
		return time.Duration(f * float64(time.Second)), err
	}
	if n.Kind != yaml.ScalarNode || n.Tag == "!!null" {
		return 0, d.Errorf(n, path, "want a duration like 5s or 250ms, got %s", kindName(n))
	}
	v, err := time.ParseDuration(n.Value)
	if err != nil {
		return 0, d.Errorf(n, path, "want a duration like 5s or 250ms, got %q", n.Value)
	}
	return v, nil
}
