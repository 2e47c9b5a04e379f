package shell

import (
	"strings"
	"unicode"
)

// Statement is one complete SQL statement cut from the input by a Splitter.
type Statement struct {
	// Text is the statement without its terminator, trimmed of surrounding
	// white space. Comments inside it are kept (the server ignores them).
	Text string
	// Line is the 1-based input line on which the statement starts.
	Line int
	// Vertical is set when the statement ended with \G: show it expanded.
	Vertical bool
	// Command is set for a backslash command (Text is the command and its
	// arguments, e.g. `\d items`), which runs in the shell, not the server.
	Command bool
}

// lexState is where the scanner stands between two bytes.
type lexState int

const (
	lexCode         lexState = iota // plain SQL
	lexSingle                       // inside '…'
	lexDouble                       // inside "…"
	lexBacktick                     // inside `…`
	lexBlockComment                 // inside /* … */
)

// Splitter cuts SQL text, fed one line at a time, into statements. It
// understands the lexical rules that decide where a statement ends in MySQL:
//
//   - '…' and "…" strings, with backslash escapes and doubled quotes;
//   - `…` identifiers, with doubled backticks;
//   - comments: "-- " (dashes followed by white space or the end of the line),
//     "#" to the end of the line, and "/* … */" (possibly over many lines);
//   - the terminator: ";" by default, changed by a "DELIMITER xx" line as in
//     the mysql client, plus "\g" (run) and "\G" (run, shown vertically);
//   - backslash commands: a backslash followed by a letter at the start of
//     a line, or where no statement is pending (after a terminator), takes
//     the rest of the line as a shell command (\d items, \x, \r, …); a
//     pending statement stays pending. Elsewhere in a statement a backslash
//     is SQL (\N is MySQL's NULL).
//
// A terminator inside a string, identifier or comment is text. A statement
// made only of comments and white space is dropped, as the mysql client does.
//
// The zero Splitter is not ready: use NewSplitter.
type Splitter struct {
	delim   string
	buf     strings.Builder
	state   lexState
	line    int  // lines fed so far
	start   int  // line on which the pending statement starts; 0: none
	content bool // the pending statement has something besides comments
}

// NewSplitter returns a Splitter whose terminator is ";".
func NewSplitter() *Splitter { return &Splitter{delim: ";"} }

// Delimiter returns the current statement terminator.
func (s *Splitter) Delimiter() string { return s.delim }

// Pending reports whether an unfinished statement (or an open string or
// comment) is buffered.
func (s *Splitter) Pending() bool {
	return s.state != lexCode || s.content
}

// State returns a short marker of an open construct for the continuation
// prompt: "'", "\"", "`", "/*", or "" in plain code.
func (s *Splitter) State() string {
	switch s.state {
	case lexSingle:
		return "'"
	case lexDouble:
		return `"`
	case lexBacktick:
		return "`"
	case lexBlockComment:
		return "/*"
	}
	return ""
}

// Reset drops whatever is buffered (Ctrl-C at the prompt, \r). The
// delimiter and the line count are kept.
func (s *Splitter) Reset() {
	s.buf.Reset()
	s.state = lexCode
	s.start = 0
	s.content = false
}

// Finish returns the buffered text as a last statement if it holds any
// SQL (end of a file without a final terminator), and resets.
func (s *Splitter) Finish() (Statement, bool) {
	defer s.Reset()
	text := strings.TrimSpace(s.buf.String())
	if !s.content || text == "" {
		return Statement{}, false
	}
	return Statement{Text: text, Line: s.start}, true
}

// Feed adds one line of input (without its newline) and returns the
// statements it completed, in order.
func (s *Splitter) Feed(line string) []Statement {
	s.line++
	if s.state == lexCode && !s.content {
		if d, ok := parseDelimiterCommand(line); ok {
			s.delim = d
			s.buf.Reset()
			return nil
		}
	}
	var out []Statement
	lineStart := len(line) - len(strings.TrimLeft(line, " \t"))
	for i := 0; i < len(line); {
		if s.start == 0 && s.state == lexCode && !isSpace(line[i]) {
			s.start = s.line
		}
		switch s.state {
		case lexSingle, lexDouble, lexBacktick:
			i = s.scanQuoted(line, i)
			continue
		case lexBlockComment:
			if end := strings.Index(line[i:], "*/"); end >= 0 {
				s.buf.WriteString(line[i : i+end+2])
				i += end + 2
				s.state = lexCode
			} else {
				s.buf.WriteString(line[i:])
				i = len(line)
			}
			continue
		}
		c := line[i]
		rest := line[i:]
		switch {
		case strings.HasPrefix(rest, s.delim):
			if st, ok := s.cut(false); ok {
				out = append(out, st)
			}
			i += len(s.delim)
		case c == '\\' && (!s.content || i == lineStart) && len(rest) > 1 && rest[1] != 'g' && rest[1] != 'G' && rest[1] > ' ':
			out = append(out, Statement{Text: strings.TrimSpace(rest), Line: s.line, Command: true})
			if !s.content {
				s.buf.Reset()
				s.start = 0
			}
			i = len(line)
		case strings.HasPrefix(rest, `\g`) || strings.HasPrefix(rest, `\G`):
			if st, ok := s.cut(rest[1] == 'G'); ok {
				out = append(out, st)
			}
			i += 2
		case c == '\'' || c == '"' || c == '`':
			s.state = map[byte]lexState{'\'': lexSingle, '"': lexDouble, '`': lexBacktick}[c]
			s.content = true
			s.buf.WriteByte(c)
			i++
		case strings.HasPrefix(rest, "/*"):
			s.state = lexBlockComment
			s.buf.WriteString("/*")
			i += 2
		case c == '#' || isDashComment(rest):
			s.buf.WriteString(rest) // the comment runs to the end of the line
			i = len(line)
		default:
			if !isSpace(c) {
				s.content = true
			}
			s.buf.WriteByte(c)
			i++
		}
	}
	if s.state == lexCode && !s.content {
		// Only white space and comments since the last statement: drop them,
		// so that they neither hold the prompt nor move the start line.
		s.buf.Reset()
		s.start = 0
	} else {
		s.buf.WriteByte('\n')
	}
	return out
}

// scanQuoted consumes line from i inside a string or quoted identifier and
// returns the index after what it consumed.
func (s *Splitter) scanQuoted(line string, i int) int {
	q := map[lexState]byte{lexSingle: '\'', lexDouble: '"', lexBacktick: '`'}[s.state]
	for i < len(line) {
		c := line[i]
		switch {
		case c == '\\' && q != '`':
			// A backslash escapes the next byte; at the end of a line it
			// escapes the newline, which stays inside the string.
			end := min(i+2, len(line))
			s.buf.WriteString(line[i:end])
			i = end
		case c == q:
			s.buf.WriteByte(c)
			i++
			// A doubled quote stays inside; the scanner sees it as a close
			// followed by an immediate reopen.
			if i < len(line) && line[i] == q {
				s.buf.WriteByte(c)
				i++
				continue
			}
			s.state = lexCode
			return i
		default:
			s.buf.WriteByte(c)
			i++
		}
	}
	return i
}

// cut ends the pending statement at a terminator.
func (s *Splitter) cut(vertical bool) (Statement, bool) {
	text := strings.TrimSpace(s.buf.String())
	st := Statement{Text: text, Line: s.start, Vertical: vertical}
	ok := s.content && text != ""
	s.buf.Reset()
	s.start = 0
	s.content = false
	return st, ok
}

// parseDelimiterCommand recognizes the mysql client's "DELIMITER xx" line.
func parseDelimiterCommand(line string) (string, bool) {
	f := strings.Fields(line)
	if len(f) != 2 || !strings.EqualFold(f[0], "delimiter") {
		return "", false
	}
	if strings.ContainsAny(f[1], `'"`+"`\\") {
		return "", false
	}
	return f[1], true
}

// isDashComment reports whether s starts a "-- " comment: two dashes
// followed by white space, a control character or the end of the line.
func isDashComment(s string) bool {
	if !strings.HasPrefix(s, "--") {
		return false
	}
	return len(s) == 2 || s[2] <= ' '
}

func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v'
}

// FirstKeyword returns the first word of a statement in upper case,
// skipping white space, comments and opening parentheses; "" if none.
func FirstKeyword(text string) string {
	i := 0
	for i < len(text) {
		rest := text[i:]
		switch {
		case isSpace(text[i]) || text[i] == '(':
			i++
		case strings.HasPrefix(rest, "/*"):
			end := strings.Index(rest[2:], "*/")
			if end < 0 {
				return ""
			}
			i += end + 4
		case text[i] == '#' || isDashComment(rest):
			nl := strings.IndexByte(rest, '\n')
			if nl < 0 {
				return ""
			}
			i += nl + 1
		default:
			j := i
			for j < len(text) && (text[j] == '_' || unicode.IsLetter(rune(text[j]))) {
				j++
			}
			return strings.ToUpper(text[i:j])
		}
	}
	return ""
}
