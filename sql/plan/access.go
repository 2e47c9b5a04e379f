package plan

import (
	"github.com/meridiandb/meridian/sql/expr"
)

// colCond is what one conjunct says about one column.
type colCond struct {
	eq     expr.Expr
	in     []expr.Expr
	lo, hi *Bound
}

// isConstant reports whether e has the same value for every row of the
// table (no column references; outer references and uncorrelated
// subqueries are fine).
func isConstant(e expr.Expr) bool {
	ok := true
	expr.Walk(e, func(x expr.Expr) bool {
		switch x := x.(type) {
		case *expr.ColRef:
			ok = false
		case *expr.Subquery:
			if x.Correlated {
				ok = false
			}
		case *expr.Func:
			if x.Name == "rand" || x.Name == "sleep" {
				ok = false
			}
		}
		return ok
	})
	return ok
}

// analyze extracts per-column constraints from conjuncts over a table row.
func analyze(conds []expr.Expr) map[int]*colCond {
	out := map[int]*colCond{}
	get := func(i int) *colCond {
		if out[i] == nil {
			out[i] = &colCond{}
		}
		return out[i]
	}
	for _, c := range conds {
		for _, c := range expr.Conjuncts(c) {
			switch c := c.(type) {
			case *expr.Binary:
				col, val, op := matchCompare(c)
				if col < 0 {
					continue
				}
				cc := get(col)
				switch op {
				case "eq":
					cc.eq = val
				case "gt", "ge":
					cc.lo = &Bound{X: val, Inclusive: op == "ge"}
				case "lt", "le":
					cc.hi = &Bound{X: val, Inclusive: op == "le"}
				}
			case *expr.In:
				ref, ok := c.X.(*expr.ColRef)
				if !ok || c.Not || len(c.List) > 256 {
					continue
				}
				all := true
				for _, it := range c.List {
					all = all && isConstant(it)
				}
				if all {
					get(ref.Idx).in = c.List
				}
			}
		}
	}
	return out
}

var flipOp = map[string]string{"eq": "eq", "lt": "gt", "le": "ge", "gt": "lt", "ge": "le"}

// matchCompare matches col op constant (either way round).
func matchCompare(b *expr.Binary) (col int, val expr.Expr, op string) {
	if _, ok := flipOp[b.Op]; !ok {
		return -1, nil, ""
	}
	if c, ok := b.L.(*expr.ColRef); ok && isConstant(b.R) {
		return c.Idx, b.R, b.Op
	}
	if c, ok := b.R.(*expr.ColRef); ok && isConstant(b.L) {
		return c.Idx, b.L, flipOp[b.Op]
	}
	return -1, nil, ""
}

// chooseAccess picks the index and key ranges for a table from its
// conditions: a point get if a unique index (or the primary key) is fully
// bound by equalities, else the index with the longest equality prefix
// (plus a range on the next column), else a full scan of the primary
// index. Ties prefer the primary index (no lookup).
func chooseAccess(ta *TableAccess, conds []expr.Expr) {
	cc := analyze(conds)
	if len(cc) == 0 {
		return
	}
	bestScore := 0
	for _, idx := range ta.Table.PublicIndexes() {
		ranges := []KeyRange{{}}
		score := 0
		full := true
		for _, colID := range idx.Columns {
			c := cc[ta.Table.ColumnOrdinal(colID)]
			if c == nil {
				full = false
				break
			}
			if c.eq != nil {
				for i := range ranges {
					ranges[i].Eq = append(ranges[i].Eq, c.eq)
				}
				score += 10
				continue
			}
			if c.in != nil && len(ranges)*len(c.in) <= 256 {
				var next []KeyRange
				for _, r := range ranges {
					for _, v := range c.in {
						eq := append(append([]expr.Expr{}, r.Eq...), v)
						next = append(next, KeyRange{Eq: eq})
					}
				}
				ranges = next
				score += 9
				continue
			}
			if c.lo != nil || c.hi != nil {
				for i := range ranges {
					ranges[i].Lo, ranges[i].Hi = c.lo, c.hi
				}
				score += 5
			}
			full = false
			break
		}
		point := full && (idx.Unique || idx.ID == ta.Table.Primary.ID)
		if point {
			score += 1000
		}
		if score > bestScore {
			bestScore = score
			ta.Index, ta.Ranges, ta.Point = idx, ranges, point
		}
	}
}
