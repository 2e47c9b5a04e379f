package shell

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"time"

	"github.com/go-sql-driver/mysql"
)

// DefaultAddr is the server `meridian sql` connects to without --host: the
// port Meridian's SQL listener uses by default (TiDB's convention).
const DefaultAddr = "127.0.0.1:4000"

// Options configure Run. The zero value of every field is its default.
type Options struct {
	// Addr is the server's host:port. Default DefaultAddr.
	Addr string
	// User to log in as. Default "root".
	User string
	// Password; empty for none.
	Password string
	// Database to USE at start; empty for none.
	Database string
	// Format of result sets. Default FormatTable.
	Format Format
	// Null is how tables show NULL. Default "NULL".
	Null string

	// Scripts run in order, then Files; if either is set the shell is not
	// interactive. Each script may hold several statements and backslash
	// commands.
	Scripts []string
	// Files are read and run in order; "-" is In.
	Files []string
	// ContinueOnError keeps running a script after a failed statement; the
	// run still ends with ErrStatementFailed.
	ContinueOnError bool

	// Interactive reads from the process's terminal with line editing,
	// history and prompts. It requires os.Stdin and os.Stdout to be a
	// terminal (In and Out are then ignored for input and prompts, but
	// results still go to Out). Without it, and without Scripts or Files,
	// In is read as one script.
	Interactive bool
	// HistoryFile keeps the interactive history across sessions (see
	// DefaultHistoryFile); empty: history lasts for this session only.
	HistoryFile string

	// In, Out and Err default to os.Stdin, os.Stdout and os.Stderr.
	In       io.Reader
	Out, Err io.Writer

	// Interrupts cancel the running statement (first: KILL QUERY on a second
	// connection; second, or no effect within KillGrace: the connection is
	// dropped and reopened, losing session state). Nil: Run subscribes to
	// os.Interrupt itself while it runs, so the caller must not treat SIGINT
	// as "shut down" meanwhile.
	Interrupts <-chan os.Signal
	// KillGrace is how long a KILL QUERY may take before the connection is
	// dropped. Default 2s.
	KillGrace time.Duration
	// ConnectTimeout bounds dialing the server. Default 10s.
	ConnectTimeout time.Duration

	// Knobs are hooks for tests.
	Knobs TestingKnobs
}

// TestingKnobs are hooks for tests.
type TestingKnobs struct {
	// KillStatement, if set, replaces "KILL QUERY <id>" (to test a server
	// on which KILL has no effect).
	KillStatement func(connID int64) string
}

// ErrStatementFailed is returned by Run when a statement or command of a
// script failed (its error was already written to Err).
var ErrStatementFailed = errors.New("a statement failed")

// DefaultHistoryFile returns ~/.meridian_history ("" if there is no home).
func DefaultHistoryFile() string {
	home, err := os.UserHomeDir()
	if err != nil || home == "" {
		return ""
	}
	return filepath.Join(home, ".meridian_history")
}

func (o *Options) setDefaults() {
	if o.Addr == "" {
		o.Addr = DefaultAddr
	}
	if o.User == "" {
		o.User = "root"
	}
	if o.Null == "" {
		o.Null = "NULL"
	}
	if o.In == nil {
		o.In = os.Stdin
	}
	if o.Out == nil {
		o.Out = os.Stdout
	}
	if o.Err == nil {
		o.Err = os.Stderr
	}
	if o.KillGrace <= 0 {
		o.KillGrace = 2 * time.Second
	}
	if o.ConnectTimeout <= 0 {
		o.ConnectTimeout = 10 * time.Second
	}
}

// Run connects to the server and runs the shell until \q, end of input, the
// end of the scripts, or ctx is done (noticed between statements; a
// running statement is cancelled). It returns ErrStatementFailed (wrapped
// with where) if a script statement failed, or the connection error.
// Interactive sessions return nil whatever their statements did.
func Run(ctx context.Context, opts Options) error {
	opts.setDefaults()
	cfg := mysql.NewConfig()
	cfg.User = opts.User
	cfg.Passwd = opts.Password
	cfg.Net = "tcp"
	cfg.Addr = opts.Addr
	cfg.DBName = opts.Database
	cfg.Timeout = opts.ConnectTimeout
	cfg.AllowNativePasswords = true
	connector, err := mysql.NewConnector(cfg)
	if err != nil {
		return err
	}
	db := sql.OpenDB(connector)
	defer db.Close()
	// One connection carries the session; one more may be opened to kill a
	// running statement.
	db.SetMaxIdleConns(2)

	interrupts := opts.Interrupts
	if interrupts == nil {
		ch := make(chan os.Signal, 1)
		signal.Notify(ch, os.Interrupt)
		defer signal.Stop(ch)
		interrupts = ch
	}
	s := &session{opts: opts, db: db, interrupts: interrupts, now: time.Now,
		out: opts.Out, print: printer{format: opts.Format, null: opts.Null}}
	if err := s.connect(ctx); err != nil {
		return fmt.Errorf("cannot connect to %s: %w", opts.Addr, err)
	}
	defer s.close()

	if len(opts.Scripts) > 0 || len(opts.Files) > 0 {
		return s.runBatch(ctx)
	}
	if opts.Interactive {
		return s.runInteractive(ctx)
	}
	return s.runReader(ctx, opts.In, "stdin")
}
