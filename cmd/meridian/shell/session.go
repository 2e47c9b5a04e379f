package shell

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/go-sql-driver/mysql"
)

// session is one shell: the dedicated connection that carries the server
// session (USE, transactions, variables) and the display settings. All its
// methods run on Run's goroutine; only guard starts goroutines (the running
// statement, a KILL QUERY), and waits for them.
type session struct {
	opts       Options
	db         *sql.DB
	conn       *sql.Conn
	connID     int64  // the server's id for conn (CONNECTION_ID()); 0 if unknown
	database   string // the current database; "" for none
	interrupts <-chan os.Signal
	now        func() time.Time

	out      io.Writer // results go here; \o changes it
	outFile  *os.File  // the file \o opened, closed when replaced
	print    printer
	expanded bool // \x
	timing   bool // \timing
	// noLatency is set once SHOW LATENCY has failed with a server error:
	// the server does not have it, so \timing stops asking.
	noLatency bool
	depth     int // nesting of \i

	kills sync.WaitGroup // KILL QUERY goroutines
}

var (
	errQuit        = errors.New("quit")
	errInterrupted = errors.New("interrupted")
)

// connect takes a connection from the pool for the session and learns its
// id and database.
func (s *session) connect(ctx context.Context) error {
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return err
	}
	s.conn = conn
	s.connID = 0
	if err := conn.QueryRowContext(ctx, "SELECT CONNECTION_ID()").Scan(&s.connID); err != nil {
		s.connID = 0
	}
	if s.database == "" {
		s.database = s.opts.Database
	}
	s.refreshDatabase(ctx)
	return nil
}

// reconnect replaces a connection that was dropped (a cancelled statement,
// a server restart), restoring the current database.
func (s *session) reconnect(ctx context.Context) error {
	if s.conn != nil {
		s.conn.Close()
		s.conn = nil
	}
	db := s.database
	if err := s.connect(ctx); err != nil {
		fmt.Fprintf(s.opts.Err, "ERROR: reconnecting to %s: %v\n", s.opts.Addr, err)
		return err
	}
	if db != "" && s.database != db {
		if _, err := s.conn.ExecContext(ctx, "USE "+quoteIdent(db)); err == nil {
			s.database = db
		}
	}
	fmt.Fprintln(s.opts.Err, "The connection was reset: a transaction in progress and session variables are lost.")
	return nil
}

func (s *session) close() {
	s.kills.Wait()
	if s.conn != nil {
		s.conn.Close()
	}
	s.setOutput("")
}

// refreshDatabase asks the server for the current database (after USE or
// DROP DATABASE), keeping the old value if it cannot tell.
func (s *session) refreshDatabase(ctx context.Context) {
	var db sql.NullString
	if err := s.conn.QueryRowContext(ctx, "SELECT DATABASE()").Scan(&db); err == nil {
		s.database = db.String
	}
}

// connBroken reports whether err means the session's connection is gone.
func connBroken(err error) bool {
	return errors.Is(err, driver.ErrBadConn) || errors.Is(err, mysql.ErrInvalidConn) ||
		errors.Is(err, sql.ErrConnDone) || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)
}

// guard runs f, which uses the session's connection, and turns interrupts
// into cancellation: the first one sends KILL QUERY for the connection on
// a second connection; a second interrupt, or a KILL QUERY without effect
// within KillGrace, cancels f's context, which makes the driver drop the
// connection. An interrupt that arrived before f started cancels f before
// it runs. On return the connection is usable (reopened if it was dropped).
func (s *session) guard(ctx context.Context, f func(context.Context) error) error {
	select {
	case <-s.interrupts:
		return errInterrupted
	default:
	}
	qctx, cancel := context.WithCancel(ctx)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- f(qctx) }()
	var (
		grace    <-chan time.Time
		killed   bool
		dropped  bool
		graceTmr *time.Timer
	)
	defer func() {
		if graceTmr != nil {
			graceTmr.Stop()
		}
	}()
	for {
		select {
		case err := <-done:
			if err != nil && (dropped || connBroken(err)) && ctx.Err() == nil {
				if rerr := s.reconnect(ctx); rerr != nil {
					return errors.Join(err, rerr)
				}
			}
			if killed && err != nil && !isMySQLError(err) {
				return errInterrupted
			}
			return err
		case <-s.interrupts:
			if !killed && s.connID != 0 {
				killed = true
				s.kill(ctx, s.connID)
				graceTmr = time.NewTimer(s.opts.KillGrace)
				grace = graceTmr.C
				continue
			}
			killed, dropped = true, true
			cancel()
		case <-grace:
			dropped = true
			cancel()
		}
	}
}

// kill sends KILL QUERY id on another connection, in the background.
func (s *session) kill(ctx context.Context, id int64) {
	s.kills.Add(1)
	go func() {
		defer s.kills.Done()
		kctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.opts.KillGrace)
		defer cancel()
		stmt := fmt.Sprintf("KILL QUERY %d", id)
		if k := s.opts.Knobs.KillStatement; k != nil {
			stmt = k(id)
		}
		s.db.ExecContext(kctx, stmt)
	}()
}

func isMySQLError(err error) bool {
	var me *mysql.MySQLError
	return errors.As(err, &me)
}

// formatError renders err as the mysql client does:
// "ERROR 1146 (42S02): Table 'shop.x' doesn't exist".
func formatError(err error) string {
	var me *mysql.MySQLError
	switch {
	case errors.As(err, &me):
		if me.SQLState != [5]byte{} {
			return fmt.Sprintf("ERROR %d (%s): %s", me.Number, me.SQLState[:], me.Message)
		}
		return fmt.Sprintf("ERROR %d: %s", me.Number, me.Message)
	case errors.Is(err, errInterrupted):
		return "ERROR: cancelled by the user (Ctrl-C)"
	}
	return "ERROR: " + err.Error()
}

// returnsRows reports whether a statement starting with keyword kw is run
// as a query (its result set shown) rather than executed (rows affected).
func returnsRows(kw string) bool {
	switch kw {
	case "SELECT", "SHOW", "DESCRIBE", "DESC", "EXPLAIN", "WITH", "VALUES", "TABLE",
		"HELP", "CALL", "CHECK", "CHECKSUM", "ANALYZE", "OPTIMIZE", "REPAIR", "TRACE", "ADMIN":
		return true
	}
	return false
}

// query runs text on the session connection and reads every result set.
// A statement without columns gives no Result.
func (s *session) query(ctx context.Context, text string) ([]*Result, error) {
	rows, err := s.conn.QueryContext(ctx, text)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*Result
	for {
		res, err := readResult(rows)
		if err != nil {
			return nil, err
		}
		if res != nil {
			out = append(out, res)
		}
		if !rows.NextResultSet() {
			break
		}
	}
	return out, rows.Err()
}

func readResult(rows *sql.Rows) (*Result, error) {
	types, err := rows.ColumnTypes()
	if err != nil {
		return nil, err
	}
	if len(types) == 0 {
		for rows.Next() {
		}
		return nil, rows.Err()
	}
	res := &Result{Columns: make([]Column, len(types))}
	for i, t := range types {
		res.Columns[i] = Column{Name: t.Name(), Numeric: isNumericType(t.DatabaseTypeName())}
	}
	vals := make([]sql.NullString, len(types))
	ptrs := make([]any, len(types))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return nil, err
		}
		row := make([]Value, len(vals))
		for i, v := range vals {
			row[i] = Value{Text: v.String, Null: !v.Valid}
		}
		res.Rows = append(res.Rows, row)
	}
	return res, rows.Err()
}

func isNumericType(name string) bool {
	name = strings.ToUpper(name)
	for _, n := range []string{"INT", "DECIMAL", "FLOAT", "DOUBLE", "YEAR"} {
		if strings.Contains(name, n) {
			return true
		}
	}
	return false
}

// execStatement runs one SQL statement and shows its outcome.
func (s *session) execStatement(ctx context.Context, st Statement) error {
	kw := FirstKeyword(st.Text)
	var (
		results  []*Result
		affected int64
	)
	start := s.now()
	err := s.guard(ctx, func(qctx context.Context) error {
		if returnsRows(kw) {
			var err error
			results, err = s.query(qctx, st.Text)
			return err
		}
		r, err := s.conn.ExecContext(qctx, st.Text)
		if err == nil {
			affected, _ = r.RowsAffected()
		}
		return err
	})
	elapsed := s.now().Sub(start)
	if err != nil {
		fmt.Fprintln(s.opts.Err, formatError(err))
		return err
	}
	for _, res := range results {
		if err := s.print.write(s.out, res, s.expanded || st.Vertical); err != nil {
			return err
		}
	}
	if len(results) == 0 && s.print.format == FormatTable {
		if affected == 1 {
			fmt.Fprintln(s.out, "Query OK, 1 row affected")
		} else {
			fmt.Fprintf(s.out, "Query OK, %d rows affected\n", affected)
		}
	}
	if s.timing {
		fmt.Fprintf(s.out, "Time: %.3f ms\n", float64(elapsed.Nanoseconds())/1e6)
		s.printLatency(ctx)
	}
	if kw == "USE" || kw == "DROP" {
		s.refreshDatabase(ctx)
	}
	return nil
}

// printLatency shows the server's ledger of the last statement (SHOW
// LATENCY), if the server has one.
func (s *session) printLatency(ctx context.Context) {
	if s.noLatency {
		return
	}
	lctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	results, err := s.query(lctx, "SHOW LATENCY")
	if err != nil {
		s.noLatency = isMySQLError(err)
		return
	}
	for _, res := range results {
		if line := formatLedger(res); line != "" {
			fmt.Fprintln(s.out, line)
		}
	}
}

// formatLedger renders a SHOW LATENCY result on one line. One row: every
// column as name=value. Several rows: the first column names a component
// and the last holds its value.
func formatLedger(res *Result) string {
	var parts []string
	switch {
	case len(res.Rows) == 1:
		for i, c := range res.Columns {
			parts = append(parts, c.Name+"="+res.Rows[0][i].Text)
		}
	case len(res.Columns) >= 2:
		for _, r := range res.Rows {
			parts = append(parts, r[0].Text+"="+r[len(r)-1].Text)
		}
	default:
		for _, r := range res.Rows {
			parts = append(parts, r[0].Text)
		}
	}
	if len(parts) == 0 {
		return ""
	}
	return "Latency: " + strings.Join(parts, " ")
}

// setOutput sends results to path (\o FILE), or back to Out ("").
func (s *session) setOutput(path string) error {
	var f *os.File
	if path != "" {
		var err error
		if f, err = os.Create(path); err != nil {
			return err
		}
	}
	if s.outFile != nil {
		s.outFile.Close()
	}
	s.outFile = f
	if f != nil {
		s.out = f
	} else {
		s.out = s.opts.Out
	}
	return nil
}

// quoteIdent quotes a name with backticks.
func quoteIdent(name string) string {
	return "`" + strings.ReplaceAll(name, "`", "``") + "`"
}
