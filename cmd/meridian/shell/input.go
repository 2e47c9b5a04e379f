package shell

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
)

// source is one stream of input lines: the terminal, a -e script, a file,
// a \i file. Each has its own Splitter, so a statement cannot run across
// two sources.
type source struct {
	name        string
	sp          *Splitter
	interactive bool
	failed      bool // a statement failed (ContinueOnError)
}

// stmtError records where a script statement failed.
type stmtError struct {
	where string
	line  int
	err   error
}

func (e *stmtError) Error() string {
	return fmt.Sprintf("%s, line %d: %v", e.where, e.line, ErrStatementFailed)
}
func (e *stmtError) Unwrap() []error { return []error{ErrStatementFailed, e.err} }

// processLine handles one line of src: a backslash command, or SQL fed to
// the splitter, running the statements it completes. It returns errQuit,
// errInterrupted, or a *stmtError when a statement fails in a script
// (interactive sources go on).
func (s *session) processLine(ctx context.Context, src *source, line string) error {
	for _, st := range src.sp.Feed(line) {
		var err error
		if st.Command {
			err = s.meta(ctx, src, st.Text)
		} else {
			err = s.execStatement(ctx, st)
		}
		if err := s.outcome(src, st.Line, err); err != nil {
			return err
		}
	}
	return nil
}

// outcome decides whether err, the result of a statement or command at
// line of src, stops src.
func (s *session) outcome(src *source, line int, err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, errQuit), errors.Is(err, errInterrupted):
		// An interrupt stops a script, or the rest of an interactive line.
		return err
	}
	var se *stmtError
	if errors.As(err, &se) { // from a nested \i
		if src.interactive {
			return nil
		}
		return err
	}
	if src.interactive {
		return nil
	}
	src.failed = true
	if s.opts.ContinueOnError {
		return nil
	}
	return &stmtError{where: src.name, line: line, err: err}
}

// runSource feeds every line of r to a new source, runs a last statement
// that lacks its terminator, and returns what stopped it: nil at the end,
// errQuit, errInterrupted, or a *stmtError.
func (s *session) runSource(ctx context.Context, r io.Reader, name string) error {
	src := &source{name: name, sp: NewSplitter()}
	br := bufio.NewReader(r)
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		line, rerr := br.ReadString('\n')
		if rerr != nil && rerr != io.EOF {
			return fmt.Errorf("reading %s: %w", name, rerr)
		}
		if line != "" || rerr == nil {
			line = strings.TrimRight(line, "\r\n")
			if err := s.processLine(ctx, src, line); err != nil {
				return err
			}
		}
		if rerr == io.EOF {
			break
		}
	}
	if st, ok := src.sp.Finish(); ok {
		if err := s.outcome(src, st.Line, s.execStatement(ctx, st)); err != nil {
			return err
		}
	}
	if src.failed {
		return &stmtError{where: name, line: src.sp.line, err: ErrStatementFailed}
	}
	return nil
}

// runBatch runs Options.Scripts then Options.Files.
func (s *session) runBatch(ctx context.Context) error {
	var failed error
	run := func(r io.Reader, name string) (stop bool, err error) {
		err = s.runSource(ctx, r, name)
		switch {
		case err == nil:
			return false, nil
		case errors.Is(err, errQuit):
			return true, nil
		case errors.Is(err, ErrStatementFailed) && s.opts.ContinueOnError:
			if failed == nil {
				failed = err
			}
			return false, nil
		}
		return true, err
	}
	for i, script := range s.opts.Scripts {
		if stop, err := run(strings.NewReader(script), fmt.Sprintf("-e #%d", i+1)); stop {
			return err
		}
	}
	for _, path := range s.opts.Files {
		var r io.Reader = s.opts.In
		name := "stdin"
		if path != "-" {
			f, err := os.Open(path)
			if err != nil {
				return err
			}
			defer f.Close()
			r, name = f, path
		}
		if stop, err := run(r, name); stop {
			return err
		}
	}
	return failed
}

// runReader runs In as one script (input redirected from a file or pipe).
func (s *session) runReader(ctx context.Context, r io.Reader, name string) error {
	err := s.runSource(ctx, r, name)
	if errors.Is(err, errQuit) {
		return nil
	}
	return err
}

// runFile runs the file a \i names, nested in src.
func (s *session) runFile(ctx context.Context, src *source, path string) error {
	if s.depth >= 16 {
		return fmt.Errorf(`\i: too deeply nested (at %s)`, path)
	}
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	s.depth++
	defer func() { s.depth-- }()
	err = s.runSource(ctx, f, path)
	if errors.Is(err, errQuit) && src.interactive {
		return nil // \q in a file ends the file, not the session
	}
	return err
}
