package session

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/pingcap/tidb/pkg/parser/ast"
	"github.com/pingcap/tidb/pkg/parser/test_driver"

	"github.com/meridiandb/meridian/sql/catalog"
	"github.com/meridiandb/meridian/sql/exec"
	"github.com/meridiandb/meridian/sql/expr"
	"github.com/meridiandb/meridian/sql/plan"
	"github.com/meridiandb/meridian/sql/types"
	"github.com/meridiandb/meridian/truetime"
	"github.com/meridiandb/meridian/txn"
)

func truetimeDuration(ns int64) time.Duration { return time.Duration(ns) }

// Prepared is a prepared statement: its AST and a cached plan, valid while
// the schema version and current database are unchanged.
type Prepared struct {
	SQL       string
	stmt      ast.StmtNode
	NumParams int
	// Columns of the result (for the prepare response); nil for non-queries.
	Columns []plan.Column

	version uint64
	db      string
	plan    plan.Node
	tables  int
	asOf    expr.Expr
}

// Prepare parses and plans a statement for repeated execution.
func (s *Session) Prepare(ctx context.Context, sqlText string) (*Prepared, error) {
	stmts, err := s.parse(sqlText)
	if err != nil {
		return nil, err
	}
	if len(stmts) != 1 {
		return nil, fmt.Errorf("can only prepare a single statement")
	}
	p := &Prepared{SQL: sqlText, stmt: stmts[0]}
	p.NumParams = countParams(stmts[0])
	switch st := stmts[0].(type) {
	case *ast.SelectStmt, *ast.SetOprStmt, *ast.InsertStmt, *ast.UpdateStmt, *ast.DeleteStmt:
		pp, err := s.planCurrent(ctx, st, p)
		if err != nil {
			return nil, err
		}
		p = pp
		if q, ok := p.plan.(plan.Node); ok && isQuery(st) {
			p.Columns = q.Schema()
		}
	}
	return p, nil
}

func isQuery(st ast.StmtNode) bool {
	switch st.(type) {
	case *ast.SelectStmt, *ast.SetOprStmt:
		return true
	}
	return false
}

type paramCounter struct {
	markers []*test_driver.ParamMarkerExpr
}

func (c *paramCounter) Enter(n ast.Node) (ast.Node, bool) {
	if m, ok := n.(*test_driver.ParamMarkerExpr); ok {
		c.markers = append(c.markers, m)
	}
	return n, false
}
func (c *paramCounter) Leave(n ast.Node) (ast.Node, bool) { return n, true }

// countParams numbers the ? markers of st in text order (the parser
// leaves their Order unset) and returns how many there are.
func countParams(st ast.StmtNode) int {
	c := &paramCounter{}
	st.Accept(c)
	sort.SliceStable(c.markers, func(i, j int) bool { return c.markers[i].Offset < c.markers[j].Offset })
	for i, m := range c.markers {
		m.SetOrder(i)
	}
	return len(c.markers)
}

func (s *Session) planPrepared(snap *catalog.Snapshot, p *Prepared) error {
	b := s.builder(snap)
	var n plan.Node
	var err error
	switch st := p.stmt.(type) {
	case *ast.SelectStmt, *ast.SetOprStmt:
		n, err = b.BuildQuery(st.(ast.ResultSetNode))
	case *ast.InsertStmt:
		n, err = b.BuildInsert(st)
	case *ast.UpdateStmt:
		n, err = b.BuildUpdate(st)
	case *ast.DeleteStmt:
		n, err = b.BuildDelete(st)
	default:
		return fmt.Errorf("cannot plan %T", st)
	}
	if err != nil {
		return err
	}
	p.plan, p.version, p.db, p.tables, p.asOf = n, snap.Version, s.db, len(b.Tables), b.AsOf
	return nil
}

// ExecutePrepared runs a prepared statement with arguments.
func (s *Session) ExecutePrepared(ctx context.Context, p *Prepared, args []types.Value) (*Result, error) {
	if len(args) != p.NumParams {
		return nil, fmt.Errorf("Incorrect arguments to mysqld_stmt_execute")
	}
	ctx, done := s.startStatement(ctx, "Execute", p.SQL)
	defer done()
	prep := p
	if p.plan == nil {
		prep = nil
	}
	res, err := s.executeStmt(ctx, p.stmt, args, prep)
	if err = interrupted(ctx, err); err != nil {
		return nil, err
	}
	return res, nil
}

// planCurrent plans st with the node's cached catalog, falling back to a
// fresh read of the catalog if that fails (the cache may be behind).
func (s *Session) planCurrent(ctx context.Context, st ast.StmtNode, prep *Prepared) (*Prepared, error) {
	snap, err := s.currentSnap(ctx)
	if err != nil {
		return nil, err
	}
	p, err := s.planFor(snap, st, prep)
	if err == nil || s.txSnap != nil {
		return p, err
	}
	if snap, err = s.e.snapshot(ctx); err != nil {
		return nil, err
	}
	return s.planFor(snap, st, prep)
}

// planFor returns a plan for st valid under snap, reusing prep's.
func (s *Session) planFor(snap *catalog.Snapshot, st ast.StmtNode, prep *Prepared) (*Prepared, error) {
	if prep != nil && prep.version == snap.Version && prep.db == s.db {
		return prep, nil
	}
	p := &Prepared{stmt: st}
	if prep != nil {
		p = prep
	}
	if err := s.planPrepared(snap, p); err != nil {
		return nil, err
	}
	return p, nil
}

func (s *Session) evalAsOf(e expr.Expr, params []types.Value) (truetime.Timestamp, error) {
	v, err := e.Eval(s.env(params), nil)
	if err != nil {
		return 0, err
	}
	if v.K == types.KInt {
		return truetime.Timestamp(v.I), nil
	}
	t, err := types.T{Name: types.TDatetime}.Coerce(v)
	if err != nil {
		return 0, fmt.Errorf("invalid AS OF TIMESTAMP value %s", v)
	}
	return truetime.Timestamp(t.I * 1000), nil
}

// runQuery runs a SELECT / UNION.
func (s *Session) runQuery(ctx context.Context, st ast.StmtNode, params []types.Value, prep *Prepared) (*Result, error) {
	p, err := s.planCurrent(ctx, st, prep)
	if err != nil {
		return nil, err
	}
	forUpdate := false
	if sel, ok := st.(*ast.SelectStmt); ok && sel.LockInfo != nil && sel.LockInfo.LockType != ast.SelectLockNone {
		forUpdate = true
	}
	if p.tables == 0 {
		// No table: no transaction (SELECT @@var, SELECT 1, information_schema).
		c := &exec.Ctx{Ctx: ctx, Env: s.env(params)}
		c.Env.Runner = c
		rows, err := c.Run(p.plan)
		if err != nil {
			return nil, err
		}
		return &Result{Columns: p.plan.Schema(), Rows: rows}, nil
	}
	var asOf truetime.Timestamp
	if p.asOf != nil {
		if asOf, err = s.evalAsOf(p.asOf, params); err != nil {
			return nil, err
		}
	}
	return s.retry(ctx, func() (*Result, error) {
		tx, owned, err := s.txnFor(ctx, forUpdate, asOf)
		if err != nil {
			return nil, err
		}
		res, err := s.query(ctx, tx, owned, st, p, params)
		return res, s.finish(ctx, tx, owned, err)
	})
}

func (s *Session) query(ctx context.Context, tx txn.Txn, owned bool, st ast.StmtNode, p *Prepared, params []types.Value) (*Result, error) {
	snap, err := s.snapFor(ctx, tx, owned)
	if err != nil {
		return nil, err
	}
	if p, err = s.planFor(snap, st, p); err != nil {
		return nil, err
	}
	c := &exec.Ctx{Ctx: ctx, Txn: s.guard(tx), Env: s.env(params), AutoInc: s.e.autoInc}
	c.Env.Runner = c
	rows, err := c.Run(p.plan)
	if err != nil {
		return nil, err
	}
	return &Result{Columns: p.plan.Schema(), Rows: rows}, nil
}

// runDML runs INSERT / REPLACE / UPDATE / DELETE.
func (s *Session) runDML(ctx context.Context, st ast.StmtNode, params []types.Value, prep *Prepared) (*Result, error) {
	return s.retry(ctx, func() (*Result, error) {
		tx, owned, err := s.txnFor(ctx, true, 0)
		if err != nil {
			return nil, err
		}
		res, err := s.dml(ctx, tx, owned, st, prep, params)
		err = s.finish(ctx, tx, owned, err)
		if err != nil {
			return nil, err
		}
		return res, nil
	})
}

func (s *Session) dml(ctx context.Context, tx txn.Txn, owned bool, st ast.StmtNode, prep *Prepared, params []types.Value) (*Result, error) {
	snap, err := s.snapFor(ctx, tx, owned)
	if err != nil {
		return nil, err
	}
	p, err := s.planFor(snap, st, prep)
	if err != nil {
		return nil, err
	}
	var journal *exec.Journal
	if !owned {
		// Inside an explicit transaction a failed statement is undone,
		// not the transaction (Undo does not go through the guard: it
		// must run even when the statement was killed).
		journal = exec.NewJournal(tx)
		tx = journal
	}
	tx = s.guard(tx)
	res, err := s.runDMLPlan(ctx, tx, p, params)
	if err != nil && journal != nil && !txn.IsRetryable(err) {
		if uerr := journal.Undo(ctx); uerr != nil {
			s.txFailed = fmt.Errorf("statement could not be undone (%v) after: %w", uerr, err)
		}
	}
	return res, err
}

func (s *Session) runDMLPlan(ctx context.Context, tx txn.Txn, p *Prepared, params []types.Value) (*Result, error) {
	c := &exec.Ctx{Ctx: ctx, Txn: tx, Env: s.env(params), AutoInc: s.e.autoInc}
	c.Env.Runner = c
	res := &Result{}
	switch n := p.plan.(type) {
	case *plan.Insert:
		affected, err := c.ExecInsert(n)
		if err != nil {
			return nil, err
		}
		res.AffectedRows = uint64(affected)
		if c.LastInsertID != 0 {
			s.lastInsertID = c.LastInsertID
			res.InsertID = uint64(c.LastInsertID)
		}
	case *plan.Update:
		changed, matched, err := c.ExecUpdate(n)
		if err != nil {
			return nil, err
		}
		res.AffectedRows = uint64(changed)
		res.Info = fmt.Sprintf("Rows matched: %d  Changed: %d  Warnings: 0", matched, changed)
	case *plan.Delete:
		cnt, err := c.ExecDelete(n)
		if err != nil {
			return nil, err
		}
		res.AffectedRows = uint64(cnt)
	}
	return res, nil
}

// begin starts an explicit transaction (BEGIN / START TRANSACTION [READ
// ONLY [AS OF TIMESTAMP …]]).
func (s *Session) begin(ctx context.Context, st *ast.BeginStmt) (*Result, error) {
	if err := s.implicitCommit(ctx); err != nil {
		return nil, err
	}
	opts := txn.Options{LockTimeout: s.lockTimeout()}
	if st.ReadOnly {
		opts.Mode = txn.ReadOnly
		if st.AsOf != nil {
			b := s.builder(nil)
			e, err := compileConst(b, st.AsOf.TsExpr)
			if err != nil {
				return nil, err
			}
			ts, err := s.evalAsOf(e, nil)
			if err != nil {
				return nil, err
			}
			opts = txn.Options{Mode: txn.Stale, ReadTimestamp: ts}
		}
	}
	if err := s.beginTxn(ctx, opts); err != nil {
		return nil, err
	}
	return &Result{}, nil
}

func (s *Session) implicitCommit(ctx context.Context) error {
	if s.tx == nil {
		return nil
	}
	return s.commit(ctx)
}

func (s *Session) commit(ctx context.Context) error {
	if s.tx == nil {
		return nil
	}
	tx, lease, failed := s.tx, s.txLease, s.txFailed
	s.txLease = nil // released below
	s.endTxn()
	defer s.e.Catalog.Release(lease)
	if failed != nil {
		_ = tx.Rollback(ctx)
		s.lastLedger = tx.Ledger()
		return failed
	}
	if lease != nil && tx.Mode() == txn.ReadWrite {
		if err := s.e.Catalog.CheckCommit(lease, tx); err != nil {
			_ = tx.Rollback(ctx)
			s.lastLedger = tx.Ledger()
			return err
		}
	}
	ts, err := tx.Commit(ctx)
	s.lastLedger = tx.Ledger()
	if err != nil {
		_ = tx.Rollback(ctx)
		if txn.IsRetryable(err) {
			s.lost(tx)
		}
		return err
	}
	s.lastCommitTS = ts
	return nil
}

func (s *Session) rollback(ctx context.Context) {
	if s.tx != nil {
		_ = s.tx.Rollback(ctx)
		s.lastLedger = s.tx.Ledger()
		s.endTxn()
	}
}

// startImplicit opens a transaction when autocommit is off.
func (s *Session) startImplicit(ctx context.Context) error {
	if s.autocommit || s.tx != nil {
		return nil
	}
	return s.beginTxn(ctx, txn.Options{LockTimeout: s.lockTimeout()})
}

// explain runs EXPLAIN [ANALYZE].
func (s *Session) explain(ctx context.Context, st *ast.ExplainStmt, params []types.Value) (*Result, error) {
	if sh, ok := st.Stmt.(*ast.ShowStmt); ok {
		return s.show(ctx, sh) // DESCRIBE t
	}
	snap, err := s.e.snapshot(ctx)
	if err != nil {
		return nil, err
	}
	if s.txSnap != nil {
		snap = s.txSnap
	}
	p, err := s.planFor(snap, st.Stmt, nil)
	if err != nil {
		return nil, err
	}
	cols := []plan.Column{{Name: "id", Type: types.T{Name: types.TVarchar, Len: 255}}}
	if !st.Analyze {
		res := &Result{Columns: cols}
		for _, l := range plan.Explain(p.plan, nil) {
			res.Rows = append(res.Rows, []types.Value{types.NewString(l)})
		}
		return res, nil
	}
	stats := map[plan.Node]*exec.Stats{}
	write := !isQuery(st.Stmt)
	_, err = s.retry(ctx, func() (*Result, error) {
		clear(stats)
		tx, owned, err := s.txnFor(ctx, write, 0)
		if err != nil {
			return nil, err
		}
		c := &exec.Ctx{Ctx: ctx, Txn: s.guard(tx), Env: s.env(params), AutoInc: s.e.autoInc, Stats: stats}
		c.Env.Runner = c
		switch n := p.plan.(type) {
		case *plan.Insert:
			_, err = c.ExecInsert(n)
		case *plan.Update:
			_, _, err = c.ExecUpdate(n)
		case *plan.Delete:
			_, err = c.ExecDelete(n)
		default:
			_, err = c.Run(n)
		}
		return nil, s.finish(ctx, tx, owned, err)
	})
	if err != nil {
		return nil, err
	}
	res := &Result{Columns: cols}
	lines := plan.Explain(p.plan, func(n plan.Node) string {
		st := stats[n]
		if st == nil {
			return "(never executed)"
		}
		return fmt.Sprintf("(actRows:%d loops:%d time:%s)", st.Rows, st.Loops, st.Time.Round(time.Microsecond))
	})
	for _, l := range lines {
		res.Rows = append(res.Rows, []types.Value{types.NewString(l)})
	}
	l := s.lastLedger
	res.Rows = append(res.Rows, []types.Value{types.NewString(fmt.Sprintf(
		"ledger: total:%s lock_wait:%s commit_wait:%s raft:%s network:%s retries:%d ranges:%d",
		l.Total.Round(time.Microsecond), l.LockWait.Round(time.Microsecond), l.CommitWait.Round(time.Microsecond),
		l.Raft.Round(time.Microsecond), l.Network.Round(time.Microsecond), l.Retries, l.Ranges))})
	return res, nil
}

func compileConst(b *plan.Builder, e ast.ExprNode) (expr.Expr, error) {
	return b.CompileConst(e)
}

var _ = strings.ToLower
