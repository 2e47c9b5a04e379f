package plan

import (
	"github.com/meridiandb/meridian/sql/catalog"
	"github.com/meridiandb/meridian/sql/expr"
	"github.com/meridiandb/meridian/sql/types"
)

// Column is one column of an operator's output.
type Column struct {
	Name  string
	Table string // alias of the table it came from, "" for computed columns
	DB    string
	Type  types.T
	// Hidden columns (the implicit _rowid, write-only columns) are not
	// expanded by *.
	Hidden bool
	// WriteOnly columns (being added or dropped) resolve no name.
	WriteOnly bool
}

// Node is a physical plan operator.
type Node interface {
	Schema() []Column
	Children() []Node
}

// Bound is one end of a key range on one key column.
type Bound struct {
	X         expr.Expr
	Inclusive bool
}

// KeyRange constrains an index: equalities on a prefix of its columns,
// then an optional range on the next column. Alternatives (an IN list on
// the first column) are separate KeyRanges.
type KeyRange struct {
	Eq     []expr.Expr
	Lo, Hi *Bound
}

// TableAccess reads one table. With Point set, every KeyRange has all the
// index's columns in Eq and Unique is true, so each range is one Get.
type TableAccess struct {
	Table *catalog.Table
	Alias string
	DB    string
	// Index is the primary index or a public secondary index.
	Index  *catalog.Index
	Ranges []KeyRange // nil: the whole index
	Point  bool
	// Reverse scans in descending key order (ORDER BY … DESC elided).
	Reverse bool
	// Limit, when > 0, bounds the rows the scan needs to produce (limit
	// push-down; the scan pages and stops early).
	Limit     int
	ForUpdate bool
	// Filter is the part of WHERE that references only this table,
	// evaluated on each row as it is read (predicate push-down).
	Filter expr.Expr
	schema []Column
}

func (t *TableAccess) Schema() []Column { return t.schema }
func (t *TableAccess) Children() []Node { return nil }

// Values produces constant rows (SELECT without FROM, VALUES, and virtual
// tables such as information_schema, whose Gen produces the rows when the
// statement runs).
type Values struct {
	Rows   [][]expr.Expr
	Gen    func(env *expr.Env) ([]expr.Row, error)
	Name   string
	schema []Column
}

func (v *Values) Schema() []Column { return v.schema }
func (v *Values) Children() []Node { return nil }

// Filter keeps rows where Cond is true.
type Filter struct {
	Input Node
	Cond  expr.Expr
}

func (f *Filter) Schema() []Column { return f.Input.Schema() }
func (f *Filter) Children() []Node { return []Node{f.Input} }

// Project computes Exprs over each input row.
type Project struct {
	Input  Node
	Exprs  []expr.Expr
	schema []Column
}

func (p *Project) Schema() []Column { return p.schema }
func (p *Project) Children() []Node { return []Node{p.Input} }

// JoinKind is INNER, LEFT, or SEMI.
type JoinKind int

const (
	InnerJoin JoinKind = iota
	LeftJoin
)

// HashJoin joins on equalities LeftKeys[i] = RightKeys[i] (building a hash
// table on the right input), then applies Cond; with no keys it is a nested
// loop join.
type HashJoin struct {
	Kind                JoinKind
	Left, Right         Node
	LeftKeys, RightKeys []expr.Expr
	Cond                expr.Expr // over the concatenated row; may be nil
	schema              []Column
}

func (j *HashJoin) Schema() []Column { return j.schema }
func (j *HashJoin) Children() []Node { return []Node{j.Left, j.Right} }

// IndexJoin looks up, for each left row, the right table's rows whose
// index key equals Keys evaluated on the left row (an index-lookup join).
type IndexJoin struct {
	Kind   JoinKind
	Left   Node
	Right  *TableAccess // Ranges is ignored; Keys give the lookup
	Keys   []expr.Expr  // over the left row; a prefix of Right.Index's columns
	Cond   expr.Expr    // over the concatenated row; may be nil
	schema []Column
}

func (j *IndexJoin) Schema() []Column { return j.schema }
func (j *IndexJoin) Children() []Node { return []Node{j.Left, j.Right} }

// AggFunc is one aggregate.
type AggFunc struct {
	Name     string // count, sum, avg, min, max, first (any value), count_star
	Arg      expr.Expr
	Distinct bool
}

// Agg is hash aggregation: output = GroupBy values then one column per Agg.
type Agg struct {
	Input   Node
	GroupBy []expr.Expr
	Aggs    []AggFunc
	// Scalar aggregation (no GROUP BY) yields one row even on empty input.
	Scalar bool
	schema []Column
}

func (a *Agg) Schema() []Column { return a.schema }
func (a *Agg) Children() []Node { return []Node{a.Input} }

// SortKey is one ORDER BY key.
type SortKey struct {
	X    expr.Expr
	Desc bool
}

// Sort orders its input; with TopN > 0 it keeps only the first TopN rows
// (a heap, for ORDER BY … LIMIT).
type Sort struct {
	Input Node
	Keys  []SortKey
	TopN  int
}

func (s *Sort) Schema() []Column { return s.Input.Schema() }
func (s *Sort) Children() []Node { return []Node{s.Input} }

// Limit skips Offset rows and returns at most Count.
type Limit struct {
	Input         Node
	Count, Offset expr.Expr // Count nil: no limit
}

func (l *Limit) Schema() []Column { return l.Input.Schema() }
func (l *Limit) Children() []Node { return []Node{l.Input} }

// Distinct removes duplicate rows (over the first Width columns).
type Distinct struct {
	Input Node
	Width int
}

func (d *Distinct) Schema() []Column { return d.Input.Schema() }
func (d *Distinct) Children() []Node { return []Node{d.Input} }

// Union concatenates its inputs; without All it removes duplicates.
type Union struct {
	Inputs []Node
	All    bool
}

func (u *Union) Schema() []Column { return u.Inputs[0].Schema() }
func (u *Union) Children() []Node { return u.Inputs }

// Trim keeps the first Width columns (dropping hidden sort columns).
type Trim struct {
	Input Node
	Width int
}

func (t *Trim) Schema() []Column { return t.Input.Schema()[:t.Width] }
func (t *Trim) Children() []Node { return []Node{t.Input} }
