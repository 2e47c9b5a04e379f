package conf

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// Error is a problem at a place in a configuration file.
type Error struct {
	File   string
	Line   int
	Column int
	// Field is the path of the offending field, e.g. regions[1].nodes; empty
	// for syntax errors.
	Field string
	Msg   string
}

func (e *Error) Error() string {
	if e.Field == "" {
		return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg)
	}
	return fmt.Sprintf("%s:%d: %s: %s", e.File, e.Line, e.Field, e.Msg)
}

// Doc is a parsed file: its name (for errors) and its root node.
type Doc struct {
	File string
	Root *yaml.Node
}

// Errorf returns an *Error at node n for field.
func (d *Doc) Errorf(n *yaml.Node, field, format string, args ...any) error {
	line, col := 1, 1
	if n != nil && n.Line > 0 {
		line, col = n.Line, n.Column
	}
	return &Error{File: d.File, Line: line, Column: col, Field: field, Msg: fmt.Sprintf(format, args...)}
}

// Parse parses data as JSON if the file name ends in .json or the text
// starts with '{', and as YAML otherwise.
func Parse(file string, data []byte) (*Doc, error) {
	trimmed := bytes.TrimSpace(data)
	if strings.EqualFold(filepath.Ext(file), ".json") || bytes.HasPrefix(trimmed, []byte("{")) {
		return parseJSON(file, data)
	}
	return parseYAML(file, data)
}

var yamlLine = regexp.MustCompile(`line (\d+)`)

func parseYAML(file string, data []byte) (*Doc, error) {
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		line := 1
		if m := yamlLine.FindStringSubmatch(err.Error()); m != nil {
			line, _ = strconv.Atoi(m[1])
		}
		msg := strings.TrimPrefix(err.Error(), "yaml: ")
		msg = yamlLine.ReplaceAllString(msg, "")
		msg = strings.TrimPrefix(strings.TrimSpace(strings.TrimPrefix(msg, ":")), ": ")
		return nil, &Error{File: file, Line: line, Column: 1, Msg: "YAML syntax: " + msg}
	}
	d := &Doc{File: file, Root: &root}
	if root.Kind == yaml.DocumentNode && len(root.Content) == 1 {
		d.Root = root.Content[0]
	}
	if root.Kind == 0 {
		return nil, &Error{File: file, Line: 1, Column: 1, Msg: "the file is empty"}
	}
	return d, nil
}

// jsonParser builds a yaml.Node tree from encoding/json's token stream.
type jsonParser struct {
	file  string
	data  []byte
	dec   *json.Decoder
	lines []int // byte offsets at which lines start
}

func parseJSON(file string, data []byte) (*Doc, error) {
	p := &jsonParser{file: file, data: data, dec: json.NewDecoder(bytes.NewReader(data))}
	p.dec.UseNumber()
	p.lines = []int{0}
	for i, b := range data {
		if b == '\n' {
			p.lines = append(p.lines, i+1)
		}
	}
	root, err := p.value()
	if err != nil {
		return nil, err
	}
	if _, err := p.dec.Token(); err != io.EOF {
		return nil, p.errAt(int(p.dec.InputOffset()), "JSON syntax: unexpected data after the top-level value")
	}
	return &Doc{File: file, Root: root}, nil
}

// pos returns the line and column of byte offset off.
func (p *jsonParser) pos(off int) (line, col int) {
	lo, hi := 0, len(p.lines)-1
	for lo < hi {
		mid := (lo + hi + 1) / 2
		if p.lines[mid] <= off {
			lo = mid
		} else {
			hi = mid - 1
		}
	}
	return lo + 1, off - p.lines[lo] + 1
}

func (p *jsonParser) errAt(off int, msg string) error {
	line, col := p.pos(off)
	return &Error{File: p.file, Line: line, Column: col, Msg: msg}
}

// next returns the next token and the offset where it starts.
func (p *jsonParser) next() (json.Token, int, error) {
	off := int(p.dec.InputOffset())
	for off < len(p.data) && strings.IndexByte(" \t\r\n,:", p.data[off]) >= 0 {
		off++
	}
	tok, err := p.dec.Token()
	if err != nil {
		var se *json.SyntaxError
		if errors.As(err, &se) {
			return nil, 0, p.errAt(max(int(se.Offset)-1, 0), "JSON syntax: "+se.Error())
		}
		if err == io.EOF || errors.Is(err, io.ErrUnexpectedEOF) {
			return nil, 0, p.errAt(len(p.data), "JSON syntax: unexpected end of the file")
		}
		return nil, 0, p.errAt(off, "JSON syntax: "+err.Error())
	}
	return tok, off, nil
}

func (p *jsonParser) value() (*yaml.Node, error) {
	tok, off, err := p.next()
	if err != nil {
		return nil, err
	}
	return p.valueFrom(tok, off)
}

func (p *jsonParser) valueFrom(tok json.Token, off int) (*yaml.Node, error) {
	line, col := p.pos(off)
	n := &yaml.Node{Line: line, Column: col}
	switch v := tok.(type) {
	case json.Delim:
		switch v {
		case '{':
			n.Kind, n.Tag = yaml.MappingNode, "!!map"
			for {
				tok, koff, err := p.next()
				if err != nil {
					return nil, err
				}
				if tok == json.Delim('}') {
					return n, nil
				}
				key, err := p.valueFrom(tok, koff)
				if err != nil {
					return nil, err
				}
				val, err := p.value()
				if err != nil {
					return nil, err
				}
				n.Content = append(n.Content, key, val)
			}
		case '[':
			n.Kind, n.Tag = yaml.SequenceNode, "!!seq"
			for {
				tok, eoff, err := p.next()
				if err != nil {
					return nil, err
				}
				if tok == json.Delim(']') {
					return n, nil
				}
				el, err := p.valueFrom(tok, eoff)
				if err != nil {
					return nil, err
				}
				n.Content = append(n.Content, el)
			}
		}
		return nil, p.errAt(off, fmt.Sprintf("JSON syntax: unexpected %q", v))
	case string:
		n.Kind, n.Tag, n.Value, n.Style = yaml.ScalarNode, "!!str", v, yaml.DoubleQuotedStyle
	case json.Number:
		n.Kind, n.Value = yaml.ScalarNode, v.String()
		n.Tag = "!!float"
		if _, err := strconv.ParseInt(v.String(), 10, 64); err == nil {
			n.Tag = "!!int"
		}
	case bool:
		n.Kind, n.Tag, n.Value = yaml.ScalarNode, "!!bool", strconv.FormatBool(v)
	case nil:
		n.Kind, n.Tag, n.Value = yaml.ScalarNode, "!!null", "null"
	}
	return n, nil
}
