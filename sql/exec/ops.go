package exec

import (
	"fmt"
	"sort"

	"github.com/meridiandb/meridian/sql/expr"
	"github.com/meridiandb/meridian/sql/plan"
	"github.com/meridiandb/meridian/sql/types"
)

type filterIter struct {
	c    *Ctx
	in   Iter
	cond expr.Expr
}

func (f *filterIter) Next() (expr.Row, error) {
	for {
		r, err := f.in.Next()
		if err != nil || r == nil {
			return nil, err
		}
		v, err := f.cond.Eval(f.c.Env, r)
		if err != nil {
			return nil, err
		}
		if b, _ := types.Truthy(v); b {
			return r, nil
		}
	}
}

type projectIter struct {
	c     *Ctx
	in    Iter
	exprs []expr.Expr
}

func (p *projectIter) Next() (expr.Row, error) {
	r, err := p.in.Next()
	if err != nil || r == nil {
		return nil, err
	}
	out := make(expr.Row, len(p.exprs))
	for i, e := range p.exprs {
		if out[i], err = e.Eval(p.c.Env, r); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func hashKey(c *Ctx, es []expr.Expr, r expr.Row) (string, bool, error) {
	var b []byte
	for _, e := range es {
		v, err := e.Eval(c.Env, r)
		if err != nil {
			return "", false, err
		}
		if v.IsNull() {
			return "", false, nil
		}
		b = types.HashKey(b, v)
	}
	return string(b), true, nil
}

// hashJoinIter builds a hash table over the right input, then streams the
// left input. With no keys it is a nested-loop join over the buffered
// right rows.
type hashJoinIter struct {
	c      *Ctx
	n      *plan.HashJoin
	left   Iter
	table  map[string][]expr.Row
	all    []expr.Row
	rwidth int
	out    []expr.Row
}

func (c *Ctx) newHashJoin(n *plan.HashJoin) (Iter, error) {
	left, err := c.Build(n.Left)
	if err != nil {
		return nil, err
	}
	right, err := c.Build(n.Right)
	if err != nil {
		return nil, err
	}
	j := &hashJoinIter{c: c, n: n, left: left, table: map[string][]expr.Row{}, rwidth: len(n.Right.Schema())}
	for {
		r, err := right.Next()
		if err != nil {
			return nil, err
		}
		if r == nil {
			break
		}
		if len(n.RightKeys) == 0 {
			j.all = append(j.all, r)
			continue
		}
		k, ok, err := hashKey(c, n.RightKeys, r)
		if err != nil {
			return nil, err
		}
		if ok {
			j.table[k] = append(j.table[k], r)
		}
	}
	return j, nil
}

func concat(a, b expr.Row) expr.Row {
	out := make(expr.Row, 0, len(a)+len(b))
	return append(append(out, a...), b...)
}

// joinRows appends to out the joined rows of l with candidates that pass
// cond (or the null-extended row for a LEFT JOIN with no match).
func joinRows(c *Ctx, kind plan.JoinKind, cond expr.Expr, l expr.Row, cands []expr.Row, rwidth int, out []expr.Row) ([]expr.Row, error) {
	matched := false
	for _, r := range cands {
		row := concat(l, r)
		if cond != nil {
			v, err := cond.Eval(c.Env, row)
			if err != nil {
				return nil, err
			}
			if b, _ := types.Truthy(v); !b {
				continue
			}
		}
		matched = true
		out = append(out, row)
	}
	if !matched && kind == plan.LeftJoin {
		out = append(out, concat(l, make(expr.Row, rwidth)))
	}
	return out, nil
}

func (j *hashJoinIter) Next() (expr.Row, error) {
	for len(j.out) == 0 {
		l, err := j.left.Next()
		if err != nil || l == nil {
			return nil, err
		}
		cands := j.all
		if len(j.n.LeftKeys) > 0 {
			k, ok, err := hashKey(j.c, j.n.LeftKeys, l)
			if err != nil {
				return nil, err
			}
			cands = nil
			if ok {
				cands = j.table[k]
			}
		}
		if j.out, err = joinRows(j.c, j.n.Kind, j.n.Cond, l, cands, j.rwidth, j.out); err != nil {
			return nil, err
		}
	}
	r := j.out[0]
	j.out = j.out[1:]
	return r, nil
}

// indexJoinIter looks up the right table by index for each left row.
type indexJoinIter struct {
	c    *Ctx
	n    *plan.IndexJoin
	left Iter
	out  []expr.Row
}

func (j *indexJoinIter) Next() (expr.Row, error) {
	for len(j.out) == 0 {
		l, err := j.left.Next()
		if err != nil || l == nil {
			return nil, err
		}
		keys := make([]types.Value, len(j.n.Keys))
		for i, k := range j.n.Keys {
			if keys[i], err = k.Eval(j.c.Env, l); err != nil {
				return nil, err
			}
		}
		var st *Stats
		if j.c.Stats != nil {
			if st = j.c.Stats[j.n.Right]; st == nil {
				st = &Stats{}
				j.c.Stats[j.n.Right] = st
			}
			st.Loops++
		}
		it, err := j.c.newAccessFor(j.n.Right, l, keys)
		if err != nil {
			return nil, err
		}
		var cands []expr.Row
		for {
			r, err := it.Next()
			if err != nil {
				return nil, err
			}
			if r == nil {
				break
			}
			cands = append(cands, r)
		}
		if st != nil {
			st.Rows += len(cands)
		}
		if j.out, err = joinRows(j.c, j.n.Kind, j.n.Cond, l, cands, len(j.n.Right.Schema()), j.out); err != nil {
			return nil, err
		}
	}
	r := j.out[0]
	j.out = j.out[1:]
	return r, nil
}

// aggState accumulates one aggregate of one group.
type aggState struct {
	count    int64
	sum      types.Value
	val      types.Value
	distinct map[string]bool
}

func (s *aggState) add(f *plan.AggFunc, v types.Value) error {
	if f.Name == "count_star" {
		s.count++
		return nil
	}
	if f.Name == "first" {
		if s.count == 0 {
			s.val = v
		}
		s.count++
		return nil
	}
	if v.IsNull() {
		return nil
	}
	if f.Distinct {
		k := string(types.HashKey(nil, v))
		if s.distinct[k] {
			return nil
		}
		if s.distinct == nil {
			s.distinct = map[string]bool{}
		}
		s.distinct[k] = true
	}
	s.count++
	switch f.Name {
	case "sum", "avg":
		if s.sum.IsNull() {
			s.sum = v
			if v.K == types.KString || v.K == types.KBytes || v.K == types.KTime {
				f, _ := types.ToFloat(v)
				s.sum = types.NewFloat(f)
			}
			return nil
		}
		r, err := expr.Arith("plus", s.sum, v)
		if err != nil {
			a, _ := types.ToFloat(s.sum)
			b, _ := types.ToFloat(v)
			r = types.NewFloat(a + b)
		}
		s.sum = r
	case "min":
		if s.val.IsNull() || types.Compare(v, s.val) < 0 {
			s.val = v
		}
	case "max":
		if s.val.IsNull() || types.Compare(v, s.val) > 0 {
			s.val = v
		}
	}
	return nil
}

func (s *aggState) result(f *plan.AggFunc) types.Value {
	switch f.Name {
	case "count", "count_star":
		return types.NewInt(s.count)
	case "sum":
		if s.sum.K == types.KInt {
			return types.NewDecimal(s.sum.I, 0)
		}
		return s.sum
	case "avg":
		if s.count == 0 {
			return types.Null
		}
		r, err := expr.Arith("div", s.sum, types.NewInt(s.count))
		if err != nil {
			return types.Null
		}
		return r
	}
	return s.val
}

func (c *Ctx) newAgg(n *plan.Agg) (Iter, error) {
	in, err := c.Build(n.Input)
	if err != nil {
		return nil, err
	}
	type group struct {
		keys   expr.Row
		states []aggState
	}
	groups := map[string]*group{}
	var order []*group
	for {
		r, err := in.Next()
		if err != nil {
			return nil, err
		}
		if r == nil {
			break
		}
		keys := make(expr.Row, len(n.GroupBy))
		var hk []byte
		for i, g := range n.GroupBy {
			if keys[i], err = g.Eval(c.Env, r); err != nil {
				return nil, err
			}
			hk = types.HashKey(hk, keys[i])
		}
		g := groups[string(hk)]
		if g == nil {
			g = &group{keys: keys, states: make([]aggState, len(n.Aggs))}
			groups[string(hk)] = g
			order = append(order, g)
		}
		for i := range n.Aggs {
			f := &n.Aggs[i]
			var v types.Value
			if f.Arg != nil {
				if v, err = f.Arg.Eval(c.Env, r); err != nil {
					return nil, err
				}
			}
			if err := g.states[i].add(f, v); err != nil {
				return nil, err
			}
		}
	}
	if len(order) == 0 && n.Scalar {
		order = append(order, &group{states: make([]aggState, len(n.Aggs))})
	}
	var rows []expr.Row
	for _, g := range order {
		row := append(expr.Row{}, g.keys...)
		for i := range n.Aggs {
			row = append(row, g.states[i].result(&n.Aggs[i]))
		}
		rows = append(rows, row)
	}
	return &valuesIter{rows: rows}, nil
}

func (c *Ctx) newSort(n *plan.Sort) (Iter, error) {
	in, err := c.Build(n.Input)
	if err != nil {
		return nil, err
	}
	type keyed struct {
		row  expr.Row
		keys []types.Value
	}
	var rows []keyed
	for {
		r, err := in.Next()
		if err != nil {
			return nil, err
		}
		if r == nil {
			break
		}
		k := keyed{row: r, keys: make([]types.Value, len(n.Keys))}
		for i, sk := range n.Keys {
			if k.keys[i], err = sk.X.Eval(c.Env, r); err != nil {
				return nil, err
			}
		}
		rows = append(rows, k)
	}
	sort.SliceStable(rows, func(a, b int) bool {
		for i, sk := range n.Keys {
			cmp := types.Compare(rows[a].keys[i], rows[b].keys[i])
			if cmp != 0 {
				if sk.Desc {
					return cmp > 0
				}
				return cmp < 0
			}
		}
		return false
	})
	if n.TopN > 0 && len(rows) > n.TopN {
		rows = rows[:n.TopN]
	}
	out := make([]expr.Row, len(rows))
	for i := range rows {
		out[i] = rows[i].row
	}
	return &valuesIter{rows: out}, nil
}

type limitIter struct {
	in          Iter
	count, skip int64
	unlimited   bool
}

func (c *Ctx) newLimit(n *plan.Limit) (Iter, error) {
	in, err := c.Build(n.Input)
	if err != nil {
		return nil, err
	}
	l := &limitIter{in: in, unlimited: n.Count == nil}
	eval := func(e expr.Expr) (int64, error) {
		if e == nil {
			return 0, nil
		}
		v, err := e.Eval(c.Env, nil)
		if err != nil {
			return 0, err
		}
		i, err := types.ToInt(v)
		if err != nil || i < 0 {
			return 0, fmt.Errorf("invalid LIMIT value %s", v)
		}
		return i, nil
	}
	if l.count, err = eval(n.Count); err != nil {
		return nil, err
	}
	if l.skip, err = eval(n.Offset); err != nil {
		return nil, err
	}
	return l, nil
}

func (l *limitIter) Next() (expr.Row, error) {
	for l.skip > 0 {
		r, err := l.in.Next()
		if err != nil || r == nil {
			return nil, err
		}
		l.skip--
	}
	if !l.unlimited {
		if l.count <= 0 {
			return nil, nil
		}
		l.count--
	}
	return l.in.Next()
}

type distinctIter struct {
	in    Iter
	width int
	seen  map[string]bool
}

func (d *distinctIter) Next() (expr.Row, error) {
	for {
		r, err := d.in.Next()
		if err != nil || r == nil {
			return nil, err
		}
		var k []byte
		for _, v := range r[:d.width] {
			k = types.HashKey(k, v)
		}
		if !d.seen[string(k)] {
			d.seen[string(k)] = true
			return r, nil
		}
	}
}

type unionIter struct {
	ins []Iter
}

func (u *unionIter) Next() (expr.Row, error) {
	for len(u.ins) > 0 {
		r, err := u.ins[0].Next()
		if err != nil {
			return nil, err
		}
		if r != nil {
			return r, nil
		}
		u.ins = u.ins[1:]
	}
	return nil, nil
}

type trimIter struct {
	in    Iter
	width int
}

func (t *trimIter) Next() (expr.Row, error) {
	r, err := t.in.Next()
	if err != nil || r == nil {
		return nil, err
	}
	return r[:t.width], nil
}
