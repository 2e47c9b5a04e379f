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
	// Lease configures the catalog's schema leases.
	Lease catalog.Options
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
	procs   processList
	janitor *janitor
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
	if opts.Lease.Logger == nil {
		opts.Lease.Logger = opts.Logger
	}
	e := &Engine{opts: opts, Catalog: catalog.NewManagerWithOptions(opts.DB, opts.Lease)}
	e.autoInc = newAutoInc(opts.DB)
	e.janitor = newJanitor(opts.DB, opts.Logger)
	return e
}

// Bootstrap initialises the catalog of a new cluster (idempotent).
func (e *Engine) Bootstrap(ctx context.Context) error { return e.Catalog.Bootstrap(ctx) }

// Start runs the engine's background work (the schema lease loop); Close
// stops it. An engine that is not started renews leases when statements
// need them.
func (e *Engine) Start() {
	e.Catalog.Start()
	e.janitor.start()
}

// Close stops the engine's background work.
func (e *Engine) Close() {
	e.janitor.close()
	e.Catalog.Close()
}

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

// snapshot returns the current catalog (the node's leased version) for
// statements that run no transaction over it (SHOW, USE, DDL planning).
func (e *Engine) snapshot(ctx context.Context) (*catalog.Snapshot, error) {
	return e.Catalog.Current(ctx)
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
	// txLease is the explicit transaction's schema lease (nil for stale
	// ones); stmtLease the autocommit transaction's while a statement runs.
	txLease, stmtLease *catalog.Lease

	lastCommitTS truetime.Timestamp
	lastLedger   txn.Ledger
	lastInsertID int64
	warnings     []string
	rowCount     int64
	// naive plans every statement without optimisations (tests).
	naive bool
	// proc is the session's entry in the engine's process list (nil
	// until Register).
	proc *process
	// retrying is set while an autocommit statement runs under retry;
	// retryPriority is then its first transaction's wound-wait age.
	retrying      bool
	retryPriority int64
	// lostAge is the wound-wait age of the session's last explicit
	// transaction if a conflict aborted it, lostAt when (truetime.Mono):
	// the next read-write transaction begun soon after is most likely the
	// client's retry of it, and keeps its age (see beginLeased).
	lostAge int64
	lostAt  time.Duration
	// stmtCtx is the running statement's context (for SLEEP).
	stmtCtx context.Context
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

// Close rolls back any open transaction and removes the session from the
// process list.
func (s *Session) Close(ctx context.Context) {
	if s.tx != nil {
		_ = s.tx.Rollback(ctx)
		s.endTxn()
	}
	if s.proc != nil {
		s.e.procs.remove(s.proc)
		s.proc = nil
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
	ctx, done := s.startStatement(ctx, "Query", sqlText)
	defer done()
	res, err := s.execute(ctx, sqlText)
	if err = interrupted(ctx, err); err != nil {
		return nil, err
	}
	return res, nil
}

func (s *Session) execute(ctx context.Context, sqlText string) (*Result, error) {
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
	return &expr.Env{Params: params, Session: s, Now: s.e.opts.DB.Clock().Now().Latest, Ctx: s.stmtCtx}
}

func (s *Session) executeStmt(ctx context.Context, st ast.StmtNode, params []types.Value, prep *Prepared) (*Result, error) {
	s.warnings = s.warnings[:0]
	s.stmtCtx = ctx
	defer func() { s.stmtCtx = nil }()
	ctx = context.WithoutCancel(ctx) // see guard.go
	// SHOW LATENCY reports this statement's ledger: its transaction's if
	// it ran one, its share of the explicit transaction's if one is open
	// (the whole transaction's for COMMIT and ROLLBACK), else only its
	// duration.
	start := truetime.Mono()
	s.lastLedger = txn.Ledger{}
	txBefore := s.tx
	var before txn.Ledger
	if txBefore != nil {
		before = txBefore.Ledger()
	}
	defer func() {
		if s.tx != nil && s.lastLedger == (txn.Ledger{}) {
			l := s.tx.Ledger()
			if s.tx == txBefore {
				l = ledgerSince(l, before)
			}
			s.lastLedger = l
		}
		if s.lastLedger.Total == 0 {
			s.lastLedger.Total = truetime.Mono() - start
		}
	}()
	return s.dispatch(ctx, st, params, prep)
}

// ledgerSince returns what was added to a transaction's ledger since
// before (Ranges stays the transaction's count).
func ledgerSince(l, before txn.Ledger) txn.Ledger {
	l.Total -= before.Total
	l.Network -= before.Network
	l.LockWait -= before.LockWait
	l.Raft -= before.Raft
	l.Prepare -= before.Prepare
	l.CommitWait -= before.CommitWait
	l.SafeTimeWait -= before.SafeTimeWait
	l.AdmissionWait -= before.AdmissionWait
	l.Retries -= before.Retries
	l.RetryTime -= before.RetryTime
	return l
}

func (s *Session) dispatch(ctx context.Context, st ast.StmtNode, params []types.Value, prep *Prepared) (*Result, error) {
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
		*ast.LockTablesStmt, *ast.UnlockTablesStmt:
		return &Result{}, nil
	case *ast.KillStmt:
		return s.kill(st)
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
	tx, lease, err := s.beginLeased(ctx, opts)
	if err != nil {
		return nil, false, err
	}
	s.stmtLease = lease
	return tx, true, nil
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
			s.lost(s.tx)
			s.lastLedger = s.tx.Ledger()
			_ = s.tx.Rollback(ctx)
			s.endTxn()
		}
		return err
	}
	lease := s.stmtLease
	s.stmtLease = nil
	defer s.e.Catalog.Release(lease)
	if err == nil && lease != nil && tx.Mode() == txn.ReadWrite {
		err = s.e.Catalog.CheckCommit(lease, tx)
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

// endTxn forgets the explicit transaction (ended by the caller) and
// releases its lease.
func (s *Session) endTxn() {
	s.e.Catalog.Release(s.txLease)
	s.tx, s.txSnap, s.txFailed, s.txLease = nil, nil, nil, nil
}

// beginTxn starts an explicit transaction: a schema lease first (unless
// it is a stale one), then the transaction.
func (s *Session) beginTxn(ctx context.Context, opts txn.Options) error {
	tx, lease, err := s.beginLeased(ctx, opts)
	if err != nil {
		return err
	}
	s.tx, s.txLease, s.txFailed = tx, lease, nil
	s.txSnap = nil
	if lease != nil {
		s.txSnap = lease.Snapshot()
	}
	return nil
}

// beginLeased acquires a schema lease (except for stale transactions,
// which read the catalog as of their timestamp) and starts a transaction
// under it. A read-only transaction must read at a timestamp inside the
// lease.
func (s *Session) beginLeased(ctx context.Context, opts txn.Options) (txn.Txn, *catalog.Lease, error) {
	var lease *catalog.Lease
	if opts.Mode != txn.Stale {
		var err error
		if lease, err = s.e.Catalog.Acquire(ctx); err != nil {
			return nil, nil, err
		}
	}
	if opts.Mode == txn.ReadWrite {
		opts.LoadControl = true
		if opts.Priority == 0 {
			opts.Priority = s.retryPriority
		}
		if opts.Priority == 0 && s.lostAge != 0 && truetime.Mono()-s.lostAt < retryAgeFor {
			opts.Priority = s.lostAge
		}
		s.lostAge = 0
	}
	tx, err := s.e.opts.DB.Begin(ctx, opts)
	if err != nil {
		s.e.Catalog.Release(lease)
		return nil, nil, err
	}
	if p, ok := tx.(txn.Prioritized); ok && s.retryPriority == 0 && s.retrying {
		s.retryPriority = p.Priority()
	}
	if lease != nil && opts.Mode == txn.ReadOnly && tx.ReadTimestamp() >= lease.Expiry() {
		_ = tx.Rollback(ctx)
		s.e.Catalog.Release(lease)
		return nil, nil, &txn.RetryableError{Txn: tx.ID(), Reason: catalog.ErrLeaseExpired.Error()}
	}
	return tx, lease, nil
}

// retryAgeFor is how soon after a conflict aborted a session's explicit
// transaction its next one must begin to keep the lost one's age.
const retryAgeFor = time.Second

// lost remembers the age of an explicit transaction that a conflict
// aborted.
func (s *Session) lost(tx txn.Txn) {
	if p, ok := tx.(txn.Prioritized); ok {
		s.lostAge, s.lostAt = p.Priority(), truetime.Mono()
	}
}

// retry runs fn (a whole autocommit statement) again on retryable errors,
// while nothing has been sent to the client (results are materialised).
func (s *Session) retry(ctx context.Context, fn func() (*Result, error)) (*Result, error) {
	var err error
	var res *Result
	retries := 0
	var retryTime, begin = int64(0), truetime.Mono()
	inTxn := s.tx != nil
	// Attempts after the first keep the first one's wound-wait age, so a
	// statement that keeps losing conflicts grows old enough to win.
	s.retrying, s.retryPriority = !inTxn, 0
	defer func() { s.retrying, s.retryPriority = false, 0 }()
	for attempt := 0; attempt <= s.e.opts.MaxRetries; attempt++ {
		res, err = fn()
		if err == nil || inTxn || !txn.IsRetryable(err) || ctx.Err() != nil || (s.stmtCtx != nil && s.stmtCtx.Err() != nil) {
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
	if owned && s.stmtLease != nil {
		return s.stmtLease.Snapshot(), nil
	}
	// A stale transaction: the catalog as of its timestamp.
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
	return s.e.snapshot(ctx)
}

var errStale = errors.New("stale plan")
