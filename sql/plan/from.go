package plan

import (
	"github.com/pingcap/tidb/pkg/parser/ast"

	"github.com/meridiandb/meridian/sql/catalog"
	"github.com/meridiandb/meridian/sql/expr"
)

// buildFrom plans a FROM clause (joins of table sources).
func (b *Builder) buildFrom(outer *scope, fc *fromCtx, n ast.ResultSetNode, nullable bool) (Node, error) {
	switch n := n.(type) {
	case *ast.Join:
		if n.Right == nil {
			return b.buildFrom(outer, fc, n.Left, nullable)
		}
		left, err := b.buildFrom(outer, fc, n.Left, nullable)
		if err != nil {
			return nil, err
		}
		firstRight := len(fc.leaves)
		right, err := b.buildFrom(outer, fc, n.Right, nullable || n.Tp == ast.LeftJoin)
		if err != nil {
			return nil, err
		}
		if n.Tp == ast.RightJoin {
			return nil, &UnsupportedError{What: "RIGHT JOIN (rewrite it as LEFT JOIN)"}
		}
		kind := InnerJoin
		if n.Tp == ast.LeftJoin {
			kind = LeftJoin
		}
		lw := len(left.Schema())
		cols := append(append([]Column{}, left.Schema()...), right.Schema()...)
		s := &scope{cols: cols, outer: outer}
		var conds []expr.Expr
		if n.On != nil {
			b.clause = "on clause"
			for _, c := range splitAnd(n.On.Expr) {
				e, err := b.compile(s, c)
				if err != nil {
					return nil, err
				}
				conds = append(conds, e)
			}
		}
		for _, u := range n.Using {
			l, err := b.compile(&scope{cols: left.Schema(), outer: outer}, &ast.ColumnNameExpr{Name: u})
			if err != nil {
				return nil, err
			}
			r, err := b.compile(&scope{cols: right.Schema(), outer: outer}, &ast.ColumnNameExpr{Name: u})
			if err != nil {
				return nil, err
			}
			conds = append(conds, &expr.Binary{Op: "eq", L: l, R: shift(r, lw)})
		}
		// Inner joins: push single-side conditions to the leaves.
		if kind == InnerJoin {
			var rest []expr.Expr
			for _, c := range conds {
				if !b.pushDown(fc, c) {
					rest = append(rest, c)
				}
			}
			conds = rest
		} else {
			// LEFT JOIN: conditions on the right side only can be pushed
			// into the right side (they filter what joins, not the left).
			var rest []expr.Expr
			for _, c := range conds {
				if !b.pushDownRight(fc, firstRight, c) {
					rest = append(rest, c)
				}
			}
			conds = rest
		}
		// Equalities between the two sides become join keys.
		var lk, rk, other []expr.Expr
		for _, c := range conds {
			if be, ok := c.(*expr.Binary); ok && be.Op == "eq" && !expr.HasSubquery(c) && !b.Naive {
				ls, rs := side(be.L, lw), side(be.R, lw)
				switch {
				case ls == 1 && rs == 2:
					lk, rk = append(lk, be.L), append(rk, shift(be.R, -lw))
					continue
				case ls == 2 && rs == 1:
					lk, rk = append(lk, be.R), append(rk, shift(be.L, -lw))
					continue
				}
			}
			other = append(other, c)
		}
		j := &HashJoin{Kind: kind, Left: left, Right: right, LeftKeys: lk, RightKeys: rk, Cond: expr.And(other), schema: cols}
		// Index-lookup join when the right side is one base table whose
		// index prefix is covered by the equalities.
		if len(fc.leaves) == firstRight+1 && fc.leaves[firstRight].access != nil && len(lk) > 0 {
			fc.leaves[firstRight].join = j
		}
		return j, nil
	case *ast.TableSource:
		alias := n.AsName.O
		switch src := n.Source.(type) {
		case *ast.TableName:
			if alias == "" {
				alias = src.Name.O
			}
			return b.buildTable(fc, src, alias, nullable)
		case *ast.SelectStmt, *ast.SetOprStmt:
			if alias == "" {
				return nil, &UnsupportedError{What: "derived table without alias"}
			}
			sub, err := b.buildQuery(outer, src)
			if err != nil {
				return nil, err
			}
			var cols []Column
			for _, c := range sub.Schema() {
				cols = append(cols, Column{Name: c.Name, Table: alias, Type: c.Type})
			}
			node := &Project{Input: sub, schema: cols}
			for i := range cols {
				node.Exprs = append(node.Exprs, &expr.ColRef{Idx: i, Name: cols[i].Name})
			}
			fc.leaves = append(fc.leaves, &leaf{node: node, offset: leafOffset(fc), width: len(cols), nullable: nullable})
			return node, nil
		}
	case *ast.TableName:
		return b.buildTable(fc, n, n.Name.O, nullable)
	}
	return nil, &UnsupportedError{What: "this FROM clause"}
}

func leafOffset(fc *fromCtx) int {
	if len(fc.leaves) == 0 {
		return 0
	}
	l := fc.leaves[len(fc.leaves)-1]
	return l.offset + l.width
}

func (b *Builder) buildTable(fc *fromCtx, tn *ast.TableName, alias string, nullable bool) (Node, error) {
	db := tn.Schema.O
	if db == "" {
		db = b.DB
	}
	if tn.AsOf != nil {
		e, err := b.compile(&scope{}, tn.AsOf.TsExpr)
		if err != nil {
			return nil, err
		}
		b.AsOf = e
	}
	if b.Virtual != nil {
		if v := b.Virtual(db, tn.Name.O); v != nil {
			for i := range v.schema {
				v.schema[i].Table = alias
			}
			fc.leaves = append(fc.leaves, &leaf{node: v, offset: leafOffset(fc), width: len(v.schema), nullable: nullable})
			return v, nil
		}
	}
	if db == "" {
		return nil, &NoDatabaseError{}
	}
	t := b.Snap.Table(db, tn.Name.O)
	if t == nil {
		return nil, &NoSuchTableError{DB: db, Table: tn.Name.O}
	}
	b.Tables = append(b.Tables, t)
	ta := NewTableAccess(t, db, alias)
	fc.leaves = append(fc.leaves, &leaf{access: ta, node: ta, offset: leafOffset(fc), width: len(ta.schema), nullable: nullable})
	return ta, nil
}

// NewTableAccess returns a full scan of t's primary index.
func NewTableAccess(t *catalog.Table, db, alias string) *TableAccess {
	ta := &TableAccess{Table: t, Alias: alias, DB: db, Index: &t.Primary}
	for _, c := range t.Columns {
		ta.schema = append(ta.schema, Column{Name: c.Name, Table: alias, DB: db, Type: c.Type,
			Hidden: c.Hidden || !c.Public(), WriteOnly: !c.Public()})
	}
	return ta
}

// side reports which side of a join e references: 0 none, 1 left, 2 right,
// 3 both (or correlated).
func side(e expr.Expr, lw int) int {
	if expr.HasCorrelated(e) {
		return 3
	}
	s := 0
	for _, c := range expr.Cols(e) {
		if c < lw {
			s |= 1
		} else {
			s |= 2
		}
	}
	return s
}

func shift(e expr.Expr, d int) expr.Expr {
	return expr.MapCols(e, func(c *expr.ColRef) expr.Expr {
		return &expr.ColRef{Idx: c.Idx + d, Name: c.Name}
	})
}

// pushDown moves a condition over the FROM clause's combined row into the
// one leaf it references, if it references exactly one non-nullable base
// table and no correlated subquery.
func (b *Builder) pushDown(fc *fromCtx, e expr.Expr) bool {
	return b.pushDownFrom(fc, 0, e, false)
}

func (b *Builder) pushDownRight(fc *fromCtx, first int, e expr.Expr) bool {
	return b.pushDownFrom(fc, first, e, true)
}

func (b *Builder) pushDownFrom(fc *fromCtx, first int, e expr.Expr, allowNullable bool) bool {
	if b.Naive {
		return false
	}
	if expr.HasCorrelatedSubquery(e) {
		return false
	}
	cols := expr.Cols(e)
	if len(cols) == 0 {
		return false
	}
	var target *leaf
	for _, l := range fc.leaves[first:] {
		for _, c := range cols {
			if c >= l.offset && c < l.offset+l.width {
				if target != nil && target != l {
					return false
				}
				target = l
			}
		}
	}
	if target == nil || target.access == nil || (target.nullable && !allowNullable) {
		return false
	}
	for _, c := range cols {
		if c < target.offset || c >= target.offset+target.width {
			return false
		}
	}
	target.conds = append(target.conds, shift(e, -target.offset))
	return true
}

// finishLeaves chooses each base table's access path from its pushed-down
// conditions, and turns joins into index-lookup joins where possible.
func (b *Builder) finishLeaves(fc *fromCtx) {
	for _, l := range fc.leaves {
		if l.access == nil {
			continue
		}
		l.access.Filter = expr.And(l.conds)
		if b.Naive {
			continue
		}
		if l.join != nil {
			if b.tryIndexJoin(l) {
				continue
			}
		}
		chooseAccess(l.access, l.conds)
	}
}

// tryIndexJoin converts the hash join whose right side is l into an
// index-lookup join if the join keys cover a prefix of an index of l's
// table (the primary key preferred).
func (b *Builder) tryIndexJoin(l *leaf) bool {
	j := l.join
	ta := l.access
	for _, idx := range ta.Table.PublicIndexes() {
		var keys []expr.Expr
		used := map[int]bool{}
		for _, colID := range idx.Columns {
			ord := ta.Table.ColumnOrdinal(colID)
			found := -1
			for k, rk := range j.RightKeys {
				if c, ok := rk.(*expr.ColRef); ok && c.Idx == ord && !used[k] {
					found = k
					break
				}
			}
			if found < 0 {
				break
			}
			used[found] = true
			keys = append(keys, j.LeftKeys[found])
		}
		if len(keys) == 0 {
			continue
		}
		ta.Index = idx
		ta.Point = len(keys) == len(idx.Columns) && (idx.Unique || idx.ID == ta.Table.Primary.ID)
		var other []expr.Expr
		for k := range j.RightKeys {
			if !used[k] {
				other = append(other, &expr.Binary{Op: "eq", L: j.LeftKeys[k], R: shift(j.RightKeys[k], len(j.Left.Schema()))})
			}
		}
		if j.Cond != nil {
			other = append(other, j.Cond)
		}
		l.indexJoin = &IndexJoin{Kind: j.Kind, Left: j.Left, Right: ta, Keys: keys, Cond: expr.And(other), schema: j.schema}
		return true
	}
	return false
}

// elideSort reports whether keys (over the single table's row) are the
// order of its chosen index, setting Reverse for all-descending keys.
func (b *Builder) elideSort(ta *TableAccess, keys []SortKey) bool {
	if ta.Point {
		return len(ta.Ranges) <= 1
	}
	if len(ta.Ranges) > 1 {
		return false
	}
	desc := keys[0].Desc
	cols := ta.Index.Columns
	eqPrefix := 0
	if len(ta.Ranges) == 1 {
		eqPrefix = len(ta.Ranges[0].Eq)
	}
	ki := 0
	for ci := 0; ci < len(cols) && ki < len(keys); ci++ {
		c, ok := keys[ki].X.(*expr.ColRef)
		ord := ta.Table.ColumnOrdinal(cols[ci])
		if ok && c.Idx == ord {
			if keys[ki].Desc != desc {
				return false
			}
			ki++
			continue
		}
		if ci < eqPrefix {
			continue // constant column: any order
		}
		return false
	}
	if ki < len(keys) {
		return false
	}
	ta.Reverse = desc
	return true
}

// FindLeafJoin replaces hash joins that became index joins. Called on the
// finished tree.
func replaceJoins(n Node, fc *fromCtx) Node {
	// Outer joins first: an inner join's replacement then lands inside the
	// outer index join's Left.
	for i := len(fc.leaves) - 1; i >= 0; i-- {
		l := fc.leaves[i]
		if l.indexJoin != nil && l.join != nil {
			n = replaceNode(n, l.join, l.indexJoin)
		}
	}
	return n
}

func replaceNode(n, old, repl Node) Node {
	if n == old {
		return repl
	}
	switch x := n.(type) {
	case *Filter:
		x.Input = replaceNode(x.Input, old, repl)
	case *Project:
		x.Input = replaceNode(x.Input, old, repl)
	case *HashJoin:
		x.Left = replaceNode(x.Left, old, repl)
		x.Right = replaceNode(x.Right, old, repl)
	case *IndexJoin:
		x.Left = replaceNode(x.Left, old, repl)
	case *Agg:
		x.Input = replaceNode(x.Input, old, repl)
	case *Sort:
		x.Input = replaceNode(x.Input, old, repl)
	case *Limit:
		x.Input = replaceNode(x.Input, old, repl)
	case *Distinct:
		x.Input = replaceNode(x.Input, old, repl)
	case *Trim:
		x.Input = replaceNode(x.Input, old, repl)
	}
	return n
}
