package session

import (
	"context"

	"github.com/meridiandb/meridian/sql/exec"
	"github.com/meridiandb/meridian/txn"
)

// A statement has two contexts. Its own (Session.stmtCtx) is cancelled by
// KILL QUERY, by the client closing the connection and by the server
// shutting down; SLEEP and the waits between operations watch it. The
// requests it sends to the transaction layer run under a context that is
// not cancelled (context.WithoutCancel of it, passed down as ctx): a
// request abandoned midway may have taken a lock at a leaseholder that no
// rollback of the transaction would release (the transaction does not
// know it took it). Instead every operation first checks the statement's
// context (guardedTxn), so a cancelled statement stops at its next
// operation; one already sent runs to its end (a lock wait ends at the
// lock timeout).

// guardedTxn checks the statement's context before each operation.
type guardedTxn struct {
	txn.Txn
	stmt context.Context
}

// guard wraps tx for a statement's operators.
func (s *Session) guard(tx txn.Txn) txn.Txn {
	if s.stmtCtx == nil || tx == nil {
		return tx
	}
	return guardedTxn{Txn: tx, stmt: s.stmtCtx}
}

func (g guardedTxn) check() error {
	if g.stmt.Err() != nil {
		return context.Cause(g.stmt)
	}
	return nil
}

func (g guardedTxn) Get(ctx context.Context, key []byte, opts txn.ReadOptions) ([]byte, bool, error) {
	if err := g.check(); err != nil {
		return nil, false, err
	}
	return g.Txn.Get(ctx, key, opts)
}

// GetMany implements exec.BatchGetter.
func (g guardedTxn) GetMany(ctx context.Context, keys [][]byte, opts txn.ReadOptions) ([][]byte, []bool, error) {
	if err := g.check(); err != nil {
		return nil, nil, err
	}
	return exec.GetMany(ctx, g.Txn, keys, opts)
}

// Know forwards to a statement journal (see exec.Journal).
func (g guardedTxn) Know(key, value []byte, found bool) {
	if k, ok := g.Txn.(interface {
		Know(key, value []byte, found bool)
	}); ok {
		k.Know(key, value, found)
	}
}

func (g guardedTxn) Scan(ctx context.Context, span txn.Span, opts txn.ScanOptions) (txn.ScanResult, error) {
	if err := g.check(); err != nil {
		return txn.ScanResult{}, err
	}
	return g.Txn.Scan(ctx, span, opts)
}

func (g guardedTxn) Put(ctx context.Context, key, value []byte) error {
	if err := g.check(); err != nil {
		return err
	}
	return g.Txn.Put(ctx, key, value)
}

func (g guardedTxn) Delete(ctx context.Context, key []byte) error {
	if err := g.check(); err != nil {
		return err
	}
	return g.Txn.Delete(ctx, key)
}
