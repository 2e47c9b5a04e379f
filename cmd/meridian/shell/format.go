package shell

import (
	"bufio"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/mattn/go-runewidth"
)

// Format is how result sets are written.
type Format int

const (
	// FormatTable is aligned columns with a header, a separator and a row
	// count, in the style of psql; the default.
	FormatTable Format = iota
	// FormatCSV is RFC 4180 CSV with a header line; NULL is an empty field.
	FormatCSV
	// FormatTSV is tab-separated values with a header line, as mysql --batch
	// writes them: tab, newline and backslash escaped as \t, \n, \\; NULL is
	// \N (what LOAD DATA reads back as NULL).
	FormatTSV
	// FormatJSON is one JSON array of objects per result set, one row per
	// line; numbers stay numbers and NULL is null.
	FormatJSON
)

var formatNames = []string{"table", "csv", "tsv", "json"}

func (f Format) String() string {
	if int(f) < len(formatNames) {
		return formatNames[f]
	}
	return fmt.Sprintf("Format(%d)", int(f))
}

// ParseFormat parses "table", "csv", "tsv" or "json".
func ParseFormat(s string) (Format, error) {
	for i, n := range formatNames {
		if strings.EqualFold(s, n) {
			return Format(i), nil
		}
	}
	return 0, fmt.Errorf("unknown format %q (want table, csv, tsv or json)", s)
}

// Column describes one column of a result set.
type Column struct {
	Name string
	// Numeric columns are right-aligned in tables and written as JSON
	// numbers.
	Numeric bool
}

// Value is one cell: its text as the server sent it, or NULL.
type Value struct {
	Text string
	Null bool
}

// Result is a whole result set, read before it is written so that columns
// can be aligned.
type Result struct {
	Columns []Column
	Rows    [][]Value
}

// printer writes results in one format.
type printer struct {
	format Format
	null   string // how tables show NULL
}

// write writes res; expanded selects the one-line-per-column layout of a
// table (\x, \G) and is ignored by the other formats.
func (p printer) write(w io.Writer, res *Result, expanded bool) error {
	bw := bufio.NewWriter(w)
	switch p.format {
	case FormatCSV:
		p.writeCSV(bw, res)
	case FormatTSV:
		p.writeTSV(bw, res)
	case FormatJSON:
		p.writeJSON(bw, res)
	default:
		if expanded {
			p.writeExpanded(bw, res)
		} else {
			p.writeTable(bw, res)
		}
	}
	return bw.Flush()
}

// cell is the text a table shows for v: NULL marked, control characters
// escaped so that a value never breaks the layout.
func (p printer) cell(v Value) string {
	if v.Null {
		return p.null
	}
	if !strings.ContainsAny(v.Text, "\n\r\t\x00") {
		return v.Text
	}
	r := strings.NewReplacer("\n", `\n`, "\r", `\r`, "\t", `\t`, "\x00", `\0`)
	return r.Replace(v.Text)
}

func rowCount(n int) string {
	if n == 1 {
		return "(1 row)"
	}
	return fmt.Sprintf("(%d rows)", n)
}

func pad(s string, width int, right bool) string {
	n := width - runewidth.StringWidth(s)
	if n <= 0 {
		return s
	}
	if right {
		return strings.Repeat(" ", n) + s
	}
	return s + strings.Repeat(" ", n)
}

// writeTable writes
//
//	 id | title | price
//	----+-------+-------
//	  1 | lamp  | 12.50
//	(1 row)
func (p printer) writeTable(w *bufio.Writer, res *Result) {
	widths := make([]int, len(res.Columns))
	for i, c := range res.Columns {
		widths[i] = runewidth.StringWidth(c.Name)
	}
	cells := make([][]string, len(res.Rows))
	for r, row := range res.Rows {
		cells[r] = make([]string, len(row))
		for i, v := range row {
			cells[r][i] = p.cell(v)
			widths[i] = max(widths[i], runewidth.StringWidth(cells[r][i]))
		}
	}
	line := func(fields []string, right func(int) bool) {
		var b strings.Builder
		for i, f := range fields {
			if i > 0 {
				b.WriteString(" | ")
			} else {
				b.WriteString(" ")
			}
			last := i == len(fields)-1
			if last && !right(i) {
				b.WriteString(f) // no trailing blanks
			} else {
				b.WriteString(pad(f, widths[i], right(i)))
			}
		}
		w.WriteString(strings.TrimRight(b.String(), " "))
		w.WriteByte('\n')
	}
	names := make([]string, len(res.Columns))
	for i, c := range res.Columns {
		names[i] = c.Name
	}
	line(names, func(int) bool { return false })
	for i, wd := range widths {
		if i > 0 {
			w.WriteByte('+')
		}
		w.WriteString(strings.Repeat("-", wd+2))
	}
	w.WriteByte('\n')
	for r, row := range cells {
		line(row, func(i int) bool { return res.Columns[i].Numeric && !res.Rows[r][i].Null })
	}
	w.WriteString(rowCount(len(res.Rows)))
	w.WriteByte('\n')
}

// writeExpanded writes each row as a block, as psql's \x does:
//
//	-[ RECORD 1 ]------
//	id    | 1
//	title | lamp
func (p printer) writeExpanded(w *bufio.Writer, res *Result) {
	nameWidth := 0
	for _, c := range res.Columns {
		nameWidth = max(nameWidth, runewidth.StringWidth(c.Name))
	}
	// As psql does, every record's header spans the widest line of all.
	vals := make([][]string, len(res.Rows))
	valWidth := 0
	for r, row := range res.Rows {
		vals[r] = make([]string, len(row))
		for i, v := range row {
			vals[r][i] = p.cell(v)
			valWidth = max(valWidth, runewidth.StringWidth(vals[r][i]))
		}
	}
	for r := range res.Rows {
		head := fmt.Sprintf("-[ RECORD %d ]", r+1)
		w.WriteString(head)
		w.WriteString(strings.Repeat("-", max(0, nameWidth+3+valWidth-len(head))))
		w.WriteByte('\n')
		for i, c := range res.Columns {
			w.WriteString(pad(c.Name, nameWidth, false))
			w.WriteString(" | ")
			w.WriteString(vals[r][i])
			w.WriteByte('\n')
		}
	}
	if len(res.Rows) == 0 {
		w.WriteString("(0 rows)\n")
	}
}

func (p printer) writeCSV(w *bufio.Writer, res *Result) {
	cw := csv.NewWriter(w)
	rec := make([]string, len(res.Columns))
	for i, c := range res.Columns {
		rec[i] = c.Name
	}
	cw.Write(rec)
	for _, row := range res.Rows {
		for i, v := range row {
			rec[i] = v.Text
			if v.Null {
				rec[i] = ""
			}
		}
		cw.Write(rec)
	}
	cw.Flush()
}

var tsvEscaper = strings.NewReplacer(`\`, `\\`, "\t", `\t`, "\n", `\n`, "\r", `\r`, "\x00", `\0`)

func (p printer) writeTSV(w *bufio.Writer, res *Result) {
	for i, c := range res.Columns {
		if i > 0 {
			w.WriteByte('\t')
		}
		w.WriteString(tsvEscaper.Replace(c.Name))
	}
	w.WriteByte('\n')
	for _, row := range res.Rows {
		for i, v := range row {
			if i > 0 {
				w.WriteByte('\t')
			}
			if v.Null {
				w.WriteString(`\N`)
			} else {
				w.WriteString(tsvEscaper.Replace(v.Text))
			}
		}
		w.WriteByte('\n')
	}
}

// writeJSON writes
//
//	[
//	{"id":1,"title":"lamp"},
//	{"id":2,"title":null}
//	]
func (p printer) writeJSON(w *bufio.Writer, res *Result) {
	keys := make([][]byte, len(res.Columns))
	for i, c := range res.Columns {
		keys[i], _ = json.Marshal(c.Name)
	}
	w.WriteString("[")
	for r, row := range res.Rows {
		if r > 0 {
			w.WriteString(",")
		}
		w.WriteString("\n{")
		for i, v := range row {
			if i > 0 {
				w.WriteByte(',')
			}
			w.Write(keys[i])
			w.WriteByte(':')
			switch {
			case v.Null:
				w.WriteString("null")
			case res.Columns[i].Numeric && json.Valid([]byte(v.Text)) && isJSONNumber(v.Text):
				w.WriteString(v.Text)
			default:
				b, _ := json.Marshal(v.Text)
				w.Write(b)
			}
		}
		w.WriteString("}")
	}
	if len(res.Rows) > 0 {
		w.WriteString("\n")
	}
	w.WriteString("]\n")
}

// isJSONNumber reports whether s is a number literal (json.Valid also
// accepts strings, objects, …).
func isJSONNumber(s string) bool {
	return s != "" && (s[0] == '-' || (s[0] >= '0' && s[0] <= '9'))
}
