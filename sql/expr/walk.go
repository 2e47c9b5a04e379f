package expr

// Walk calls fn for e and every sub-expression (not descending into
// subquery plans, but into a subquery's left operand). fn returning false
// stops the descent below that node.
func Walk(e Expr, fn func(Expr) bool) {
	if e == nil || !fn(e) {
		return
	}
	for _, c := range children(e) {
		Walk(c, fn)
	}
}

func children(e Expr) []Expr {
	switch e := e.(type) {
	case *Binary:
		return []Expr{e.L, e.R}
	case *Unary:
		return []Expr{e.X}
	case *IsNull:
		return []Expr{e.X}
	case *IsTruth:
		return []Expr{e.X}
	case *Cast:
		return []Expr{e.X}
	case *Like:
		return []Expr{e.X, e.Pattern}
	case *In:
		return append([]Expr{e.X}, e.List...)
	case *Func:
		return e.Args
	case *Case:
		out := []Expr{e.Operand, e.Else}
		out = append(out, e.Whens...)
		return append(out, e.Thens...)
	case *Subquery:
		if e.X != nil {
			return []Expr{e.X}
		}
	}
	return nil
}

// MapCols returns a copy of e with every ColRef replaced by f(ref). Nodes
// without column references below them are shared, not copied.
func MapCols(e Expr, f func(*ColRef) Expr) Expr {
	if e == nil {
		return nil
	}
	m := func(x Expr) Expr { return MapCols(x, f) }
	ms := func(xs []Expr) []Expr {
		out := make([]Expr, len(xs))
		for i, x := range xs {
			out[i] = m(x)
		}
		return out
	}
	switch e := e.(type) {
	case *ColRef:
		return f(e)
	case *Binary:
		return &Binary{Op: e.Op, L: m(e.L), R: m(e.R)}
	case *Unary:
		return &Unary{Op: e.Op, X: m(e.X)}
	case *IsNull:
		return &IsNull{X: m(e.X), Not: e.Not}
	case *IsTruth:
		return &IsTruth{X: m(e.X), Not: e.Not, True: e.True}
	case *Cast:
		return &Cast{X: m(e.X), T: e.T, Lenient: e.Lenient}
	case *Like:
		return &Like{X: m(e.X), Pattern: m(e.Pattern), Escape: e.Escape, Not: e.Not}
	case *In:
		return &In{X: m(e.X), List: ms(e.List), Not: e.Not}
	case *Func:
		return &Func{Name: e.Name, Args: ms(e.Args), fn: e.fn}
	case *Case:
		return &Case{Operand: m(e.Operand), Whens: ms(e.Whens), Thens: ms(e.Thens), Else: m(e.Else)}
	case *Subquery:
		if e.X == nil {
			return e
		}
		c := *e
		c.X = m(e.X)
		return &c
	}
	return e
}

// Cols returns the input-row positions e references.
func Cols(e Expr) []int {
	var out []int
	Walk(e, func(x Expr) bool {
		if c, ok := x.(*ColRef); ok {
			out = append(out, c.Idx)
		}
		return true
	})
	return out
}

// HasCorrelated reports whether e contains a correlated subquery or an
// outer reference.
func HasCorrelated(e Expr) bool {
	found := false
	Walk(e, func(x Expr) bool {
		switch x := x.(type) {
		case *Subquery:
			if x.Correlated {
				found = true
			}
		case *OuterRef:
			found = true
		}
		return !found
	})
	return found
}

// HasSubquery reports whether e contains a subquery.
func HasSubquery(e Expr) bool {
	found := false
	Walk(e, func(x Expr) bool {
		if _, ok := x.(*Subquery); ok {
			found = true
		}
		return !found
	})
	return found
}

// Conjuncts splits e on AND.
func Conjuncts(e Expr) []Expr {
	if e == nil {
		return nil
	}
	if b, ok := e.(*Binary); ok && b.Op == "and" {
		return append(Conjuncts(b.L), Conjuncts(b.R)...)
	}
	return []Expr{e}
}

// And joins conditions with AND (nil for none).
func And(es []Expr) Expr {
	var out Expr
	for _, e := range es {
		if out == nil {
			out = e
		} else {
			out = &Binary{Op: "and", L: out, R: e}
		}
	}
	return out
}

// HasCorrelatedSubquery reports whether e contains a correlated subquery
// (outer references alone are constants for the current query).
func HasCorrelatedSubquery(e Expr) bool {
	found := false
	Walk(e, func(x Expr) bool {
		if s, ok := x.(*Subquery); ok && s.Correlated {
			found = true
		}
		return !found
	})
	return found
}
