package expr

import (
	"context"
	"fmt"
	"strings"

	"github.com/meridiandb/meridian/sql/types"
	"github.com/meridiandb/meridian/truetime"
)

// Row is one row of values, positionally matching an operator's schema.
type Row = []types.Value

// Session is what expressions read from the session (variables,
// DATABASE(), LAST_INSERT_ID()).
type Session interface {
	SysVar(name string) (types.Value, bool)
	UserVar(name string) types.Value
	CurrentDB() string
	User() string
	ConnectionID() uint32
	LastInsertID() int64
}

// SubqueryRunner runs a subquery plan with the current outer rows and
// returns its rows. sql/exec implements it.
type SubqueryRunner interface {
	RunSubquery(env *Env, s *Subquery, outer Row, limit int) ([]Row, error)
}

// Env is the per-statement evaluation environment.
type Env struct {
	Params  []types.Value
	Outer   []Row // outer rows of correlated subqueries, innermost last
	Runner  SubqueryRunner
	Session Session
	// Now is the statement's time (NOW(), CURRENT_TIMESTAMP).
	Now truetime.Timestamp
	// Ctx is the statement's context (cancelled by KILL QUERY or when the
	// client goes away); nil means context.Background().
	Ctx context.Context
	// cache holds results of uncorrelated subqueries for this statement.
	cache map[*Subquery][]Row
	// inSets holds hash sets of uncorrelated IN subqueries.
	inSets map[*Subquery]*inSet
}

type inSet struct {
	keys    map[string]bool
	hasNull bool
}

// Expr is a compiled scalar expression.
type Expr interface {
	Eval(env *Env, row Row) (types.Value, error)
	String() string
}

// Const is a constant.
type Const struct{ V types.Value }

func (c *Const) Eval(*Env, Row) (types.Value, error) { return c.V, nil }
func (c *Const) String() string                      { return c.V.SQLLiteral() }

// Param is a prepared-statement parameter (?).
type Param struct{ Idx int }

func (p *Param) Eval(env *Env, _ Row) (types.Value, error) {
	if p.Idx >= len(env.Params) {
		return types.Null, fmt.Errorf("missing value for parameter %d", p.Idx+1)
	}
	return env.Params[p.Idx], nil
}
func (p *Param) String() string { return "?" }

// ColRef reads a column of the input row.
type ColRef struct {
	Idx  int
	Name string
}

func (c *ColRef) Eval(_ *Env, row Row) (types.Value, error) { return row[c.Idx], nil }
func (c *ColRef) String() string                            { return c.Name }

// OuterRef reads a column of an enclosing query's current row (correlated
// subqueries). Depth 1 is the immediately enclosing query.
type OuterRef struct {
	Depth, Idx int
	Name       string
}

func (o *OuterRef) Eval(env *Env, _ Row) (types.Value, error) {
	i := len(env.Outer) - o.Depth
	if i < 0 || o.Idx >= len(env.Outer[i]) {
		return types.Null, fmt.Errorf("outer reference %s out of scope", o.Name)
	}
	return env.Outer[i][o.Idx], nil
}
func (o *OuterRef) String() string { return "outer(" + o.Name + ")" }

// SysVar reads a session/global system variable (@@name).
type SysVar struct{ Name string }

func (s *SysVar) Eval(env *Env, _ Row) (types.Value, error) {
	if env.Session == nil {
		return types.Null, nil
	}
	v, ok := env.Session.SysVar(strings.ToLower(s.Name))
	if !ok {
		return types.Null, &UnknownVarError{Name: s.Name}
	}
	return v, nil
}
func (s *SysVar) String() string { return "@@" + s.Name }

// UnknownVarError is an unknown system variable (MySQL 1193).
type UnknownVarError struct{ Name string }

func (e *UnknownVarError) Error() string { return fmt.Sprintf("Unknown system variable '%s'", e.Name) }

// UserVar reads a user variable (@name).
type UserVar struct{ Name string }

func (u *UserVar) Eval(env *Env, _ Row) (types.Value, error) {
	if env.Session == nil {
		return types.Null, nil
	}
	return env.Session.UserVar(strings.ToLower(u.Name)), nil
}
func (u *UserVar) String() string { return "@" + u.Name }

// IsNull is x IS [NOT] NULL.
type IsNull struct {
	X   Expr
	Not bool
}

func (e *IsNull) Eval(env *Env, row Row) (types.Value, error) {
	v, err := e.X.Eval(env, row)
	if err != nil {
		return types.Null, err
	}
	return types.NewBool(v.IsNull() != e.Not), nil
}
func (e *IsNull) String() string {
	if e.Not {
		return "isnotnull(" + e.X.String() + ")"
	}
	return "isnull(" + e.X.String() + ")"
}

// IsTruth is x IS [NOT] TRUE/FALSE.
type IsTruth struct {
	X         Expr
	Not, True bool
}

func (e *IsTruth) Eval(env *Env, row Row) (types.Value, error) {
	v, err := e.X.Eval(env, row)
	if err != nil {
		return types.Null, err
	}
	b, ok := types.Truthy(v)
	r := ok && b == e.True
	return types.NewBool(r != e.Not), nil
}
func (e *IsTruth) String() string { return fmt.Sprintf("istruth(%s, %v, not=%v)", e.X, e.True, e.Not) }

// In is x [NOT] IN (list).
type In struct {
	X    Expr
	List []Expr
	Not  bool
}

func (e *In) Eval(env *Env, row Row) (types.Value, error) {
	x, err := e.X.Eval(env, row)
	if err != nil || x.IsNull() {
		return types.Null, err
	}
	sawNull := false
	for _, it := range e.List {
		v, err := it.Eval(env, row)
		if err != nil {
			return types.Null, err
		}
		if v.IsNull() {
			sawNull = true
			continue
		}
		if types.Compare(x, v) == 0 {
			return types.NewBool(!e.Not), nil
		}
	}
	if sawNull {
		return types.Null, nil
	}
	return types.NewBool(e.Not), nil
}

func (e *In) String() string {
	parts := make([]string, len(e.List))
	for i, l := range e.List {
		parts[i] = l.String()
	}
	op := "in"
	if e.Not {
		op = "not in"
	}
	return fmt.Sprintf("%s(%s, %s)", op, e.X, strings.Join(parts, ", "))
}

// Like is x [NOT] LIKE pattern.
type Like struct {
	X, Pattern Expr
	Escape     byte
	Not        bool
}

func (e *Like) Eval(env *Env, row Row) (types.Value, error) {
	x, err := e.X.Eval(env, row)
	if err != nil || x.IsNull() {
		return types.Null, err
	}
	p, err := e.Pattern.Eval(env, row)
	if err != nil || p.IsNull() {
		return types.Null, err
	}
	m := likeMatch(x.String(), p.String(), e.Escape)
	return types.NewBool(m != e.Not), nil
}
func (e *Like) String() string {
	op := "like"
	if e.Not {
		op = "not like"
	}
	return fmt.Sprintf("%s(%s, %s)", op, e.X, e.Pattern)
}

// likeMatch matches s against a LIKE pattern (% and _, case-sensitive).
func likeMatch(s, p string, esc byte) bool {
	sr, pr := []rune(s), []rune(p)
	var match func(i, j int) bool
	memo := map[[2]int]bool{}
	match = func(i, j int) bool {
		if r, ok := memo[[2]int{i, j}]; ok {
			return r
		}
		var r bool
		switch {
		case j == len(pr):
			r = i == len(sr)
		case pr[j] == rune(esc) && j+1 < len(pr):
			r = i < len(sr) && sr[i] == pr[j+1] && match(i+1, j+2)
		case pr[j] == '%':
			r = match(i, j+1) || (i < len(sr) && match(i+1, j))
		case pr[j] == '_':
			r = i < len(sr) && match(i+1, j+1)
		default:
			r = i < len(sr) && sr[i] == pr[j] && match(i+1, j+1)
		}
		memo[[2]int{i, j}] = r
		return r
	}
	return match(0, 0)
}

// Case is CASE [operand] WHEN … THEN … [ELSE …] END.
type Case struct {
	Operand Expr // may be nil
	Whens   []Expr
	Thens   []Expr
	Else    Expr // may be nil
}

func (e *Case) Eval(env *Env, row Row) (types.Value, error) {
	var op types.Value
	var err error
	if e.Operand != nil {
		if op, err = e.Operand.Eval(env, row); err != nil {
			return types.Null, err
		}
	}
	for i, w := range e.Whens {
		v, err := w.Eval(env, row)
		if err != nil {
			return types.Null, err
		}
		var hit bool
		if e.Operand != nil {
			hit = !op.IsNull() && !v.IsNull() && types.Compare(op, v) == 0
		} else {
			hit, _ = types.Truthy(v)
		}
		if hit {
			return e.Thens[i].Eval(env, row)
		}
	}
	if e.Else != nil {
		return e.Else.Eval(env, row)
	}
	return types.Null, nil
}
func (e *Case) String() string { return "case(...)" }

// Subquery kinds.
const (
	SubScalar = iota
	SubExists
	SubIn
	SubCompareAny // x op ANY (subquery)
	SubCompareAll // x op ALL (subquery)
)

// Subquery is a subquery used as an expression. Plan is a plan.Node
// (opaque here); Correlated subqueries are re-run for each outer row,
// others once per statement.
type Subquery struct {
	Kind       int
	Plan       any
	Correlated bool
	X          Expr   // the left operand of IN / ANY / ALL
	Op         string // comparison operator of ANY / ALL
	Not        bool   // NOT IN / NOT EXISTS
	Desc       string
}

func (s *Subquery) rows(env *Env, row Row, limit int) ([]Row, error) {
	if env.Runner == nil {
		return nil, fmt.Errorf("subqueries are not supported here")
	}
	if !s.Correlated {
		if r, ok := env.cache[s]; ok {
			return r, nil
		}
	}
	rows, err := env.Runner.RunSubquery(env, s, row, limit)
	if err != nil {
		return nil, err
	}
	if !s.Correlated {
		if env.cache == nil {
			env.cache = map[*Subquery][]Row{}
		}
		env.cache[s] = rows
	}
	return rows, nil
}

func (s *Subquery) Eval(env *Env, row Row) (types.Value, error) {
	switch s.Kind {
	case SubScalar:
		rows, err := s.rows(env, row, 2)
		if err != nil {
			return types.Null, err
		}
		if len(rows) > 1 {
			return types.Null, fmt.Errorf("Subquery returns more than 1 row")
		}
		if len(rows) == 0 {
			return types.Null, nil
		}
		return rows[0][0], nil
	case SubExists:
		rows, err := s.rows(env, row, 1)
		if err != nil {
			return types.Null, err
		}
		return types.NewBool((len(rows) > 0) != s.Not), nil
	default:
		x, err := s.X.Eval(env, row)
		if err != nil {
			return types.Null, err
		}
		if s.Kind == SubIn && !s.Correlated && !x.IsNull() && x.K != types.KString && x.K != types.KBytes {
			return s.evalInSet(env, row, x)
		}
		rows, err := s.rows(env, row, 0)
		if err != nil {
			return types.Null, err
		}
		op := s.Op
		all := s.Kind == SubCompareAll
		if s.Kind == SubIn {
			op = "eq"
		}
		if x.IsNull() {
			if len(rows) == 0 {
				return types.NewBool(all != s.Not && !(s.Kind == SubIn && !s.Not)), nil
			}
			return types.Null, nil
		}
		sawNull := false
		for _, r := range rows {
			if r[0].IsNull() {
				sawNull = true
				continue
			}
			ok := compareOp(op, types.Compare(x, r[0]))
			if !all && ok {
				return types.NewBool(!s.Not), nil
			}
			if all && !ok {
				return types.NewBool(s.Not), nil
			}
		}
		if sawNull {
			return types.Null, nil
		}
		return types.NewBool(all != s.Not), nil
	}
}

// evalInSet evaluates x [NOT] IN (uncorrelated subquery) with a hash set
// built once per statement. Only numeric and time x use it (strings
// compare with numbers by value, which a hash of the string cannot
// capture).
func (s *Subquery) evalInSet(env *Env, row Row, x types.Value) (types.Value, error) {
	set := env.inSets[s]
	if set == nil {
		rows, err := s.rows(env, row, 0)
		if err != nil {
			return types.Null, err
		}
		set = &inSet{keys: map[string]bool{}}
		for _, r := range rows {
			v := r[0]
			switch v.K {
			case types.KNull:
				set.hasNull = true
				continue
			case types.KString, types.KBytes:
				// Mixed string/number comparisons: fall back to a scan.
				set = nil
			}
			if set == nil {
				break
			}
			set.keys[string(types.HashKey(nil, v))] = true
		}
		if set == nil {
			set = &inSet{}
		}
		if env.inSets == nil {
			env.inSets = map[*Subquery]*inSet{}
		}
		env.inSets[s] = set
	}
	if set.keys == nil {
		rows, err := s.rows(env, row, 0)
		if err != nil {
			return types.Null, err
		}
		return inRows(x, rows, s.Not), nil
	}
	if set.keys[string(types.HashKey(nil, x))] {
		return types.NewBool(!s.Not), nil
	}
	if set.hasNull {
		return types.Null, nil
	}
	return types.NewBool(s.Not), nil
}

func inRows(x types.Value, rows []Row, not bool) types.Value {
	sawNull := false
	for _, r := range rows {
		if r[0].IsNull() {
			sawNull = true
			continue
		}
		if types.Compare(x, r[0]) == 0 {
			return types.NewBool(!not)
		}
	}
	if sawNull {
		return types.Null
	}
	return types.NewBool(not)
}

func (s *Subquery) String() string {
	if s.Desc != "" {
		return s.Desc
	}
	return "subquery"
}

func compareOp(op string, c int) bool {
	switch op {
	case "eq":
		return c == 0
	case "ne":
		return c != 0
	case "lt":
		return c < 0
	case "le":
		return c <= 0
	case "gt":
		return c > 0
	case "ge":
		return c >= 0
	}
	return false
}

// Context returns the statement's context.
func (env *Env) Context() context.Context {
	if env == nil || env.Ctx == nil {
		return context.Background()
	}
	return env.Ctx
}
