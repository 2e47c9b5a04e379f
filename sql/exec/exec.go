package exec

import (
	"context"
	"fmt"
	"time"

	"github.com/meridiandb/meridian/sql/catalog"
	"github.com/meridiandb/meridian/sql/expr"
	"github.com/meridiandb/meridian/sql/plan"
	"github.com/meridiandb/meridian/truetime"
	"github.com/meridiandb/meridian/txn"
)

// AutoIncrement hands out AUTO_INCREMENT values.
type AutoIncrement interface {
	// Next returns the next value for table t.
	Next(ctx context.Context, t *catalog.Table) (int64, error)
	// Observe tells the allocator an explicit value v was inserted.
	Observe(ctx context.Context, t *catalog.Table, v int64) error
}

// Ctx is one statement execution.
type Ctx struct {
	Ctx     context.Context
	Txn     txn.Txn
	Env     *expr.Env
	AutoInc AutoIncrement
	// Stats, when non-nil, collects per-operator statistics (EXPLAIN
	// ANALYZE).
	Stats map[plan.Node]*Stats
	// LastInsertID is set by inserts that generated an AUTO_INCREMENT
	// value (the first one of the statement).
	LastInsertID int64
}

// Stats are one operator's runtime statistics.
type Stats struct {
	Rows  int
	Loops int
	Time  time.Duration
}

// Iter produces rows; Next returns nil at the end.
type Iter interface {
	Next() (expr.Row, error)
}

// RunSubquery implements expr.SubqueryRunner.
func (c *Ctx) RunSubquery(env *expr.Env, s *expr.Subquery, outer expr.Row, limit int) ([]expr.Row, error) {
	env.Outer = append(env.Outer, outer)
	defer func() { env.Outer = env.Outer[:len(env.Outer)-1] }()
	it, err := c.Build(s.Plan.(plan.Node))
	if err != nil {
		return nil, err
	}
	var out []expr.Row
	for limit <= 0 || len(out) < limit {
		r, err := it.Next()
		if err != nil {
			return nil, err
		}
		if r == nil {
			break
		}
		out = append(out, r)
	}
	return out, nil
}

// Run executes a query plan to completion.
func (c *Ctx) Run(n plan.Node) ([]expr.Row, error) {
	it, err := c.Build(n)
	if err != nil {
		return nil, err
	}
	var out []expr.Row
	for {
		r, err := it.Next()
		if err != nil {
			return nil, err
		}
		if r == nil {
			return out, nil
		}
		out = append(out, r)
	}
}

// Build returns an iterator for a plan node.
func (c *Ctx) Build(n plan.Node) (Iter, error) {
	it, err := c.build(n)
	if err != nil || c.Stats == nil {
		return it, err
	}
	st := c.Stats[n]
	if st == nil {
		st = &Stats{}
		c.Stats[n] = st
	}
	st.Loops++
	return &statsIter{in: it, st: st}, nil
}

type statsIter struct {
	in Iter
	st *Stats
}

func (s *statsIter) Next() (expr.Row, error) {
	begin := truetime.Mono()
	r, err := s.in.Next()
	s.st.Time += truetime.Mono() - begin
	if r != nil {
		s.st.Rows++
	}
	return r, err
}

func (c *Ctx) build(n plan.Node) (Iter, error) {
	switch n := n.(type) {
	case *plan.TableAccess:
		return c.newAccess(n)
	case *plan.Values:
		return c.newValues(n)
	case *plan.Filter:
		in, err := c.Build(n.Input)
		return &filterIter{c: c, in: in, cond: n.Cond}, err
	case *plan.Project:
		in, err := c.Build(n.Input)
		return &projectIter{c: c, in: in, exprs: n.Exprs}, err
	case *plan.HashJoin:
		return c.newHashJoin(n)
	case *plan.IndexJoin:
		in, err := c.Build(n.Left)
		return &indexJoinIter{c: c, n: n, left: in}, err
	case *plan.Agg:
		return c.newAgg(n)
	case *plan.Sort:
		return c.newSort(n)
	case *plan.Limit:
		return c.newLimit(n)
	case *plan.Distinct:
		in, err := c.Build(n.Input)
		return &distinctIter{in: in, width: n.Width, seen: map[string]bool{}}, err
	case *plan.Union:
		var ins []Iter
		for _, x := range n.Inputs {
			it, err := c.Build(x)
			if err != nil {
				return nil, err
			}
			ins = append(ins, it)
		}
		return &unionIter{ins: ins}, nil
	case *plan.Trim:
		in, err := c.Build(n.Input)
		return &trimIter{in: in, width: n.Width}, err
	}
	return nil, fmt.Errorf("exec: cannot execute %T", n)
}
