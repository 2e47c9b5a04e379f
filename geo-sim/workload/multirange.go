package workload

import (
	"context"
	"fmt"

	"github.com/meridiandb/meridian/geo-sim/bounds"
	"github.com/meridiandb/meridian/txn"
)

// OpMultiCommit is the multi-range workload's operation.
const OpMultiCommit = "commit"

// MultiRange commits read-write transactions that write one key in each of
// Participants ranges (Spanner's Table 4 benchmark): the first range
// coordinates a two-phase commit across the others. It needs txn.DB.
type MultiRange struct {
	prefix       []byte
	participants int
	keys         int
}

// NewMultiRange returns a workload writing to participants ranges, each
// span holding keys keys.
func NewMultiRange(prefix []byte, participants, keys int) *MultiRange {
	return &MultiRange{prefix: prefix, participants: participants, keys: max(keys, 1)}
}

// Name implements Workload.
func (m *MultiRange) Name() string { return fmt.Sprintf("multirange-%d", m.participants) }

func (m *MultiRange) span(i int) Span { return regionSpan(m.prefix, fmt.Sprintf("p%03d", i)) }

// Spans implements Workload: one span per participant, homed nowhere (the
// placement's leader region applies).
func (m *MultiRange) Spans([]string) []HomeSpan {
	out := make([]HomeSpan, m.participants)
	for i := range out {
		out[i] = HomeSpan{Span: m.span(i)}
	}
	return out
}

// Ops implements Workload.
func (m *MultiRange) Ops() []OpSpec {
	kind := bounds.Commit2PC
	if m.participants == 1 {
		kind = bounds.Write
	}
	return []OpSpec{{Name: OpMultiCommit, Kind: kind, Spans: func(string) []Span {
		out := make([]Span, m.participants)
		for i := range out {
			out[i] = m.span(i)
		}
		return out
	}}}
}

// Setup implements Workload.
func (m *MultiRange) Setup(_ context.Context, env SetupEnv) error {
	if _, err := env.Gateway.Txn(); err != nil {
		return fmt.Errorf("%s workload: %w", m.Name(), err)
	}
	return nil
}

// NewClient implements Workload.
func (m *MultiRange) NewClient(_ context.Context, env ClientEnv) (Client, error) {
	db, err := env.Gateway.Txn()
	if err != nil {
		return nil, fmt.Errorf("%s workload: %w", m.Name(), err)
	}
	return &multiClient{m: m, env: env, db: db}, nil
}

type multiClient struct {
	m   *MultiRange
	env ClientEnv
	db  txn.DB
}

func (c *multiClient) Close() error { return nil }

// Step implements Client: one transaction writing a key of every span.
func (c *multiClient) Step(ctx context.Context) (Result, error) {
	res := Result{Op: OpMultiCommit}
	tx, err := c.db.Begin(ctx, txn.Options{})
	if err != nil {
		return res, err
	}
	for i := range c.m.participants {
		key := fmt.Appendf(c.m.span(i).Key, "%06d", c.env.Rand.IntN(c.m.keys))
		if err = tx.Put(ctx, key, []byte("v")); err != nil {
			break
		}
	}
	if err == nil {
		_, err = tx.Commit(ctx)
	}
	if err != nil {
		_ = tx.Rollback(ctx)
	}
	l := tx.Ledger()
	res.Ledger = &l
	return res, err
}
