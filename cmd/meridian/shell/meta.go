package shell

import (
	"context"
	"fmt"
	"strings"
)

const helpText = `General
  \q, \quit          quit (also Ctrl-D)
  \?                 this help
Query buffer
  \r                 reset (clear) the statement being typed
  \g, \G             end a statement (like ;); \G shows it expanded
  DELIMITER xx       end statements with xx instead of ;
Informational
  \d                 list tables and views
  \dt                list tables
  \d NAME            describe a table: columns, types, nullability, defaults, keys, indexes
  \l                 list databases
Formatting
  \x [on|off]        toggle expanded display (one line per column)
  \format [table|csv|tsv|json]
                     show or set the output format
  \timing [on|off]   toggle timing of statements (with the server's latency ledger)
Input/Output
  \i FILE            run the statements of FILE
  \o [FILE]          send results to FILE, or back to the terminal
Connection
  \c DB, \u DB       use database DB
While a statement runs, Ctrl-C cancels it; at the prompt, Ctrl-C clears the line.
`

// meta runs a backslash command. Errors are written to Err here and
// returned so that scripts can stop on them.
func (s *session) meta(ctx context.Context, src *source, line string) error {
	err := s.metaCommand(ctx, src, line)
	if err != nil && err != errQuit && err != errInterrupted {
		fmt.Fprintln(s.opts.Err, formatError(err))
	}
	return err
}

func (s *session) metaCommand(ctx context.Context, src *source, line string) error {
	cmd, arg, _ := strings.Cut(line, " ")
	arg = strings.TrimSpace(arg)
	if strings.HasSuffix(arg, ";") && cmd != `\i` && cmd != `\o` {
		arg = strings.TrimSpace(strings.TrimSuffix(arg, ";"))
	}
	msg := func(format string, args ...any) { fmt.Fprintf(s.opts.Out, format+"\n", args...) }
	switch cmd {
	case `\q`, `\quit`:
		return errQuit
	case `\?`, `\h`, `\help`:
		fmt.Fprint(s.opts.Out, helpText)
	case `\r`:
		src.sp.Reset()
		msg("Query buffer reset (cleared).")
	case `\x`:
		on, err := toggle(s.expanded, arg)
		if err != nil {
			return err
		}
		s.expanded = on
		msg("Expanded display is %s.", onOff(on))
	case `\timing`:
		on, err := toggle(s.timing, arg)
		if err != nil {
			return err
		}
		s.timing = on
		msg("Timing is %s.", onOff(on))
	case `\format`:
		if arg == "" {
			msg("Output format is %s.", s.print.format)
			return nil
		}
		f, err := ParseFormat(arg)
		if err != nil {
			return err
		}
		s.print.format = f
		msg("Output format is %s.", f)
	case `\i`:
		if arg == "" {
			return fmt.Errorf(`\i: missing file name`)
		}
		return s.runFile(ctx, src, arg)
	case `\o`:
		return s.setOutput(arg)
	case `\c`, `\u`, `\connect`, `\use`:
		if arg == "" {
			return fmt.Errorf(`%s: missing database name`, cmd)
		}
		return s.execStatement(ctx, Statement{Text: "USE " + quoteIdent(strings.Trim(arg, "`")), Line: src.sp.line})
	case `\l`:
		return s.showQuery(ctx, "SHOW DATABASES")
	case `\d`, `\dt`, `\d+`, `\dt+`:
		if arg != "" {
			return s.describe(ctx, arg)
		}
		return s.listTables(ctx, strings.HasPrefix(cmd, `\dt`))
	default:
		return fmt.Errorf("invalid command %s; try \\? for help", cmd)
	}
	return nil
}

func toggle(cur bool, arg string) (bool, error) {
	switch strings.ToLower(arg) {
	case "":
		return !cur, nil
	case "on", "true", "1":
		return true, nil
	case "off", "false", "0":
		return false, nil
	}
	return cur, fmt.Errorf("unrecognized value %q: want on or off", arg)
}

func onOff(b bool) string {
	if b {
		return "on"
	}
	return "off"
}

// showQuery runs a query of the shell's own and writes its results.
func (s *session) showQuery(ctx context.Context, q string) error {
	results, err := s.internalQuery(ctx, q)
	if err != nil {
		return err
	}
	for _, res := range results {
		if err := s.print.write(s.out, res, s.expanded); err != nil {
			return err
		}
	}
	return nil
}

// internalQuery runs q on the session connection, cancellable by Ctrl-C.
func (s *session) internalQuery(ctx context.Context, q string) ([]*Result, error) {
	var results []*Result
	err := s.guard(ctx, func(qctx context.Context) error {
		var err error
		results, err = s.query(qctx, q)
		return err
	})
	return results, err
}

// listTables writes the tables (and views, unless tablesOnly) of the
// current database: SHOW FULL TABLES, or SHOW TABLES where that is missing.
func (s *session) listTables(ctx context.Context, tablesOnly bool) error {
	results, err := s.internalQuery(ctx, "SHOW FULL TABLES")
	full := err == nil && len(results) == 1 && len(results[0].Columns) >= 2
	if !full {
		if results, err = s.internalQuery(ctx, "SHOW TABLES"); err != nil {
			return err
		}
	}
	out := &Result{Columns: []Column{{Name: "Name"}, {Name: "Type"}}}
	for _, res := range results {
		for _, row := range res.Rows {
			kind := "table"
			if full && strings.Contains(strings.ToUpper(row[1].Text), "VIEW") {
				kind = "view"
			}
			if tablesOnly && kind != "table" {
				continue
			}
			out.Rows = append(out.Rows, []Value{row[0], {Text: kind}})
		}
	}
	return s.print.write(s.out, out, s.expanded)
}

// describe writes the columns (SHOW COLUMNS) and indexes (SHOW INDEX) of
// table name, which may be qualified as db.table.
func (s *session) describe(ctx context.Context, name string) error {
	ref := qualifiedName(name)
	cols, err := s.internalQuery(ctx, "SHOW COLUMNS FROM "+ref)
	if err != nil {
		return err
	}
	idx, err := s.internalQuery(ctx, "SHOW INDEX FROM "+ref)
	if err != nil {
		return err
	}
	var indexes *Result
	if len(idx) == 1 {
		indexes = summarizeIndexes(idx[0])
	}
	table := s.print.format == FormatTable
	if table {
		title := strings.ReplaceAll(name, "`", "")
		if !strings.Contains(title, ".") && s.database != "" {
			title = s.database + "." + title
		}
		fmt.Fprintf(s.out, "Table %q\n", title)
	}
	for _, res := range cols {
		res.Columns = renameColumns(res.Columns, map[string]string{"Field": "Column", "Null": "Nullable"})
		if err := s.print.write(s.out, res, s.expanded); err != nil {
			return err
		}
	}
	if indexes == nil {
		return nil
	}
	if !table {
		return s.print.write(s.out, indexes, s.expanded)
	}
	if len(indexes.Rows) > 0 {
		fmt.Fprintln(s.out, "Indexes:")
	}
	for _, r := range indexes.Rows {
		fmt.Fprintf(s.out, "    %s %s (%s)\n", r[0].Text, r[1].Text, r[2].Text)
	}
	return nil
}

// summarizeIndexes folds SHOW INDEX (one row per indexed column) into one
// row per index: name, kind (PRIMARY KEY, UNIQUE, INDEX), columns.
func summarizeIndexes(res *Result) *Result {
	col := map[string]int{}
	for i, c := range res.Columns {
		col[strings.ToLower(c.Name)] = i
	}
	ki, ok1 := col["key_name"]
	ci, ok2 := col["column_name"]
	ni, ok3 := col["non_unique"]
	if !ok1 || !ok2 || !ok3 {
		return nil
	}
	out := &Result{Columns: []Column{{Name: "Index"}, {Name: "Kind"}, {Name: "Columns"}}}
	pos := map[string]int{}
	for _, r := range res.Rows {
		name := r[ki].Text
		i, seen := pos[name]
		if !seen {
			kind := "INDEX"
			switch {
			case strings.EqualFold(name, "PRIMARY"):
				kind = "PRIMARY KEY"
			case r[ni].Text == "0":
				kind = "UNIQUE"
			}
			i = len(out.Rows)
			pos[name] = i
			out.Rows = append(out.Rows, []Value{{Text: name}, {Text: kind}, {}})
		}
		cols := &out.Rows[i][2].Text
		if *cols != "" {
			*cols += ", "
		}
		*cols += r[ci].Text
	}
	return out
}

func renameColumns(cols []Column, names map[string]string) []Column {
	out := make([]Column, len(cols))
	for i, c := range cols {
		if n, ok := names[c.Name]; ok {
			c.Name = n
		}
		out[i] = c
	}
	return out
}

// qualifiedName quotes "table", "db.table" or already quoted forms for
// SHOW … FROM.
func qualifiedName(name string) string {
	if strings.Contains(name, "`") {
		return name // quoted by the user
	}
	parts := strings.SplitN(name, ".", 2)
	for i, p := range parts {
		parts[i] = quoteIdent(p)
	}
	return strings.Join(parts, ".")
}
