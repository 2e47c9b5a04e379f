package session

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync/atomic"
	"time"

	"github.com/pingcap/tidb/pkg/parser"
	"github.com/pingcap/tidb/pkg/parser/ast"
	_ "github.com/pingcap/tidb/pkg/parser/test_driver" // parser literals

	"github.com/meridiandb/meridian/sql"
	"github.com/meridiandb/meridian/sql/catalog"
	"github.com/meridiandb/meridian/sql/expr"
	"github.com/meridiandb/meridian/sql/plan"
	"github.com/meridiandb/meridian/sql/types"
	"github.com/meridiandb/meridian/truetime"
	"github.com/meridiandb/meridian/txn"
)

// EngineOptions configure an Engine.
type EngineOptions struct {
	DB      txn.DB      // required
	Cluster sql.Cluster // required
	Logger  *slog.Logger
	// MaxRetries bounds the internal retries of autocommit statements that
	// hit retryable conflicts. Default 10.
	MaxRetries int
	// Version is reported as @@version. Default "8.0.11-Meridian".
	Version string
	// Knobs are testing hooks.
	Knobs TestingKnobs
}

// TestingKnobs are hooks for tests.
type TestingKnobs struct {
	// BeforeBackfillBatch, if set, is called before each ADD INDEX
	// backfill batch (outside any transaction).
	BeforeBackfillBatch func()
	// BackfillBatchSize overrides the backfill batch size (default 500).
	BackfillBatchSize int
}

// Engine is the per-node SQL state shared by sessions: the catalog cache
// and the auto-increment allocator. Safe for concurrent use.
type Engine struct {
	opts    EngineOptions
	Catalog *catalog.Manager
	autoInc *autoInc
	nextID  atomic.Uint32
}

// NewEngine returns an engine; call Bootstrap before serving.
func NewEngine(opts EngineOptions) *Engine {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.MaxRetries == 0 {
		opts.MaxRetries = 10
	}
	if opts.Version == "" {
		opts.Version = "8.0.11-Meridian"
	}
	e := &Engine{opts: opts, Catalog: catalog.NewManager(opts.DB)}
	e.autoInc = newAutoInc(opts.DB)
	return e
}

// Bootstrap initialises the catalog of a new cluster (idempotent).
func (e *Engine) Bootstrap(ctx context.Context) error { return e.Catalog.Bootstrap(ctx) }

// CheckPassword returns the password of user (for the wire handshake).
func (e *Engine) CheckPassword(ctx context.Context, user string) (password string, found bool, err error) {
	snap, err := e.snapshot(ctx)
	if err != nil {
		return "", false, err
	}
	u := snap.Users[user]
	if u == nil {
		return "", false, nil
	}
	return u.Password, true, nil
}

// snapshot reads the current catalog in a read-only transaction.
func (e *Engine) snapshot(ctx context.Context) (*catalog.Snapshot, error) {
	tx, err := e.opts.DB.Begin(ctx, txn.Options{Mode: txn.ReadOnly})
	if err != nil {
		return nil, err
	}
	defer func() { _ = tx.Rollback(ctx) }()
	return e.Catalog.Get(ctx, tx)
}

// Result is the outcome of one statement.
type Result struct {
	Columns      []plan.Column
	Rows         [][]types.Value
	AffectedRows uint64
	InsertID     uint64
	// Info is the OK packet's info (e.g. "Rows matched: 1 Changed: 1").
	Info string
}

// Session is one client connection's SQL state. Not safe for concurrent
// use: the connection goroutine owns it.
type Session struct {
	e      *Engine
	p      *parser.Parser
	user   string
	connID uint32
	db     string
	vars   map[string]types.Value
	uvars  map[string]types.Value

	autocommit bool
	// tx is the explicit transaction (BEGIN, or autocommit=0), or nil.
	tx       txn.Txn
	txSnap   *catalog.Snapshot
	txFailed error

	lastCommitTS truetime.Timestamp
	lastLedger   txn.Ledger
	lastInsertID int64
	warnings     []string
	rowCount     int64
	// naive plans every statement without optimisations (tests).
	naive bool
}

// SetNaivePlans makes the session plan without optimisations (full scans,
// nested loops): the reference side of the planner's differential test.
func (s *Session) SetNaivePlans(on bool) { s.naive = on }

// NewSession starts a session for an authenticated user.
func (e *Engine) NewSession(user string) *Session {
	s := &Session{e: e, p: parser.New(), user: user, connID: e.nextID.Add(1), autocommit: true,
		vars: map[string]types.Value{}, uvars: map[string]types.Value{}}
	return s
}

// ConnectionID returns the session's connection ID.
func (s *Session) ConnectionID() uint32 { return s.connID }

// SetConnectionID overrides the connection ID (the wire server's).
func (s *Session) SetConnectionID(id uint32) { s.connID = id }

// CurrentDB returns the current database ("" if none).
func (s *Session) CurrentDB() string { return s.db }

// User returns the session's user.
func (s *Session) User() string { return s.user }

// LastInsertID returns LAST_INSERT_ID().
func (s *Session) LastInsertID() int64 { return s.lastInsertID }

// InTransaction reports whether an explicit transaction is open.
func (s *Session) InTransaction() bool { return s.tx != nil }

// Autocommit reports the autocommit mode.
func (s *Session) Autocommit() bool { return s.autocommit }

// LastCommitTS returns the timestamp of the session's last transaction
// (commit timestamp, or read timestamp for read-only ones).
func (s *Session) LastCommitTS() truetime.Timestamp { return s.lastCommitTS }

// UserVar implements expr.Session.
func (s *Session) UserVar(name string) types.Value { return s.uvars[name] }

// Close rolls back any open transaction.
func (s *Session) Close(ctx context.Context) {
	if s.tx != nil {
		_ = s.tx.Rollback(ctx)
		s.tx = nil
	}
}

// ParseError is a syntax error (MySQL 1064).
type ParseError struct{ Err error }

func (e *ParseError) Error() string { return e.Err.Error() }

// Execute runs one or more ;-separated statements and returns the result
// of the last one.
func (s *Session) Execute(ctx context.Context, sqlText string) (*Result, error) {
	if r, ok, err := s.meridianShow(ctx, sqlText); ok {
		return r, err
	}
	stmts, err := s.parse(sqlText)
	if err != nil {
		return nil, err
	}
	if len(stmts) == 0 {
		return &Result{}, nil
	}
	var res *Result
	for _, st := range stmts {
		if res, err = s.executeStmt(ctx, st, nil, nil); err != nil {
			return nil, err
		}
	}
	return res, nil
}

// parse parses sqlText. The parser's literal driver panics on some inputs
// (e.g. decimals beyond its test implementation's range); those become
// syntax errors.
func (s *Session) parse(sqlText string) (stmts []ast.StmtNode, err error) {
	defer func() {
		if r := recover(); r != nil {
			s.p = parser.New() // its state is unknown after a panic
			stmts, err = nil, &ParseError{Err: fmt.Errorf("near %.40q: %v", sqlText, r)}
		}
	}()
	stmts, _, err = s.p.Parse(sqlText, "", "")
	if err != nil {
		return nil, &ParseError{Err: err}
	}
	return stmts, nil
}

// env builds an evaluation environment.
func (s *Session) env(params []types.Value) *expr.Env {
	return &expr.Env{Params: params, Session: s, Now: s.e.opts.DB.Clock().Now().Latest}
}

func (s *Session) executeStmt(ctx context.Context, st ast.StmtNode, params []types.Value, prep *Prepared) (*Result, error) {
	s.warnings = s.warnings[:0]
	switch st := st.(type) {
	case *ast.SelectStmt, *ast.SetOprStmt:
		if err := s.startImplicit(ctx); err != nil {
			return nil, err
		}
		return s.runQuery(ctx, st, params, prep)
	case *ast.InsertStmt, *ast.UpdateStmt, *ast.DeleteStmt:
		if err := s.startImplicit(ctx); err != nil {
			return nil, err
		}
		return s.runDML(ctx, st, params, prep)
	case *ast.BeginStmt:
		return s.begin(ctx, st)
	case *ast.CommitStmt:
		return &Result{}, s.commit(ctx)
	case *ast.RollbackStmt:
		s.rollback(ctx)
		return &Result{}, nil
	case *ast.SetStmt:
		return s.set(ctx, st)
	case *ast.UseStmt:
		return &Result{}, s.Use(ctx, st.DBName)
	case *ast.ShowStmt:
		return s.show(ctx, st)
	case *ast.ExplainStmt:
		return s.explain(ctx, st, params)
	case *ast.SplitRegionStmt:
		return s.split(ctx, st)
	case ast.DDLNode:
		if err := s.implicitCommit(ctx); err != nil {
			return nil, err
		}
		return s.ddl(ctx, st)
	case *ast.CreateUserStmt, *ast.AlterUserStmt, *ast.DropUserStmt:
		if err := s.implicitCommit(ctx); err != nil {
			return nil, err
		}
		return s.users(ctx, st)
	case *ast.GrantStmt, *ast.RevokeStmt, *ast.FlushStmt, *ast.AnalyzeTableStmt, *ast.DoStmt,
		*ast.LockTablesStmt, *ast.UnlockTablesStmt, *ast.KillStmt:
		return &Result{}, nil
	}
	return nil, &plan.UnsupportedError{What: fmt.Sprintf("statement %T", st)}
}

// Use sets the current database (USE, COM_INIT_DB).
func (s *Session) Use(ctx context.Context, db string) error {
	if strings.EqualFold(db, "information_schema") {
		s.db = "information_schema"
		return nil
	}
	snap, err := s.e.snapshot(ctx)
	if err != nil {
		return err
	}
	d := snap.Database(db)
	if d == nil {
		return &UnknownDBError{DB: db}
	}
	s.db = d.Name
	return nil
}

// UnknownDBError is MySQL 1049.
type UnknownDBError struct{ DB string }

func (e *UnknownDBError) Error() string { return fmt.Sprintf("Unknown database '%s'", e.DB) }

// txnFor returns the transaction a statement runs in: the explicit one, or
// a new autocommit one (owned reports the latter).
func (s *Session) txnFor(ctx context.Context, write bool, asOf truetime.Timestamp) (tx txn.Txn, owned bool, err error) {
	if s.tx != nil {
		if s.txFailed != nil {
			return nil, false, s.txFailed
		}
		if asOf != 0 {
			return nil, false, fmt.Errorf("AS OF TIMESTAMP is not allowed inside a read-write transaction")
		}
		if write && s.tx.Mode() != txn.ReadWrite {
			return nil, false, &ReadOnlyTxnError{}
		}
		return s.tx, false, nil
	}
	opts := txn.Options{Mode: txn.ReadOnly, LockTimeout: s.lockTimeout()}
	if write {
		opts.Mode = txn.ReadWrite
	}
	if asOf != 0 {
		opts = txn.Options{Mode: txn.Stale, ReadTimestamp: asOf}
	}
	tx, err = s.e.opts.DB.Begin(ctx, opts)
	return tx, true, err
}

// lockTimeout is the session's innodb_lock_wait_timeout if it set one
// (seconds), else zero (the transaction layer's default).
func (s *Session) lockTimeout() time.Duration {
	v, ok := s.vars["innodb_lock_wait_timeout"]
	if !ok {
		return 0
	}
	f, err := types.ToFloat(v)
	if err != nil || f <= 0 {
		return 0
	}
	return time.Duration(f * float64(time.Second))
}

// ReadOnlyTxnError is MySQL 1792.
type ReadOnlyTxnError struct{}

func (e *ReadOnlyTxnError) Error() string {
	return "Cannot execute statement in a READ ONLY transaction."
}

// finish commits (or on error rolls back) an autocommit transaction.
func (s *Session) finish(ctx context.Context, tx txn.Txn, owned bool, err error) error {
	if !owned {
		if err != nil && txn.IsRetryable(err) && s.tx != nil {
			// The transaction is aborted; MySQL rolls it back on deadlock.
			s.lastLedger = s.tx.Ledger()
			_ = s.tx.Rollback(ctx)
			s.tx, s.txSnap = nil, nil
		}
		return err
	}
	if err != nil {
		_ = tx.Rollback(ctx)
		s.lastLedger = tx.Ledger()
		return err
	}
	ts, err := tx.Commit(ctx)
	s.lastLedger = tx.Ledger()
	if err != nil {
		return err
	}
	s.lastCommitTS = ts
	return nil
}

// retry runs fn (a whole autocommit statement) again on retryable errors,
// while nothing has been sent to the client (results are materialised).
func (s *Session) retry(ctx context.Context, fn func() (*Result, error)) (*Result, error) {
	var err error
	var res *Result
	retries := 0
	var retryTime, begin = int64(0), truetime.Mono()
	inTxn := s.tx != nil
	for attempt := 0; attempt <= s.e.opts.MaxRetries; attempt++ {
		res, err = fn()
		if err == nil || inTxn || !txn.IsRetryable(err) || ctx.Err() != nil {
			break
		}
		retries++
		retryTime = int64(truetime.Mono() - begin)
	}
	s.lastLedger.Retries += retries
	s.lastLedger.RetryTime += truetimeDuration(retryTime)
	return res, err
}

// snapFor returns the catalog for tx (the explicit transaction's is read
// once, at its first statement).
func (s *Session) snapFor(ctx context.Context, tx txn.Txn, owned bool) (*catalog.Snapshot, error) {
	if !owned && s.txSnap != nil {
		return s.txSnap, nil
	}
	snap, err := s.e.Catalog.Get(ctx, tx)
	if err != nil {
		return nil, err
	}
	if !owned {
		s.txSnap = snap
	}
	return snap, nil
}

func (s *Session) builder(snap *catalog.Snapshot) *plan.Builder {
	return &plan.Builder{Snap: snap, DB: s.db, Virtual: s.virtualTable(snap), Naive: s.naive}
}

// currentSnap returns a catalog snapshot for planning before a
// transaction exists: the node's cache, else a fresh read.
func (s *Session) currentSnap(ctx context.Context) (*catalog.Snapshot, error) {
	if s.txSnap != nil {
		return s.txSnap, nil
	}
	if c := s.e.Catalog.Cached(); c != nil {
		return c, nil
	}
	return s.e.snapshot(ctx)
}

var errStale = errors.New("stale plan")
