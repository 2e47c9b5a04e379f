package plan

import (
	"fmt"
	"strings"

	"github.com/pingcap/tidb/pkg/parser/ast"
	pmysql "github.com/pingcap/tidb/pkg/parser/mysql"
	"github.com/pingcap/tidb/pkg/parser/opcode"
	"github.com/pingcap/tidb/pkg/parser/test_driver"
	ptypes "github.com/pingcap/tidb/pkg/parser/types"

	"github.com/meridiandb/meridian/sql/expr"
	"github.com/meridiandb/meridian/sql/types"
)

// scope resolves column names to positions of an operator's output row.
type scope struct {
	cols  []Column
	outer *scope
	agg   *aggCtx
	// aliases are SELECT-list aliases usable in ORDER BY / HAVING:
	// name → expression compiled in this scope.
	aliases map[string]expr.Expr
	// values, when set, resolves VALUES(col) in ON DUPLICATE KEY UPDATE.
	values func(name string) (expr.Expr, error)
}

// aggCtx compiles expressions above an aggregation: group-by expressions
// and aggregates become references to the Agg operator's output.
type aggCtx struct {
	input    *scope
	groupTxt []string
	groupBy  []expr.Expr
	aggs     []AggFunc
	aggTxt   []string
}

// Error types the session maps to MySQL error codes.

// UnknownColumnError is MySQL 1054.
type UnknownColumnError struct{ Name, Where string }

func (e *UnknownColumnError) Error() string {
	return fmt.Sprintf("Unknown column '%s' in '%s'", e.Name, e.Where)
}

// AmbiguousColumnError is MySQL 1052.
type AmbiguousColumnError struct{ Name string }

func (e *AmbiguousColumnError) Error() string {
	return fmt.Sprintf("Column '%s' in field list is ambiguous", e.Name)
}

// NoSuchTableError is MySQL 1146.
type NoSuchTableError struct{ DB, Table string }

func (e *NoSuchTableError) Error() string {
	return fmt.Sprintf("Table '%s.%s' doesn't exist", e.DB, e.Table)
}

// NoDatabaseError is MySQL 1046.
type NoDatabaseError struct{}

func (e *NoDatabaseError) Error() string { return "No database selected" }

// UnsupportedError is MySQL 1235 (not supported yet).
type UnsupportedError struct{ What string }

func (e *UnsupportedError) Error() string {
	return fmt.Sprintf("This version of Meridian doesn't yet support '%s'", e.What)
}

func restore(n ast.Node) string {
	var sb strings.Builder
	if n == nil {
		return ""
	}
	if err := n.Restore(newRestoreCtx(&sb)); err != nil {
		return fmt.Sprintf("%T", n)
	}
	return sb.String()
}

func (s *scope) resolve(name *ast.ColumnName) (int, error) {
	idx := -1
	for i, c := range s.cols {
		if c.WriteOnly || !strings.EqualFold(c.Name, name.Name.O) {
			continue
		}
		if name.Table.L != "" && !strings.EqualFold(c.Table, name.Table.O) {
			continue
		}
		if name.Schema.L != "" && c.DB != "" && !strings.EqualFold(c.DB, name.Schema.O) {
			continue
		}
		if idx >= 0 {
			return -1, &AmbiguousColumnError{Name: name.Name.O}
		}
		idx = i
	}
	return idx, nil
}

// compile compiles an AST expression in scope s.
func (b *Builder) compile(s *scope, n ast.ExprNode) (expr.Expr, error) {
	if s.agg != nil {
		if e, ok, err := b.compileAggRef(s, n); ok || err != nil {
			return e, err
		}
	}
	switch n := n.(type) {
	case *test_driver.ValueExpr:
		return &expr.Const{V: datumValue(&n.Datum)}, nil
	case *test_driver.ParamMarkerExpr:
		if n.Order >= b.NumParams {
			b.NumParams = n.Order + 1
		}
		return &expr.Param{Idx: n.Order}, nil
	case *ast.ColumnNameExpr:
		return b.compileColumn(s, n.Name)
	case *ast.ParenthesesExpr:
		return b.compile(s, n.Expr)
	case *ast.BinaryOperationExpr:
		l, err := b.compile(s, n.L)
		if err != nil {
			return nil, err
		}
		r, err := b.compile(s, n.R)
		if err != nil {
			return nil, err
		}
		op, ok := binOps[n.Op]
		if !ok {
			return nil, &UnsupportedError{What: "operator " + n.Op.String()}
		}
		return &expr.Binary{Op: op, L: l, R: r}, nil
	case *ast.UnaryOperationExpr:
		x, err := b.compile(s, n.V)
		if err != nil {
			return nil, err
		}
		switch n.Op {
		case opcode.Not, opcode.Not2:
			return &expr.Unary{Op: "not", X: x}, nil
		case opcode.Minus:
			if c, ok := x.(*expr.Const); ok && c.V.K == types.KInt && c.V.I != -c.V.I {
				return &expr.Const{V: types.NewInt(-c.V.I)}, nil
			}
			return &expr.Unary{Op: "neg", X: x}, nil
		case opcode.Plus:
			return x, nil
		case opcode.BitNeg:
			return &expr.Unary{Op: "bitneg", X: x}, nil
		}
		return nil, &UnsupportedError{What: "operator " + n.Op.String()}
	case *ast.IsNullExpr:
		x, err := b.compile(s, n.Expr)
		if err != nil {
			return nil, err
		}
		return &expr.IsNull{X: x, Not: n.Not}, nil
	case *ast.IsTruthExpr:
		x, err := b.compile(s, n.Expr)
		if err != nil {
			return nil, err
		}
		return &expr.IsTruth{X: x, Not: n.Not, True: n.True > 0}, nil
	case *ast.BetweenExpr:
		x, err := b.compile(s, n.Expr)
		if err != nil {
			return nil, err
		}
		lo, err := b.compile(s, n.Left)
		if err != nil {
			return nil, err
		}
		hi, err := b.compile(s, n.Right)
		if err != nil {
			return nil, err
		}
		e := expr.Expr(&expr.Binary{Op: "and", L: &expr.Binary{Op: "ge", L: x, R: lo}, R: &expr.Binary{Op: "le", L: x, R: hi}})
		if n.Not {
			e = &expr.Unary{Op: "not", X: e}
		}
		return e, nil
	case *ast.PatternInExpr:
		x, err := b.compile(s, n.Expr)
		if err != nil {
			return nil, err
		}
		if n.Sel != nil {
			sq, err := b.subquery(s, n.Sel, expr.SubIn)
			if err != nil {
				return nil, err
			}
			sq.X, sq.Not = x, n.Not
			return sq, nil
		}
		in := &expr.In{X: x, Not: n.Not}
		for _, it := range n.List {
			e, err := b.compile(s, it)
			if err != nil {
				return nil, err
			}
			in.List = append(in.List, e)
		}
		return in, nil
	case *ast.PatternLikeOrIlikeExpr:
		x, err := b.compile(s, n.Expr)
		if err != nil {
			return nil, err
		}
		p, err := b.compile(s, n.Pattern)
		if err != nil {
			return nil, err
		}
		if !n.IsLike {
			x = mustFunc("lower", x)
			p = mustFunc("lower", p)
		}
		return &expr.Like{X: x, Pattern: p, Escape: n.Escape, Not: n.Not}, nil
	case *ast.CaseExpr:
		c := &expr.Case{}
		var err error
		if n.Value != nil {
			if c.Operand, err = b.compile(s, n.Value); err != nil {
				return nil, err
			}
		}
		for _, w := range n.WhenClauses {
			we, err := b.compile(s, w.Expr)
			if err != nil {
				return nil, err
			}
			te, err := b.compile(s, w.Result)
			if err != nil {
				return nil, err
			}
			c.Whens, c.Thens = append(c.Whens, we), append(c.Thens, te)
		}
		if n.ElseClause != nil {
			if c.Else, err = b.compile(s, n.ElseClause); err != nil {
				return nil, err
			}
		}
		return c, nil
	case *ast.FuncCallExpr:
		return b.compileFunc(s, n)
	case *ast.FuncCastExpr:
		x, err := b.compile(s, n.Expr)
		if err != nil {
			return nil, err
		}
		t, err := FieldType(n.Tp)
		if err != nil {
			return nil, err
		}
		return &expr.Cast{X: x, T: t, Lenient: true}, nil
	case *ast.AggregateFuncExpr:
		return nil, fmt.Errorf("Invalid use of group function")
	case *ast.SubqueryExpr:
		kind := expr.SubScalar
		if n.Exists {
			kind = expr.SubExists
		}
		return b.subquery(s, n, kind)
	case *ast.ExistsSubqueryExpr:
		sq, err := b.subquery(s, n.Sel, expr.SubExists)
		if err != nil {
			return nil, err
		}
		sq.Not = n.Not
		return sq, nil
	case *ast.CompareSubqueryExpr:
		x, err := b.compile(s, n.L)
		if err != nil {
			return nil, err
		}
		kind := expr.SubCompareAny
		if n.All {
			kind = expr.SubCompareAll
		}
		sq, err := b.subquery(s, n.R, kind)
		if err != nil {
			return nil, err
		}
		sq.X, sq.Op = x, binOps[n.Op]
		return sq, nil
	case *ast.VariableExpr:
		if n.IsSystem {
			return &expr.SysVar{Name: n.Name}, nil
		}
		return &expr.UserVar{Name: n.Name}, nil
	case *ast.ValuesExpr:
		if s.values == nil {
			return &expr.Const{V: types.Null}, nil
		}
		return s.values(n.Column.Name.Name.O)
	case *ast.DefaultExpr:
		return nil, &UnsupportedError{What: "DEFAULT in this position"}
	case *ast.RowExpr:
		return nil, &UnsupportedError{What: "row expressions"}
	}
	return nil, &UnsupportedError{What: fmt.Sprintf("expression %T", n)}
}

func mustFunc(name string, args ...expr.Expr) expr.Expr {
	f, err := expr.NewFunc(name, args)
	if err != nil {
		panic(fmt.Sprintf("plan: builtin %s: %v", name, err))
	}
	return f
}

var binOps = map[opcode.Op]string{
	opcode.LogicAnd: "and", opcode.LogicOr: "or", opcode.LogicXor: "xor",
	opcode.EQ: "eq", opcode.NE: "ne", opcode.LT: "lt", opcode.LE: "le", opcode.GT: "gt", opcode.GE: "ge",
	opcode.NullEQ: "nulleq", opcode.Plus: "plus", opcode.Minus: "minus", opcode.Mul: "mul",
	opcode.Div: "div", opcode.IntDiv: "intdiv", opcode.Mod: "mod",
}

func (b *Builder) compileColumn(s *scope, name *ast.ColumnName) (expr.Expr, error) {
	if name.Table.L == "" && s.aliases != nil {
		if e, ok := s.aliases[name.Name.L]; ok {
			if idx, err := s.resolve(name); err == nil && idx < 0 {
				return e, nil
			}
		}
	}
	depth := 0
	for sc := s; sc != nil; sc = sc.outer {
		idx, err := sc.resolve(name)
		if err != nil {
			return nil, err
		}
		if idx >= 0 {
			if depth == 0 {
				return &expr.ColRef{Idx: idx, Name: columnLabel(sc.cols[idx])}, nil
			}
			b.outerTargets = append(b.outerTargets, sc)
			return &expr.OuterRef{Depth: depth, Idx: idx, Name: columnLabel(sc.cols[idx])}, nil
		}
		depth++
	}
	full := name.Name.O
	if name.Table.O != "" {
		full = name.Table.O + "." + full
	}
	return nil, &UnknownColumnError{Name: full, Where: b.clause}
}

func columnLabel(c Column) string {
	if c.Table != "" {
		return c.Table + "." + c.Name
	}
	return c.Name
}

func (b *Builder) compileFunc(s *scope, n *ast.FuncCallExpr) (expr.Expr, error) {
	name := n.FnName.L
	var args []expr.Expr
	for _, a := range n.Args {
		switch a := a.(type) {
		case *ast.TimeUnitExpr:
			// DATE_ADD / DATE_SUB (and ± INTERVAL) take the unit as a
			// string argument.
			switch name {
			case "date_add", "date_sub", "adddate", "subdate":
				unit := strings.ToUpper(a.Unit.String())
				if !expr.IsIntervalUnit(unit) {
					return nil, &UnsupportedError{What: "INTERVAL unit " + unit}
				}
				args = append(args, &expr.Const{V: types.NewString(unit)})
			}
			continue
		case *ast.TrimDirectionExpr, *ast.GetFormatSelectorExpr:
			continue
		}
		e, err := b.compile(s, a)
		if err != nil {
			return nil, err
		}
		args = append(args, e)
	}
	if name == "trim" && len(args) > 1 {
		args = args[:1]
	}
	f, err := expr.NewFunc(name, args)
	if err != nil {
		return nil, err
	}
	return f, nil
}

// compileAggRef handles expressions above an aggregation.
func (b *Builder) compileAggRef(s *scope, n ast.ExprNode) (expr.Expr, bool, error) {
	a := s.agg
	txt := restore(n)
	for i, g := range a.groupTxt {
		if g == txt {
			return &expr.ColRef{Idx: i, Name: txt}, true, nil
		}
	}
	switch n := n.(type) {
	case *ast.AggregateFuncExpr:
		name := strings.ToLower(n.F)
		for i, t := range a.aggTxt {
			if t == txt {
				return &expr.ColRef{Idx: len(a.groupBy) + i, Name: txt}, true, nil
			}
		}
		f := AggFunc{Name: name, Distinct: n.Distinct}
		switch name {
		case "count", "sum", "avg", "min", "max":
		default:
			return nil, true, &UnsupportedError{What: "aggregate " + name}
		}
		if len(n.Args) != 1 {
			return nil, true, fmt.Errorf("Incorrect parameter count in the call to native function '%s'", name)
		}
		if v, ok := n.Args[0].(*test_driver.ValueExpr); ok && name == "count" && v.Datum.Kind() != test_driver.KindNull {
			f.Name = "count_star"
		} else {
			arg, err := b.compile(a.input, n.Args[0])
			if err != nil {
				return nil, true, err
			}
			f.Arg = arg
		}
		a.aggs = append(a.aggs, f)
		a.aggTxt = append(a.aggTxt, txt)
		return &expr.ColRef{Idx: len(a.groupBy) + len(a.aggs) - 1, Name: txt}, true, nil
	case *ast.ColumnNameExpr:
		if n.Name.Table.L == "" && s.aliases != nil {
			if e, ok := s.aliases[n.Name.Name.L]; ok {
				return e, true, nil
			}
		}
		idx, err := a.input.resolve(n.Name)
		if err != nil {
			return nil, true, err
		}
		if idx < 0 {
			e, err := b.compileColumn(&scope{outer: a.input.outer}, n.Name)
			return e, true, err
		}
		for i, g := range a.groupBy {
			if c, ok := g.(*expr.ColRef); ok && c.Idx == idx {
				return &expr.ColRef{Idx: i, Name: c.Name}, true, nil
			}
		}
		// A column that is neither grouped nor aggregated: any value of
		// the group (MySQL without ONLY_FULL_GROUP_BY).
		a.aggs = append(a.aggs, AggFunc{Name: "first", Arg: &expr.ColRef{Idx: idx, Name: columnLabel(a.input.cols[idx])}})
		a.aggTxt = append(a.aggTxt, "first("+txt+")")
		return &expr.ColRef{Idx: len(a.groupBy) + len(a.aggs) - 1, Name: txt}, true, nil
	}
	return nil, false, nil
}

// datumValue converts a parser literal.
func datumValue(d *test_driver.Datum) types.Value {
	switch d.Kind() {
	case test_driver.KindNull:
		return types.Null
	case test_driver.KindInt64:
		return types.NewInt(d.GetInt64())
	case test_driver.KindUint64:
		u := d.GetUint64()
		if u > 1<<63-1 {
			return types.NewFloat(float64(u))
		}
		return types.NewInt(int64(u))
	case test_driver.KindFloat32, test_driver.KindFloat64:
		return types.NewFloat(d.GetFloat64())
	case test_driver.KindString:
		return types.NewString(d.GetString())
	case test_driver.KindBytes:
		return types.NewBytes(d.GetBytes())
	case test_driver.KindMysqlDecimal:
		s := d.GetMysqlDecimal().String()
		scale := 0
		if i := strings.IndexByte(s, '.'); i >= 0 {
			scale = len(s) - i - 1
		}
		if scale <= 18 {
			if u, err := types.ParseDecimal(s, uint8(scale)); err == nil {
				return types.NewDecimal(u, uint8(scale))
			}
		}
		f, _ := types.ToFloat(types.NewString(s))
		return types.NewFloat(f)
	case test_driver.KindBinaryLiteral, test_driver.KindMysqlBit:
		return types.NewBytes(d.GetBytes())
	}
	return types.NewString(fmt.Sprint(d.GetValue()))
}

// FieldType maps a parser column type to a Meridian column type.
func FieldType(ft *ptypes.FieldType) (types.T, error) {
	flen, dec := ft.GetFlen(), ft.GetDecimal()
	unsigned := pmysql.HasUnsignedFlag(ft.GetFlag())
	binary := ft.GetCharset() == "binary"
	switch ft.GetType() {
	case pmysql.TypeTiny:
		if flen == 1 {
			return types.T{Name: types.TBool}, nil
		}
		return types.T{Name: types.TInt, Unsigned: unsigned}, nil
	case pmysql.TypeShort, pmysql.TypeInt24, pmysql.TypeLong, pmysql.TypeYear:
		return types.T{Name: types.TInt, Unsigned: unsigned}, nil
	case pmysql.TypeLonglong:
		return types.T{Name: types.TBigInt, Unsigned: unsigned}, nil
	case pmysql.TypeNewDecimal:
		if flen <= 0 {
			flen = 10
		}
		if dec < 0 {
			dec = 0
		}
		if flen > 18 || dec > flen {
			return types.T{}, &UnsupportedError{What: fmt.Sprintf("DECIMAL(%d,%d): precision above 18", flen, dec)}
		}
		return types.T{Name: types.TDecimal, Len: flen, Scale: uint8(dec)}, nil
	case pmysql.TypeFloat, pmysql.TypeDouble:
		return types.T{Name: types.TDouble}, nil
	case pmysql.TypeVarchar, pmysql.TypeVarString:
		if binary {
			return types.T{Name: types.TVarbinary, Len: max(flen, 0)}, nil
		}
		return types.T{Name: types.TVarchar, Len: max(flen, 0)}, nil
	case pmysql.TypeString:
		if binary {
			return types.T{Name: types.TVarbinary, Len: max(flen, 0)}, nil
		}
		if flen < 0 {
			flen = 1
		}
		return types.T{Name: types.TChar, Len: flen}, nil
	case pmysql.TypeTinyBlob, pmysql.TypeBlob, pmysql.TypeMediumBlob, pmysql.TypeLongBlob:
		if binary {
			return types.T{Name: types.TBlob}, nil
		}
		return types.T{Name: types.TText}, nil
	case pmysql.TypeDatetime:
		return types.T{Name: types.TDatetime}, nil
	case pmysql.TypeTimestamp:
		return types.T{Name: types.TTimestamp}, nil
	case pmysql.TypeDate, pmysql.TypeNewDate:
		return types.T{Name: types.TDate}, nil
	case pmysql.TypeEnum, pmysql.TypeSet:
		return types.T{Name: types.TVarchar, Len: 255}, nil
	case pmysql.TypeJSON:
		return types.T{Name: types.TText}, nil
	}
	return types.T{}, &UnsupportedError{What: "column type " + ft.String()}
}
