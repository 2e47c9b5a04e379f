package shell

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/mattn/go-runewidth"
	"github.com/peterh/liner"
)

// runInteractive reads the terminal with line editing until \q, Ctrl-D or
// ctx is done. Ctrl-C at the prompt clears the line and the statement
// being typed; while a statement runs the terminal sends SIGINT, which
// guard turns into a cancellation.
func (s *session) runInteractive(ctx context.Context) error {
	ln := liner.NewLiner()
	defer ln.Close()
	ln.SetCtrlCAborts(true)
	ln.SetMultiLineMode(true)
	s.loadHistory(ln)

	var version string
	if err := s.conn.QueryRowContext(ctx, "SELECT VERSION()").Scan(&version); err != nil {
		version = "unknown version"
	}
	fmt.Fprintf(s.opts.Out, "Connected to %s (%s).\nType \\? for help, \\q to quit.\n\n", s.opts.Addr, version)

	src := &source{name: "terminal", sp: NewSplitter(), interactive: true}
	var entry []string // the lines of the history entry being typed
	for ctx.Err() == nil {
		s.drainInterrupts()
		line, err := ln.Prompt(s.prompt(src.sp))
		switch {
		case errors.Is(err, liner.ErrPromptAborted):
			src.sp.Reset()
			entry = nil
			continue
		case errors.Is(err, io.EOF):
			fmt.Fprintln(s.opts.Out)
			return nil
		case err != nil:
			return err
		}
		entry = append(entry, strings.TrimSpace(line))
		perr := s.processLine(ctx, src, line)
		if !src.sp.Pending() {
			s.addHistory(ln, strings.TrimSpace(strings.Join(entry, " ")))
			entry = nil
		}
		if errors.Is(perr, errQuit) {
			return nil
		}
	}
	return nil
}

// prompt is "meridian:DB> " (or "meridian> " without a database); while a
// statement continues, the same width ending in "-> ", or in the quote or
// comment that is open: "'> ", "\"> ", "`> ", "/*> ".
func (s *session) prompt(sp *Splitter) string {
	main := "meridian> "
	if s.database != "" {
		main = "meridian:" + s.database + "> "
	}
	if !sp.Pending() {
		return main
	}
	mark := sp.State()
	if mark == "" {
		mark = "-"
	}
	mark += "> "
	return strings.Repeat(" ", max(0, runewidth.StringWidth(main)-len(mark))) + mark
}

// drainInterrupts forgets interrupts that arrived while nothing ran (the
// terminal does not send SIGINT at the prompt, where Ctrl-C is a key).
func (s *session) drainInterrupts() {
	for {
		select {
		case <-s.interrupts:
		default:
			return
		}
	}
}

func (s *session) loadHistory(ln *liner.State) {
	if s.opts.HistoryFile == "" {
		return
	}
	f, err := os.Open(s.opts.HistoryFile)
	if err != nil {
		return
	}
	defer f.Close()
	ln.ReadHistory(f)
}

// addHistory appends entry to the history and rewrites the history file
// (liner keeps the last 1000 entries), so that a killed shell loses nothing.
func (s *session) addHistory(ln *liner.State, entry string) {
	if entry == "" {
		return
	}
	ln.AppendHistory(entry)
	if s.opts.HistoryFile == "" {
		return
	}
	tmp := s.opts.HistoryFile + ".tmp"
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return
	}
	_, werr := ln.WriteHistory(f)
	if cerr := f.Close(); werr == nil && cerr == nil {
		os.Rename(tmp, s.opts.HistoryFile)
	} else {
		os.Remove(tmp)
	}
}
