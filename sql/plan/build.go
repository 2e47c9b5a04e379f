package plan

import (
	"fmt"
	"strings"

	"github.com/pingcap/tidb/pkg/parser/ast"
	"github.com/pingcap/tidb/pkg/parser/format"
	"github.com/pingcap/tidb/pkg/parser/test_driver"

	"github.com/meridiandb/meridian/sql/catalog"
	"github.com/meridiandb/meridian/sql/expr"
	"github.com/meridiandb/meridian/sql/types"
)

func newRestoreCtx(sb *strings.Builder) *format.RestoreCtx {
	return format.NewRestoreCtx(format.RestoreStringSingleQuotes|format.RestoreKeyWordUppercase|format.RestoreNameBackQuotes, sb)
}

// VirtualTables resolves tables that are not in the catalog
// (information_schema); nil if db.name is not virtual.
type VirtualTables func(db, name string) *Values

// Builder turns statements into plans. One per statement.
type Builder struct {
	Snap *catalog.Snapshot
	// DB is the session's current database.
	DB      string
	Virtual VirtualTables
	// NumParams is the number of ? markers seen.
	NumParams int
	// AsOf is the AS OF TIMESTAMP expression of a table in the statement.
	AsOf expr.Expr
	// Naive disables every optimisation: full scans, no push-down, nested
	// loop joins, explicit sorts. The differential test compares optimised
	// plans against naive ones.
	Naive bool
	// Tables lists the catalog tables the plan reads.
	Tables []*catalog.Table
	clause string
	// outerTargets records the scope each outer reference resolved to.
	outerTargets []*scope
}

// leaf is a base table (or virtual table) in a FROM clause.
type leaf struct {
	access    *TableAccess // nil for virtual tables and derived tables
	join      *HashJoin    // the join whose right side is this leaf alone
	indexJoin *IndexJoin   // its replacement, if an index join applies
	node      Node
	offset    int // first column in the FROM clause's combined row
	width     int
	nullable  bool // on the inner side of a LEFT JOIN
	conds     []expr.Expr
}

type fromCtx struct {
	leaves []*leaf
}

// BuildQuery plans a SELECT or UNION.
func (b *Builder) BuildQuery(n ast.ResultSetNode) (Node, error) {
	return b.buildQuery(nil, n)
}

func (b *Builder) buildQuery(outer *scope, n ast.Node) (Node, error) {
	switch n := n.(type) {
	case *ast.SelectStmt:
		node, _, err := b.buildSelect(outer, n)
		return node, err
	case *ast.SetOprStmt:
		return b.buildUnion(outer, n)
	case *ast.SubqueryExpr:
		return b.buildQuery(outer, n.Query)
	}
	return nil, &UnsupportedError{What: fmt.Sprintf("query %T", n)}
}

func (b *Builder) buildUnion(outer *scope, n *ast.SetOprStmt) (Node, error) {
	u := &Union{All: true}
	var inputs []Node
	for i, sel := range n.SelectList.Selects {
		in, err := b.buildQuery(outer, sel)
		if err != nil {
			return nil, err
		}
		if i > 0 {
			if len(in.Schema()) != len(inputs[0].Schema()) {
				return nil, fmt.Errorf("The used SELECT statements have a different number of columns")
			}
			if s, ok := sel.(*ast.SelectStmt); ok && s.AfterSetOperator != nil && *s.AfterSetOperator == ast.Union {
				u.All = false
			}
		}
		inputs = append(inputs, in)
	}
	u.Inputs = inputs
	var node Node = u
	if !u.All {
		node = &Distinct{Input: u, Width: len(u.Schema())}
	}
	return b.orderLimit(&scope{cols: node.Schema(), outer: outer}, node, n.OrderBy, n.Limit, len(node.Schema()), nil)
}

// buildSelect plans one SELECT; it also returns the FROM scope.
func (b *Builder) buildSelect(outer *scope, sel *ast.SelectStmt) (Node, *scope, error) {
	if sel.Kind == ast.SelectStmtKindValues || sel.Kind == ast.SelectStmtKindTable {
		return nil, nil, &UnsupportedError{What: "VALUES/TABLE statements"}
	}
	fc := &fromCtx{}
	var input Node
	var err error
	if sel.From == nil {
		input = &Values{Rows: [][]expr.Expr{{}}, Name: "dual"}
	} else if input, err = b.buildFrom(outer, fc, sel.From.TableRefs, false); err != nil {
		return nil, nil, err
	}
	in := &scope{cols: input.Schema(), outer: outer}
	// WHERE: push single-table conjuncts into their table's access.
	if sel.Where != nil {
		b.clause = "where clause"
		var rest []expr.Expr
		for _, c := range splitAnd(sel.Where) {
			e, err := b.compile(in, c)
			if err != nil {
				return nil, nil, err
			}
			if !b.pushDown(fc, e) {
				rest = append(rest, e)
			}
		}
		b.finishLeaves(fc)
		if len(rest) > 0 {
			input = &Filter{Input: input, Cond: expr.And(rest)}
		}
	} else {
		b.finishLeaves(fc)
	}
	if sel.LockInfo != nil && sel.LockInfo.LockType != ast.SelectLockNone {
		for _, l := range fc.leaves {
			if l.access != nil {
				l.access.ForUpdate = true
			}
		}
	}
	// Aggregation.
	post := in
	var agg *aggCtx
	if sel.GroupBy != nil || sel.Having != nil || fieldsHaveAgg(sel.Fields) {
		agg = &aggCtx{input: in}
		b.clause = "group statement"
		if sel.GroupBy != nil {
			for _, item := range sel.GroupBy.Items {
				g := item.Expr
				if p, ok := g.(*ast.PositionExpr); ok {
					if p.N < 1 || p.N > len(sel.Fields.Fields) || sel.Fields.Fields[p.N-1].Expr == nil {
						return nil, nil, &UnknownColumnError{Name: fmt.Sprint(p.N), Where: "group statement"}
					}
					g = sel.Fields.Fields[p.N-1].Expr
				} else if c, ok := g.(*ast.ColumnNameExpr); ok && c.Name.Table.L == "" {
					if idx, _ := in.resolve(c.Name); idx < 0 {
						for _, f := range sel.Fields.Fields {
							if f.AsName.L == c.Name.Name.L && f.Expr != nil {
								g = f.Expr
							}
						}
					}
				}
				e, err := b.compile(in, g)
				if err != nil {
					return nil, nil, err
				}
				agg.groupBy = append(agg.groupBy, e)
				agg.groupTxt = append(agg.groupTxt, restore(g))
			}
		}
		post = &scope{outer: outer, agg: agg}
	}
	// Projection.
	b.clause = "field list"
	var exprs []expr.Expr
	var cols []Column
	post.aliases = map[string]expr.Expr{}
	for _, f := range sel.Fields.Fields {
		if f.WildCard != nil {
			n := 0
			for i, c := range in.cols {
				if c.Hidden {
					continue
				}
				if f.WildCard.Table.L != "" && !strings.EqualFold(c.Table, f.WildCard.Table.O) {
					continue
				}
				n++
				if agg != nil {
					e, err := b.compile(post, &ast.ColumnNameExpr{Name: &ast.ColumnName{Table: ast.NewCIStr(c.Table), Name: ast.NewCIStr(c.Name)}})
					if err != nil {
						return nil, nil, err
					}
					exprs = append(exprs, e)
				} else {
					exprs = append(exprs, &expr.ColRef{Idx: i, Name: columnLabel(c)})
				}
				cols = append(cols, c)
			}
			if n == 0 && f.WildCard.Table.L != "" {
				return nil, nil, &UnknownColumnError{Name: f.WildCard.Table.O + ".*", Where: "field list"}
			}
			continue
		}
		e, err := b.compile(post, f.Expr)
		if err != nil {
			return nil, nil, err
		}
		name := f.AsName.O
		col := Column{Name: name, Type: exprType(e, in.cols)}
		if name == "" {
			if c, ok := f.Expr.(*ast.ColumnNameExpr); ok {
				col.Name = c.Name.Name.O
				if r, ok := e.(*expr.ColRef); ok && agg == nil {
					col = in.cols[r.Idx]
				}
			} else {
				col.Name = fieldText(f)
			}
		} else {
			post.aliases[f.AsName.L] = e
		}
		exprs = append(exprs, e)
		cols = append(cols, col)
	}
	var having expr.Expr
	if sel.Having != nil {
		b.clause = "having clause"
		if having, err = b.compile(post, sel.Having.Expr); err != nil {
			return nil, nil, err
		}
	}
	// ORDER BY keys not in the select list are projected as hidden columns.
	width := len(exprs)
	var keys []SortKey
	if sel.OrderBy != nil {
		b.clause = "order clause"
		for _, item := range sel.OrderBy.Items {
			k, err := b.orderKey(post, item, sel.Fields.Fields, exprs)
			if err != nil {
				return nil, nil, err
			}
			keys = append(keys, k)
		}
	}
	if agg != nil {
		a := &Agg{Input: input, GroupBy: agg.groupBy, Aggs: agg.aggs, Scalar: len(agg.groupBy) == 0}
		for i, g := range agg.groupBy {
			a.schema = append(a.schema, Column{Name: agg.groupTxt[i], Type: exprType(g, in.cols)})
		}
		for i, f := range agg.aggs {
			a.schema = append(a.schema, Column{Name: agg.aggTxt[i], Type: aggType(f, in.cols)})
		}
		input = a
		// The projection's expressions read the Agg's output, not the
		// FROM row: type them against it (a GROUP BY column would else
		// take the type of the FROM row's column at the same position).
		for i := 0; i < width; i++ {
			cols[i].Type = exprType(exprs[i], a.schema)
		}
		if having != nil {
			input = &Filter{Input: input, Cond: having}
		}
	} else if having != nil {
		// HAVING without aggregation filters on the select list.
		input = &Filter{Input: input, Cond: having}
	}
	// Sort elision: ORDER BY the scan's index order on a single table.
	if len(keys) > 0 && agg == nil && !b.Naive && len(fc.leaves) == 1 && fc.leaves[0].access != nil {
		if b.elideSort(fc.leaves[0].access, keys) {
			keys = nil
		}
	}
	projectSortKeys(keys, &exprs, &cols)
	var node Node = &Project{Input: input, Exprs: exprs, schema: cols}
	if sel.Distinct {
		node = &Distinct{Input: node, Width: width}
	}
	if len(keys) > 0 {
		node = &Sort{Input: node, Keys: keys}
	}
	if sel.Limit != nil {
		if node, err = b.limit(node, sel.Limit); err != nil {
			return nil, nil, err
		}
		// Limit push-down into a single table scan with no sort, filter
		// above it, aggregation or DISTINCT.
		if !b.Naive && len(keys) == 0 && agg == nil && !sel.Distinct && len(fc.leaves) == 1 && fc.leaves[0].access != nil && !fc.leaves[0].access.Point {
			if _, isFilter := input.(*Filter); !isFilter {
				if n := constLimit(sel.Limit); n > 0 {
					fc.leaves[0].access.Limit = n
				}
			}
		}
	}
	if len(node.Schema()) != width {
		node = &Trim{Input: node, Width: width}
	}
	return replaceJoins(node, fc), in, nil
}

func constLimit(l *ast.Limit) int {
	get := func(e ast.ExprNode) (int, bool) {
		if e == nil {
			return 0, true
		}
		v, ok := e.(*test_driver.ValueExpr)
		if !ok {
			return 0, false
		}
		i, err := types.ToInt(datumValue(&v.Datum))
		return int(i), err == nil
	}
	c, ok1 := get(l.Count)
	o, ok2 := get(l.Offset)
	if !ok1 || !ok2 || c+o > 1<<20 {
		return 0
	}
	return c + o
}

func (b *Builder) limit(node Node, l *ast.Limit) (Node, error) {
	lim := &Limit{Input: node}
	var err error
	empty := &scope{}
	if l.Count != nil {
		if lim.Count, err = b.compile(empty, l.Count); err != nil {
			return nil, err
		}
	}
	if l.Offset != nil {
		if lim.Offset, err = b.compile(empty, l.Offset); err != nil {
			return nil, err
		}
	}
	if s, ok := node.(*Sort); ok && !b.Naive {
		if n := constLimit(l); n > 0 {
			s.TopN = n
		}
	}
	return lim, nil
}

// orderLimit adds ORDER BY and LIMIT over a union's output.
func (b *Builder) orderLimit(s *scope, node Node, ob *ast.OrderByClause, l *ast.Limit, width int, _ any) (Node, error) {
	if ob != nil {
		var keys []SortKey
		for _, item := range ob.Items {
			var e expr.Expr
			var err error
			if p, ok := item.Expr.(*ast.PositionExpr); ok {
				if p.N < 1 || p.N > width {
					return nil, &UnknownColumnError{Name: fmt.Sprint(p.N), Where: "order clause"}
				}
				e = &expr.ColRef{Idx: p.N - 1}
			} else if e, err = b.compile(s, item.Expr); err != nil {
				return nil, err
			}
			keys = append(keys, SortKey{X: e, Desc: item.Desc})
		}
		node = &Sort{Input: node, Keys: keys}
	}
	if l != nil {
		return b.limit(node, l)
	}
	return node, nil
}

func (b *Builder) orderKey(post *scope, item *ast.ByItem, fields []*ast.SelectField, exprs []expr.Expr) (SortKey, error) {
	if p, ok := item.Expr.(*ast.PositionExpr); ok {
		if p.N < 1 || p.N > len(exprs) {
			return SortKey{}, &UnknownColumnError{Name: fmt.Sprint(p.N), Where: "order clause"}
		}
		return SortKey{X: exprs[p.N-1], Desc: item.Desc}, nil
	}
	if c, ok := item.Expr.(*ast.ColumnNameExpr); ok && c.Name.Table.L == "" {
		for i, f := range fields {
			if f.AsName.L != "" && f.AsName.L == c.Name.Name.L {
				return SortKey{X: exprs[i], Desc: item.Desc}, nil
			}
		}
	}
	e, err := b.compile(post, item.Expr)
	if err != nil {
		return SortKey{}, err
	}
	return SortKey{X: e, Desc: item.Desc}, nil
}

// Sort keys are evaluated over the projected row: rewrite them as
// references to projection outputs (appending hidden columns).
func projectSortKeys(keys []SortKey, exprs *[]expr.Expr, cols *[]Column) {
	for i := range keys {
		found := -1
		for j, e := range *exprs {
			if e.String() == keys[i].X.String() {
				found = j
				break
			}
		}
		if found < 0 {
			*exprs = append(*exprs, keys[i].X)
			*cols = append(*cols, Column{Name: keys[i].X.String()})
			found = len(*exprs) - 1
		}
		keys[i].X = &expr.ColRef{Idx: found, Name: (*cols)[found].Name}
	}
}

func fieldText(f *ast.SelectField) string {
	if t := f.Text(); t != "" {
		return t
	}
	return restore(f.Expr)
}

func fieldsHaveAgg(fl *ast.FieldList) bool {
	found := false
	for _, f := range fl.Fields {
		if f.Expr != nil {
			f.Expr.Accept(&aggFinder{found: &found})
		}
	}
	return found
}

type aggFinder struct{ found *bool }

func (a *aggFinder) Enter(n ast.Node) (ast.Node, bool) {
	switch n.(type) {
	case *ast.AggregateFuncExpr:
		*a.found = true
		return n, true
	case *ast.SubqueryExpr:
		return n, true
	}
	return n, false
}

func (a *aggFinder) Leave(n ast.Node) (ast.Node, bool) { return n, true }

func splitAnd(e ast.ExprNode) []ast.ExprNode {
	if b, ok := e.(*ast.BinaryOperationExpr); ok && binOps[b.Op] == "and" {
		return append(splitAnd(b.L), splitAnd(b.R)...)
	}
	if p, ok := e.(*ast.ParenthesesExpr); ok {
		return splitAnd(p.Expr)
	}
	return []ast.ExprNode{e}
}

// exprType guesses the result type of e for column metadata.
func exprType(e expr.Expr, in []Column) types.T {
	switch e := e.(type) {
	case *expr.ColRef:
		if e.Idx < len(in) {
			return in[e.Idx].Type
		}
	case *expr.Const:
		return valueType(e.V)
	case *expr.Cast:
		return e.T
	case *expr.Binary:
		switch e.Op {
		case "plus", "minus", "mul", "mod", "intdiv":
			l, r := exprType(e.L, in), exprType(e.R, in)
			if l.Kind() == types.KFloat || r.Kind() == types.KFloat {
				return types.T{Name: types.TDouble}
			}
			if l.Kind() == types.KDecimal || r.Kind() == types.KDecimal {
				return types.T{Name: types.TDecimal, Len: 18, Scale: max(l.Scale, r.Scale)}
			}
			return types.T{Name: types.TBigInt}
		case "div":
			return types.T{Name: types.TDecimal, Len: 18, Scale: 4}
		}
		return types.T{Name: types.TBigInt}
	case *expr.Func:
		switch e.Name {
		case "now", "current_timestamp", "sysdate", "date_add", "date_sub", "adddate", "subdate":
			return types.T{Name: types.TDatetime}
		case "length", "char_length", "unix_timestamp", "connection_id", "last_insert_id", "year", "month", "day":
			return types.T{Name: types.TBigInt}
		}
		return types.T{Name: types.TVarchar, Len: 255}
	}
	return types.T{Name: types.TVarchar, Len: 255}
}

func valueType(v types.Value) types.T {
	switch v.K {
	case types.KInt:
		return types.T{Name: types.TBigInt}
	case types.KFloat:
		return types.T{Name: types.TDouble}
	case types.KDecimal:
		return types.T{Name: types.TDecimal, Len: 18, Scale: v.Scale}
	case types.KTime:
		if v.Scale == types.TimeDate {
			return types.T{Name: types.TDate}
		}
		return types.T{Name: types.TDatetime}
	case types.KBytes:
		return types.T{Name: types.TBlob}
	}
	return types.T{Name: types.TVarchar, Len: 255}
}

func aggType(f AggFunc, in []Column) types.T {
	switch f.Name {
	case "count", "count_star":
		return types.T{Name: types.TBigInt}
	case "avg":
		return types.T{Name: types.TDecimal, Len: 18, Scale: 4}
	case "sum":
		t := exprType(f.Arg, in)
		if t.Kind() == types.KFloat {
			return t
		}
		if t.Kind() == types.KDecimal {
			return types.T{Name: types.TDecimal, Len: 18, Scale: t.Scale}
		}
		return types.T{Name: types.TDecimal, Len: 18}
	}
	return exprType(f.Arg, in)
}

// CompileConst compiles an expression that references no columns (SET
// values, AS OF TIMESTAMP, SPLIT bounds).
func (b *Builder) CompileConst(e ast.ExprNode) (expr.Expr, error) {
	return b.compile(&scope{}, e)
}

// NewValues returns a virtual table whose rows gen produces at run time.
func NewValues(name string, cols []Column, gen func(env *expr.Env) ([]expr.Row, error)) *Values {
	return &Values{Name: name, schema: cols, Gen: gen}
}
