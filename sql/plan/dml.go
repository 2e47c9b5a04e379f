package plan

import (
	"fmt"

	"github.com/pingcap/tidb/pkg/parser/ast"

	"github.com/meridiandb/meridian/sql/catalog"
	"github.com/meridiandb/meridian/sql/expr"
	"github.com/meridiandb/meridian/sql/types"
)

// Assignment sets column Col (an ordinal of the table) to X, evaluated over
// the old row (UPDATE) or over old row ++ new row (ON DUPLICATE KEY UPDATE).
type Assignment struct {
	Col int
	X   expr.Expr
}

// Insert is INSERT / REPLACE.
type Insert struct {
	Table *catalog.Table
	DB    string
	// Cols are the table ordinals the values go to.
	Cols []int
	// Rows are VALUES rows; Source a SELECT (one of the two is set).
	Rows    [][]expr.Expr
	Source  Node
	Replace bool
	Ignore  bool
	// OnDup are the ON DUPLICATE KEY UPDATE assignments, over
	// old row ++ inserted row.
	OnDup []Assignment
}

func (i *Insert) Schema() []Column { return nil }
func (i *Insert) Children() []Node {
	if i.Source != nil {
		return []Node{i.Source}
	}
	return nil
}

// Update is a single-table UPDATE: Source produces full table rows.
type Update struct {
	Table  *catalog.Table
	Source Node
	Sets   []Assignment
}

func (u *Update) Schema() []Column { return nil }
func (u *Update) Children() []Node { return []Node{u.Source} }

// Delete is a single-table DELETE: Source produces full table rows.
type Delete struct {
	Table  *catalog.Table
	Source Node
}

func (d *Delete) Schema() []Column { return nil }
func (d *Delete) Children() []Node { return []Node{d.Source} }

// singleTable returns the one table an UPDATE/DELETE names.
func singleTable(refs *ast.TableRefsClause) (*ast.TableName, string, error) {
	if refs == nil || refs.TableRefs == nil || refs.TableRefs.Right != nil {
		return nil, "", &UnsupportedError{What: "multi-table UPDATE/DELETE"}
	}
	ts, ok := refs.TableRefs.Left.(*ast.TableSource)
	if !ok {
		return nil, "", &UnsupportedError{What: "this UPDATE/DELETE target"}
	}
	tn, ok := ts.Source.(*ast.TableName)
	if !ok {
		return nil, "", &UnsupportedError{What: "this UPDATE/DELETE target"}
	}
	alias := ts.AsName.O
	if alias == "" {
		alias = tn.Name.O
	}
	return tn, alias, nil
}

// source plans the rows an UPDATE or DELETE touches (locked FOR UPDATE).
func (b *Builder) source(tn *ast.TableName, alias string, where ast.ExprNode, order *ast.OrderByClause, limit *ast.Limit) (*TableAccess, Node, *scope, error) {
	fc := &fromCtx{}
	node, err := b.buildTable(fc, tn, alias, false)
	if err != nil {
		return nil, nil, nil, err
	}
	ta, ok := node.(*TableAccess)
	if !ok {
		return nil, nil, nil, fmt.Errorf("table '%s' is read only", tn.Name.O)
	}
	ta.ForUpdate = true
	s := &scope{cols: ta.schema}
	if where != nil {
		b.clause = "where clause"
		var rest []expr.Expr
		for _, c := range splitAnd(where) {
			e, err := b.compile(s, c)
			if err != nil {
				return nil, nil, nil, err
			}
			if !b.pushDown(fc, e) {
				rest = append(rest, e)
			}
		}
		b.finishLeaves(fc)
		if len(rest) > 0 {
			node = &Filter{Input: node, Cond: expr.And(rest)}
		}
	}
	if order != nil {
		b.clause = "order clause"
		var keys []SortKey
		for _, item := range order.Items {
			e, err := b.compile(s, item.Expr)
			if err != nil {
				return nil, nil, nil, err
			}
			keys = append(keys, SortKey{X: e, Desc: item.Desc})
		}
		if b.Naive || !b.elideSort(ta, keys) {
			node = &Sort{Input: node, Keys: keys}
		}
	}
	if limit != nil {
		if node, err = b.limit(node, limit); err != nil {
			return nil, nil, nil, err
		}
	}
	return ta, node, s, nil
}

// BuildUpdate plans a single-table UPDATE.
func (b *Builder) BuildUpdate(n *ast.UpdateStmt) (*Update, error) {
	tn, alias, err := singleTable(n.TableRefs)
	if err != nil {
		return nil, err
	}
	ta, src, s, err := b.source(tn, alias, n.Where, n.Order, n.Limit)
	if err != nil {
		return nil, err
	}
	u := &Update{Table: ta.Table, Source: src}
	b.clause = "field list"
	for _, a := range n.List {
		ord, col := ta.Table.ColumnByName(a.Column.Name.O)
		if col == nil || col.Hidden {
			return nil, &UnknownColumnError{Name: a.Column.Name.O, Where: "field list"}
		}
		var x expr.Expr
		if _, ok := a.Expr.(*ast.DefaultExpr); ok {
			x = DefaultExpr(col)
		} else if x, err = b.compile(s, a.Expr); err != nil {
			return nil, err
		}
		u.Sets = append(u.Sets, Assignment{Col: ord, X: x})
	}
	return u, nil
}

// BuildDelete plans a single-table DELETE.
func (b *Builder) BuildDelete(n *ast.DeleteStmt) (*Delete, error) {
	if n.IsMultiTable {
		return nil, &UnsupportedError{What: "multi-table DELETE"}
	}
	tn, alias, err := singleTable(n.TableRefs)
	if err != nil {
		return nil, err
	}
	ta, src, _, err := b.source(tn, alias, n.Where, n.Order, n.Limit)
	if err != nil {
		return nil, err
	}
	return &Delete{Table: ta.Table, Source: src}, nil
}

// DefaultExpr returns the expression of a column's default value.
func DefaultExpr(c *catalog.Column) expr.Expr {
	if c.Default == nil {
		return &expr.Const{V: types.Null}
	}
	if *c.Default == "CURRENT_TIMESTAMP" {
		return mustFunc("now")
	}
	return &expr.Const{V: types.NewString(*c.Default)}
}

// BuildInsert plans INSERT / REPLACE.
func (b *Builder) BuildInsert(n *ast.InsertStmt) (*Insert, error) {
	ts, ok := n.Table.TableRefs.Left.(*ast.TableSource)
	if !ok {
		return nil, &UnsupportedError{What: "this INSERT target"}
	}
	tn, ok := ts.Source.(*ast.TableName)
	if !ok {
		return nil, &UnsupportedError{What: "this INSERT target"}
	}
	db := tn.Schema.O
	if db == "" {
		db = b.DB
	}
	if db == "" {
		return nil, &NoDatabaseError{}
	}
	t := b.Snap.Table(db, tn.Name.O)
	if t == nil {
		return nil, &NoSuchTableError{DB: db, Table: tn.Name.O}
	}
	b.Tables = append(b.Tables, t)
	ins := &Insert{Table: t, DB: db, Replace: n.IsReplace, Ignore: n.IgnoreErr}
	if len(n.Columns) > 0 {
		for _, c := range n.Columns {
			ord, col := t.ColumnByName(c.Name.O)
			if col == nil {
				return nil, &UnknownColumnError{Name: c.Name.O, Where: "field list"}
			}
			ins.Cols = append(ins.Cols, ord)
		}
	} else {
		for i, c := range t.Columns {
			if c.Listed() {
				ins.Cols = append(ins.Cols, i)
			}
		}
	}
	empty := &scope{}
	b.clause = "field list"
	compileRow := func(list []ast.ExprNode) ([]expr.Expr, error) {
		if len(list) != len(ins.Cols) {
			return nil, &ColumnCountError{}
		}
		row := make([]expr.Expr, len(list))
		for i, v := range list {
			if d, ok := v.(*ast.DefaultExpr); ok && d.Name == nil {
				row[i] = DefaultExpr(&t.Columns[ins.Cols[i]])
				continue
			}
			e, err := b.compile(empty, v)
			if err != nil {
				return nil, err
			}
			row[i] = e
		}
		return row, nil
	}
	switch {
	case n.Select != nil:
		src, err := b.buildQuery(nil, n.Select)
		if err != nil {
			return nil, err
		}
		if len(src.Schema()) != len(ins.Cols) {
			return nil, &ColumnCountError{}
		}
		ins.Source = src
	default:
		for _, l := range n.Lists {
			row, err := compileRow(l)
			if err != nil {
				return nil, err
			}
			ins.Rows = append(ins.Rows, row)
		}
	}
	if len(n.OnDuplicate) > 0 {
		ta := NewTableAccess(t, db, tn.Name.O)
		w := len(ta.schema)
		s := &scope{cols: ta.schema}
		s.values = func(name string) (expr.Expr, error) {
			ord, col := t.ColumnByName(name)
			if col == nil {
				return nil, &UnknownColumnError{Name: name, Where: "field list"}
			}
			return &expr.ColRef{Idx: w + ord, Name: "values(" + name + ")"}, nil
		}
		for _, a := range n.OnDuplicate {
			ord, col := t.ColumnByName(a.Column.Name.O)
			if col == nil {
				return nil, &UnknownColumnError{Name: a.Column.Name.O, Where: "field list"}
			}
			x, err := b.compile(s, a.Expr)
			if err != nil {
				return nil, err
			}
			ins.OnDup = append(ins.OnDup, Assignment{Col: ord, X: x})
		}
	}
	return ins, nil
}

// ColumnCountError is MySQL 1136.
type ColumnCountError struct{}

func (e *ColumnCountError) Error() string { return "Column count doesn't match value count at row 1" }
