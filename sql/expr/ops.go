package expr

import (
	"errors"
	"fmt"
	"math"

	"github.com/meridiandb/meridian/sql/types"
)

// Binary is a binary operator. Op is one of: and or xor eq ne lt le gt ge
// nulleq plus minus mul div intdiv mod.
type Binary struct {
	Op   string
	L, R Expr
}

// ErrDivByZero is never returned: MySQL yields NULL for division by zero.
var errOverflow = errors.New("BIGINT value is out of range")

func (b *Binary) String() string { return fmt.Sprintf("%s(%s, %s)", b.Op, b.L, b.R) }

func (b *Binary) Eval(env *Env, row Row) (types.Value, error) {
	switch b.Op {
	case "and", "or", "xor":
		return b.logic(env, row)
	}
	l, err := b.L.Eval(env, row)
	if err != nil {
		return types.Null, err
	}
	r, err := b.R.Eval(env, row)
	if err != nil {
		return types.Null, err
	}
	if b.Op == "nulleq" {
		if l.IsNull() || r.IsNull() {
			return types.NewBool(l.IsNull() && r.IsNull()), nil
		}
		return types.NewBool(types.Compare(l, r) == 0), nil
	}
	if l.IsNull() || r.IsNull() {
		return types.Null, nil
	}
	switch b.Op {
	case "eq", "ne", "lt", "le", "gt", "ge":
		return types.NewBool(compareOp(b.Op, types.Compare(l, r))), nil
	}
	return Arith(b.Op, l, r)
}

func (b *Binary) logic(env *Env, row Row) (types.Value, error) {
	l, err := b.L.Eval(env, row)
	if err != nil {
		return types.Null, err
	}
	lb, lok := types.Truthy(l)
	if b.Op == "and" && lok && !lb {
		return types.NewInt(0), nil
	}
	if b.Op == "or" && lok && lb {
		return types.NewInt(1), nil
	}
	r, err := b.R.Eval(env, row)
	if err != nil {
		return types.Null, err
	}
	rb, rok := types.Truthy(r)
	switch b.Op {
	case "and":
		if rok && !rb {
			return types.NewInt(0), nil
		}
		if !lok || !rok {
			return types.Null, nil
		}
		return types.NewInt(1), nil
	case "or":
		if rok && rb {
			return types.NewInt(1), nil
		}
		if !lok || !rok {
			return types.Null, nil
		}
		return types.NewInt(0), nil
	default:
		if !lok || !rok {
			return types.Null, nil
		}
		return types.NewBool(lb != rb), nil
	}
}

// numeric classifies an operand for arithmetic: 0 int, 1 decimal, 2 float.
func numeric(v types.Value) (types.Value, int) {
	switch v.K {
	case types.KInt:
		return v, 0
	case types.KDecimal:
		return v, 1
	case types.KFloat:
		return v, 2
	case types.KTime:
		i, _ := types.ToInt(v)
		return types.NewInt(i), 0
	}
	f, _ := types.ToFloat(v)
	return types.NewFloat(f), 2
}

// Arith applies an arithmetic operator to two non-NULL values.
func Arith(op string, l, r types.Value) (types.Value, error) {
	l, lc := numeric(l)
	r, rc := numeric(r)
	c := max(lc, rc)
	if op == "div" && c == 0 {
		c = 1 // int / int is DECIMAL in MySQL
	}
	switch c {
	case 2:
		a, _ := types.ToFloat(l)
		b, _ := types.ToFloat(r)
		switch op {
		case "plus":
			return types.NewFloat(a + b), nil
		case "minus":
			return types.NewFloat(a - b), nil
		case "mul":
			return types.NewFloat(a * b), nil
		case "div":
			if b == 0 {
				return types.Null, nil
			}
			return types.NewFloat(a / b), nil
		case "intdiv":
			if b == 0 {
				return types.Null, nil
			}
			return types.NewInt(int64(math.Trunc(a / b))), nil
		case "mod":
			if b == 0 {
				return types.Null, nil
			}
			return types.NewFloat(math.Mod(a, b)), nil
		}
	case 0:
		a, b := l.I, r.I
		switch op {
		case "plus":
			s := a + b
			if (s > a) != (b > 0) {
				return types.Null, errOverflow
			}
			return types.NewInt(s), nil
		case "minus":
			s := a - b
			if (s < a) != (b > 0) {
				return types.Null, errOverflow
			}
			return types.NewInt(s), nil
		case "mul":
			if a != 0 && (a*b/a != b || (a == -1 && b == math.MinInt64) || (b == -1 && a == math.MinInt64)) {
				return types.Null, errOverflow
			}
			return types.NewInt(a * b), nil
		case "intdiv":
			if b == 0 {
				return types.Null, nil
			}
			return types.NewInt(a / b), nil
		case "mod":
			if b == 0 {
				return types.Null, nil
			}
			return types.NewInt(a % b), nil
		}
	case 1:
		return decimalArith(op, l, r)
	}
	return types.Null, fmt.Errorf("unknown operator %s", op)
}

func decimalArith(op string, l, r types.Value) (types.Value, error) {
	if l.K == types.KInt {
		l = types.NewDecimal(l.I, 0)
	}
	if r.K == types.KInt {
		r = types.NewDecimal(r.I, 0)
	}
	fallback := func() (types.Value, error) {
		a, _ := types.ToFloat(l)
		b, _ := types.ToFloat(r)
		return Arith(op, types.NewFloat(a), types.NewFloat(b))
	}
	switch op {
	case "plus", "minus", "mod", "intdiv":
		s := max(l.Scale, r.Scale)
		a, err1 := types.Rescale(l, s)
		b, err2 := types.Rescale(r, s)
		if err1 != nil || err2 != nil {
			return fallback()
		}
		switch op {
		case "plus":
			return types.NewDecimal(a.I+b.I, s), nil
		case "minus":
			return types.NewDecimal(a.I-b.I, s), nil
		case "mod":
			if b.I == 0 {
				return types.Null, nil
			}
			return types.NewDecimal(a.I%b.I, s), nil
		default:
			if b.I == 0 {
				return types.Null, nil
			}
			return types.NewInt(a.I / b.I), nil
		}
	case "mul":
		s := l.Scale + r.Scale
		if s > 18 || (l.I != 0 && (l.I*r.I)/l.I != r.I) {
			return fallback()
		}
		return types.NewDecimal(l.I*r.I, s), nil
	case "div":
		if r.I == 0 {
			return types.Null, nil
		}
		s := min(l.Scale+4, 18)
		a, _ := types.ToFloat(l)
		b, _ := types.ToFloat(r)
		u, err := types.FloatToDecimal(a/b, s)
		if err != nil {
			return types.NewFloat(a / b), nil
		}
		return types.NewDecimal(u, s), nil
	}
	return types.Null, fmt.Errorf("unknown operator %s", op)
}

// Unary is a unary operator: not, neg, bitneg.
type Unary struct {
	Op string
	X  Expr
}

func (u *Unary) String() string { return fmt.Sprintf("%s(%s)", u.Op, u.X) }

func (u *Unary) Eval(env *Env, row Row) (types.Value, error) {
	v, err := u.X.Eval(env, row)
	if err != nil || v.IsNull() {
		return types.Null, err
	}
	switch u.Op {
	case "not":
		b, _ := types.Truthy(v)
		return types.NewBool(!b), nil
	case "neg":
		v, c := numeric(v)
		switch c {
		case 0:
			if v.I == math.MinInt64 {
				return types.Null, errOverflow
			}
			return types.NewInt(-v.I), nil
		case 1:
			return types.NewDecimal(-v.I, v.Scale), nil
		default:
			return types.NewFloat(-v.F), nil
		}
	case "bitneg":
		i, err := types.ToInt(v)
		return types.NewInt(^i), err
	}
	return types.Null, fmt.Errorf("unknown operator %s", u.Op)
}

// Cast converts to a column type (CAST(x AS t), CONVERT).
type Cast struct {
	X Expr
	T types.T
	// Signed/Unsigned integer casts are lenient (non-numeric strings → 0).
	Lenient bool
}

func (c *Cast) String() string { return fmt.Sprintf("cast(%s as %s)", c.X, c.T.SQL()) }

func (c *Cast) Eval(env *Env, row Row) (types.Value, error) {
	v, err := c.X.Eval(env, row)
	if err != nil || v.IsNull() {
		return types.Null, err
	}
	if c.Lenient && c.T.Kind() == types.KInt {
		switch v.K {
		case types.KString, types.KBytes:
			f, _ := types.ToFloat(v)
			return types.NewInt(int64(math.Trunc(f))), nil
		}
		i, err := types.ToInt(v)
		return types.NewInt(i), err
	}
	t := c.T
	t.Len = 0
	if c.T.Name == types.TDecimal {
		t.Len = c.T.Len
	}
	return t.Coerce(v)
}
