package session

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/pingcap/tidb/pkg/parser/ast"

	"github.com/meridiandb/meridian/sql/plan"
	"github.com/meridiandb/meridian/sql/types"
	"github.com/meridiandb/meridian/truetime"
)

// ErrQueryInterrupted is MySQL 1317: the statement was cancelled by KILL
// QUERY (or KILL of its connection).
var ErrQueryInterrupted = errors.New("Query execution was interrupted")

// ErrClientGone cancels a statement whose client closed its connection.
var ErrClientGone = errors.New("the client closed the connection")

// UnknownThreadError is MySQL 1094 (KILL of a connection that does not
// exist on this node).
type UnknownThreadError struct{ ID uint64 }

func (e *UnknownThreadError) Error() string { return fmt.Sprintf("Unknown thread id: %d", e.ID) }

// process is one registered connection, as SHOW PROCESSLIST lists it and
// KILL reaches it. Its fields other than mu are set before it is
// registered and never change.
type process struct {
	id        uint32
	user      string
	host      string
	closeConn func()
	mu        struct {
		sync.Mutex
		db      string
		command string // "Sleep", "Query", "Execute"
		info    string // the running statement's text
		since   time.Duration
		// cancel cancels the running statement, nil between statements.
		cancel context.CancelCauseFunc
	}
}

// processList is an Engine's registry of connections.
type processList struct {
	mu sync.Mutex
	m  map[uint32]*process
}

func (l *processList) add(p *process) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.m == nil {
		l.m = map[uint32]*process{}
	}
	l.m[p.id] = p
}

func (l *processList) remove(p *process) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.m[p.id] == p {
		delete(l.m, p.id)
	}
}

func (l *processList) get(id uint32) *process {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.m[id]
}

func (l *processList) all() []*process {
	l.mu.Lock()
	out := make([]*process, 0, len(l.m))
	for _, p := range l.m {
		out = append(out, p)
	}
	l.mu.Unlock()
	sort.Slice(out, func(i, j int) bool { return out[i].id < out[j].id })
	return out
}

// Register lists the session in SHOW PROCESSLIST and makes it reachable by
// KILL: host is the client's address, closeConn ends the connection (KILL
// CONNECTION). Close unregisters it. Call it once, after
// SetConnectionID.
func (s *Session) Register(host string, closeConn func()) {
	p := &process{id: s.connID, user: s.user, host: host, closeConn: closeConn}
	p.mu.command, p.mu.since, p.mu.db = "Sleep", truetime.Mono(), s.db
	s.proc = p
	s.e.procs.add(p)
}

// Cancel cancels the statement the session is running, if any, with
// cause (ErrQueryInterrupted if nil). Unlike the other methods it may be
// called from any goroutine: the wire server calls it when the client
// goes away, KILL QUERY from another session.
func (s *Session) Cancel(cause error) { s.proc.cancelStatement(cause) }

func (p *process) cancelStatement(cause error) {
	if p == nil {
		return
	}
	if cause == nil {
		cause = ErrQueryInterrupted
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.mu.cancel != nil {
		p.mu.cancel(cause)
	}
}

// startStatement marks the session busy with a statement and returns the
// statement's context, which KILL QUERY cancels; done marks it idle again.
func (s *Session) startStatement(ctx context.Context, command, info string) (context.Context, func()) {
	p := s.proc
	if p == nil {
		return ctx, func() {}
	}
	sctx, cancel := context.WithCancelCause(ctx)
	p.mu.Lock()
	p.mu.command, p.mu.info, p.mu.since, p.mu.cancel = command, info, truetime.Mono(), cancel
	p.mu.Unlock()
	return sctx, func() {
		p.mu.Lock()
		p.mu.command, p.mu.info, p.mu.since, p.mu.cancel, p.mu.db = "Sleep", "", truetime.Mono(), nil, s.db
		p.mu.Unlock()
		cancel(nil)
	}
}

// interrupted maps the outcome of a statement whose context was cancelled
// by KILL to ErrQueryInterrupted, as MySQL reports it (even when the
// statement itself ended without an error, e.g. SLEEP returning 1).
func interrupted(ctx context.Context, err error) error {
	if ctx.Err() == nil {
		return err
	}
	if c := context.Cause(ctx); errors.Is(c, ErrQueryInterrupted) {
		return ErrQueryInterrupted
	}
	return err
}

// kill runs KILL [QUERY | CONNECTION] id.
func (s *Session) kill(st *ast.KillStmt) (*Result, error) {
	id := st.ConnectionID
	if st.Expr != nil {
		e, err := compileConst(s.builder(nil), st.Expr)
		if err != nil {
			return nil, err
		}
		v, err := e.Eval(s.env(nil), nil)
		if err != nil {
			return nil, err
		}
		i, err := types.ToInt(v)
		if err != nil || i < 0 {
			return nil, &UnknownThreadError{ID: uint64(i)}
		}
		id = uint64(i)
	}
	p := s.e.procs.get(uint32(id))
	if p == nil || uint64(p.id) != id {
		return nil, &UnknownThreadError{ID: id}
	}
	p.cancelStatement(ErrQueryInterrupted)
	if !st.Query && p.closeConn != nil {
		p.closeConn()
	}
	return &Result{}, nil
}

// showProcessList lists this node's connections (SHOW [FULL] PROCESSLIST).
func (s *Session) showProcessList(full bool) *Result {
	res := &Result{Columns: []plan.Column{
		{Name: "Id", Type: types.T{Name: types.TBigInt}},
		{Name: "User", Type: types.T{Name: types.TVarchar, Len: 32}},
		{Name: "Host", Type: types.T{Name: types.TVarchar, Len: 64}},
		{Name: "db", Type: types.T{Name: types.TVarchar, Len: 64}},
		{Name: "Command", Type: types.T{Name: types.TVarchar, Len: 16}},
		{Name: "Time", Type: types.T{Name: types.TBigInt}},
		{Name: "State", Type: types.T{Name: types.TVarchar, Len: 64}},
		{Name: "Info", Type: types.T{Name: types.TVarchar, Len: 65535}},
	}}
	now := truetime.Mono()
	for _, p := range s.e.procs.all() {
		p.mu.Lock()
		db, cmd, info, since := p.mu.db, p.mu.command, p.mu.info, p.mu.since
		p.mu.Unlock()
		if !full && len(info) > 100 {
			info = info[:100]
		}
		state := ""
		if cmd != "Sleep" {
			state = "executing"
		}
		row := []types.Value{types.NewInt(int64(p.id)), types.NewString(p.user), types.NewString(p.host),
			types.Null, types.NewString(cmd), types.NewInt(int64((now - since) / time.Second)), types.NewString(state), types.Null}
		if db != "" {
			row[3] = types.NewString(db)
		}
		if info != "" {
			row[7] = types.NewString(info)
		}
		res.Rows = append(res.Rows, row)
	}
	return res
}
