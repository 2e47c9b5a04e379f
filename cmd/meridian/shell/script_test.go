package shell

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"github.com/cockroachdb/datadriven"
)

// TestSplitter replays testdata/split: each "split" feeds its input line by
// line and prints the statements cut (with their start line and \G mark)
// and what is left pending. Regenerate with -rewrite.
func TestSplitter(t *testing.T) {
	datadriven.RunTest(t, "testdata/split", func(t *testing.T, d *datadriven.TestData) string {
		if d.Cmd != "split" {
			t.Fatalf("unknown command %s", d.Cmd)
		}
		sp := NewSplitter()
		var b strings.Builder
		show := func(st Statement) {
			mark := ""
			if st.Vertical {
				mark = " [vertical]"
			}
			if st.Command {
				mark = " [command]"
			}
			fmt.Fprintf(&b, "line %d%s: %q\n", st.Line, mark, st.Text)
		}
		for _, line := range strings.Split(d.Input, "\n") {
			for _, st := range sp.Feed(line) {
				show(st)
			}
		}
		if sp.Pending() {
			fmt.Fprintf(&b, "pending (state %q)\n", sp.State())
		}
		if d.HasArg("finish") {
			if st, ok := sp.Finish(); ok {
				b.WriteString("finish: ")
				show(st)
			}
		}
		if sp.Delimiter() != ";" {
			fmt.Fprintf(&b, "delimiter %q\n", sp.Delimiter())
		}
		if b.Len() == 0 {
			return "nothing\n"
		}
		return b.String()
	})
}

// TestFormats replays testdata/format: "format STYLE" writes the result set
// given as input — a header line "name[:n]|…" (":n" marks a numeric
// column) and rows "v|…", <null> for NULL — as STYLE (table, expanded,
// csv, tsv, json); "ledger" shows how \timing renders it.
func TestFormats(t *testing.T) {
	datadriven.RunTest(t, "testdata/format", func(t *testing.T, d *datadriven.TestData) string {
		res := parseResult(t, d.Input)
		switch d.Cmd {
		case "format":
			var style string
			d.ScanArgs(t, "style", &style)
			expanded := style == "expanded"
			if expanded {
				style = "table"
			}
			f, err := ParseFormat(style)
			if err != nil {
				t.Fatal(err)
			}
			var out bytes.Buffer
			if err := (printer{format: f, null: "NULL"}).write(&out, res, expanded); err != nil {
				t.Fatal(err)
			}
			return out.String()
		case "ledger":
			return formatLedger(res) + "\n"
		case "indexes":
			var out bytes.Buffer
			if err := (printer{format: FormatTable, null: "NULL"}).write(&out, summarizeIndexes(res), false); err != nil {
				t.Fatal(err)
			}
			return out.String()
		}
		t.Fatalf("unknown command %s", d.Cmd)
		return ""
	})
}

func parseResult(t *testing.T, input string) *Result {
	lines := strings.Split(input, "\n")
	res := &Result{}
	for _, h := range strings.Split(lines[0], "|") {
		name, numeric := strings.CutSuffix(h, ":n")
		res.Columns = append(res.Columns, Column{Name: name, Numeric: numeric})
	}
	for _, l := range lines[1:] {
		l = strings.NewReplacer(`\n`, "\n", `\t`, "\t").Replace(l)
		var row []Value
		for _, v := range strings.Split(l, "|") {
			if v == "<null>" {
				row = append(row, Value{Null: true})
			} else {
				row = append(row, Value{Text: v})
			}
		}
		if len(row) != len(res.Columns) {
			t.Fatalf("row %q has %d values, want %d", l, len(row), len(res.Columns))
		}
		res.Rows = append(res.Rows, row)
	}
	return res
}

func TestFirstKeyword(t *testing.T) {
	for in, want := range map[string]string{
		"select 1":                 "SELECT",
		"  /* hint */ (SELECT 1)":  "SELECT",
		"-- c\n# d\nshow tables":   "SHOW",
		"insert into t values (1)": "INSERT",
		"/* unterminated":          "",
		"":                         "",
		"use`db`":                  "USE",
	} {
		if got := FirstKeyword(in); got != want {
			t.Errorf("FirstKeyword(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestPrompt(t *testing.T) {
	s := &session{database: "shop"}
	sp := NewSplitter()
	if got := s.prompt(sp); got != "meridian:shop> " {
		t.Fatalf("prompt = %q", got)
	}
	sp.Feed("SELECT")
	if got := s.prompt(sp); got != "            -> " {
		t.Fatalf("continuation = %q", got)
	}
	sp.Feed("'abc")
	if got := s.prompt(sp); got != "            '> " {
		t.Fatalf("in quote = %q", got)
	}
	s.database = ""
	sp.Reset()
	if got := s.prompt(sp); got != "meridian> " {
		t.Fatalf("no database = %q", got)
	}
}
