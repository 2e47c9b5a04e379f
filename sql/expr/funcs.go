package expr

import (
	"fmt"
	"math"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/meridiandb/meridian/sql/types"
)

// Func is a call of a built-in scalar function.
type Func struct {
	Name string
	Args []Expr
	fn   funcImpl
}

type funcImpl struct {
	minArgs, maxArgs int // maxArgs -1: variadic
	// nullIn: any NULL argument gives NULL without calling eval.
	nullIn bool
	eval   func(env *Env, args []types.Value) (types.Value, error)
}

// NewFunc resolves a function by (lower-case) name.
func NewFunc(name string, args []Expr) (*Func, error) {
	impl, ok := funcs[name]
	if !ok {
		return nil, &UnknownFuncError{Name: name}
	}
	if len(args) < impl.minArgs || (impl.maxArgs >= 0 && len(args) > impl.maxArgs) {
		return nil, fmt.Errorf("Incorrect parameter count in the call to native function '%s'", name)
	}
	return &Func{Name: name, Args: args, fn: impl}, nil
}

// UnknownFuncError is an unknown function (MySQL 1305).
type UnknownFuncError struct{ Name string }

func (e *UnknownFuncError) Error() string {
	return fmt.Sprintf("FUNCTION %s does not exist", e.Name)
}

func (f *Func) String() string {
	parts := make([]string, len(f.Args))
	for i, a := range f.Args {
		parts[i] = a.String()
	}
	return f.Name + "(" + strings.Join(parts, ", ") + ")"
}

func (f *Func) Eval(env *Env, row Row) (types.Value, error) {
	var buf [4]types.Value
	args := buf[:0]
	for _, a := range f.Args {
		v, err := a.Eval(env, row)
		if err != nil {
			return types.Null, err
		}
		if f.fn.nullIn && v.IsNull() {
			return types.Null, nil
		}
		args = append(args, v)
	}
	return f.fn.eval(env, args)
}

func str(v types.Value) string { return v.String() }

func toInt(v types.Value) int64 {
	i, _ := types.ToInt(v)
	return i
}

func toFloat(v types.Value) float64 {
	f, _ := types.ToFloat(v)
	return f
}

var funcs map[string]funcImpl

func init() {
	funcs = map[string]funcImpl{
		"concat": {1, -1, true, func(_ *Env, a []types.Value) (types.Value, error) {
			var sb strings.Builder
			for _, v := range a {
				sb.WriteString(str(v))
			}
			return types.NewString(sb.String()), nil
		}},
		"concat_ws": {2, -1, false, func(_ *Env, a []types.Value) (types.Value, error) {
			if a[0].IsNull() {
				return types.Null, nil
			}
			var parts []string
			for _, v := range a[1:] {
				if !v.IsNull() {
					parts = append(parts, str(v))
				}
			}
			return types.NewString(strings.Join(parts, str(a[0]))), nil
		}},
		"length": {1, 1, true, func(_ *Env, a []types.Value) (types.Value, error) {
			return types.NewInt(int64(len(str(a[0])))), nil
		}},
		"char_length": {1, 1, true, func(_ *Env, a []types.Value) (types.Value, error) {
			return types.NewInt(int64(utf8.RuneCountInString(str(a[0])))), nil
		}},
		"upper": {1, 1, true, func(_ *Env, a []types.Value) (types.Value, error) {
			return types.NewString(strings.ToUpper(str(a[0]))), nil
		}},
		"lower": {1, 1, true, func(_ *Env, a []types.Value) (types.Value, error) {
			return types.NewString(strings.ToLower(str(a[0]))), nil
		}},
		"substring": {2, 3, true, substring},
		"trim": {1, 1, true, func(_ *Env, a []types.Value) (types.Value, error) {
			return types.NewString(strings.Trim(str(a[0]), " ")), nil
		}},
		"ltrim": {1, 1, true, func(_ *Env, a []types.Value) (types.Value, error) {
			return types.NewString(strings.TrimLeft(str(a[0]), " ")), nil
		}},
		"rtrim": {1, 1, true, func(_ *Env, a []types.Value) (types.Value, error) {
			return types.NewString(strings.TrimRight(str(a[0]), " ")), nil
		}},
		"replace": {3, 3, true, func(_ *Env, a []types.Value) (types.Value, error) {
			return types.NewString(strings.ReplaceAll(str(a[0]), str(a[1]), str(a[2]))), nil
		}},
		"left": {2, 2, true, func(_ *Env, a []types.Value) (types.Value, error) {
			r := []rune(str(a[0]))
			n := int(max(0, min(toInt(a[1]), int64(len(r)))))
			return types.NewString(string(r[:n])), nil
		}},
		"right": {2, 2, true, func(_ *Env, a []types.Value) (types.Value, error) {
			r := []rune(str(a[0]))
			n := int(max(0, min(toInt(a[1]), int64(len(r)))))
			return types.NewString(string(r[len(r)-n:])), nil
		}},
		"repeat": {2, 2, true, func(_ *Env, a []types.Value) (types.Value, error) {
			n := toInt(a[1])
			if n < 0 || n*int64(len(str(a[0]))) > 1<<24 {
				n = 0
			}
			return types.NewString(strings.Repeat(str(a[0]), int(n))), nil
		}},
		"abs": {1, 1, true, func(_ *Env, a []types.Value) (types.Value, error) {
			v, c := numeric(a[0])
			switch c {
			case 0:
				if v.I < 0 {
					return types.NewInt(-v.I), nil
				}
				return v, nil
			case 1:
				if v.I < 0 {
					return types.NewDecimal(-v.I, v.Scale), nil
				}
				return v, nil
			}
			return types.NewFloat(math.Abs(v.F)), nil
		}},
		"round": {1, 2, true, func(_ *Env, a []types.Value) (types.Value, error) {
			d := int64(0)
			if len(a) > 1 {
				d = toInt(a[1])
			}
			v, c := numeric(a[0])
			switch {
			case c == 0 && d >= 0:
				return v, nil
			case c == 1 && d >= 0 && d <= 18:
				return types.Rescale(v, uint8(min(d, int64(v.Scale))))
			}
			p := math.Pow(10, float64(d))
			f := toFloat(v)
			r := math.Round(f*p) / p
			if c == 0 {
				return types.NewInt(int64(r)), nil
			}
			return types.NewFloat(r), nil
		}},
		"floor": {1, 1, true, func(_ *Env, a []types.Value) (types.Value, error) {
			if a[0].K == types.KInt {
				return a[0], nil
			}
			return types.NewInt(int64(math.Floor(toFloat(a[0])))), nil
		}},
		"ceil": {1, 1, true, func(_ *Env, a []types.Value) (types.Value, error) {
			if a[0].K == types.KInt {
				return a[0], nil
			}
			return types.NewInt(int64(math.Ceil(toFloat(a[0])))), nil
		}},
		"mod": {2, 2, true, func(_ *Env, a []types.Value) (types.Value, error) { return Arith("mod", a[0], a[1]) }},
		"power": {2, 2, true, func(_ *Env, a []types.Value) (types.Value, error) {
			return types.NewFloat(math.Pow(toFloat(a[0]), toFloat(a[1]))), nil
		}},
		"sqrt": {1, 1, true, func(_ *Env, a []types.Value) (types.Value, error) {
			f := toFloat(a[0])
			if f < 0 {
				return types.Null, nil
			}
			return types.NewFloat(math.Sqrt(f)), nil
		}},
		"coalesce": {1, -1, false, func(_ *Env, a []types.Value) (types.Value, error) {
			for _, v := range a {
				if !v.IsNull() {
					return v, nil
				}
			}
			return types.Null, nil
		}},
		"nullif": {2, 2, false, func(_ *Env, a []types.Value) (types.Value, error) {
			if !a[0].IsNull() && !a[1].IsNull() && types.Compare(a[0], a[1]) == 0 {
				return types.Null, nil
			}
			return a[0], nil
		}},
		"if": {3, 3, false, func(_ *Env, a []types.Value) (types.Value, error) {
			if b, _ := types.Truthy(a[0]); b {
				return a[1], nil
			}
			return a[2], nil
		}},
		"greatest": {2, -1, true, func(_ *Env, a []types.Value) (types.Value, error) {
			m := a[0]
			for _, v := range a[1:] {
				if types.Compare(v, m) > 0 {
					m = v
				}
			}
			return m, nil
		}},
		"least": {2, -1, true, func(_ *Env, a []types.Value) (types.Value, error) {
			m := a[0]
			for _, v := range a[1:] {
				if types.Compare(v, m) < 0 {
					m = v
				}
			}
			return m, nil
		}},
		"now": {0, 1, false, func(env *Env, a []types.Value) (types.Value, error) {
			// NOW(fsp) keeps fsp (0–6) fractional digits; NOW() none.
			unit := int64(1e6)
			if len(a) == 1 {
				fsp := toInt(a[0])
				if fsp < 0 || fsp > 6 {
					return types.Null, fmt.Errorf("Too-big precision %d specified for 'now'. Maximum is 6", fsp)
				}
				unit = types.Pow10(uint8(6 - fsp))
			}
			return types.Value{K: types.KTime, I: int64(env.Now) / 1000 / unit * unit}, nil
		}},
		"curdate": {0, 0, false, func(env *Env, _ []types.Value) (types.Value, error) {
			return types.NewTime(env.Now.GoTime(), types.TimeDate), nil
		}},
		"unix_timestamp": {0, 1, false, func(env *Env, a []types.Value) (types.Value, error) {
			if len(a) == 0 {
				return types.NewInt(int64(env.Now) / 1e9), nil
			}
			if a[0].IsNull() {
				return types.Null, nil
			}
			t, err := types.T{Name: types.TDatetime}.Coerce(a[0])
			if err != nil {
				return types.Null, nil
			}
			return types.NewInt(t.I / 1e6), nil
		}},
		"date": {1, 1, true, func(_ *Env, a []types.Value) (types.Value, error) {
			v, err := types.T{Name: types.TDate}.Coerce(a[0])
			if err != nil {
				return types.Null, nil
			}
			return v, nil
		}},
		"year":  {1, 1, true, timePart(func(v types.Value) int64 { return int64(v.Time().Year()) })},
		"month": {1, 1, true, timePart(func(v types.Value) int64 { return int64(v.Time().Month()) })},
		"day":   {1, 1, true, timePart(func(v types.Value) int64 { return int64(v.Time().Day()) })},
		"hour":  {1, 1, true, timePart(func(v types.Value) int64 { return int64(v.Time().Hour()) })},
		"database": {0, 0, false, func(env *Env, _ []types.Value) (types.Value, error) {
			if env.Session == nil || env.Session.CurrentDB() == "" {
				return types.Null, nil
			}
			return types.NewString(env.Session.CurrentDB()), nil
		}},
		"version": {0, 0, false, func(env *Env, _ []types.Value) (types.Value, error) {
			if env.Session != nil {
				if v, ok := env.Session.SysVar("version"); ok {
					return v, nil
				}
			}
			return types.NewString("8.0.11-Meridian"), nil
		}},
		"user": {0, 0, false, func(env *Env, _ []types.Value) (types.Value, error) {
			if env.Session == nil {
				return types.Null, nil
			}
			return types.NewString(env.Session.User() + "@%"), nil
		}},
		"sleep": {1, 1, false, sleep},
		"connection_id": {0, 0, false, func(env *Env, _ []types.Value) (types.Value, error) {
			if env.Session == nil {
				return types.NewInt(0), nil
			}
			return types.NewInt(int64(env.Session.ConnectionID())), nil
		}},
		"last_insert_id": {0, 0, false, func(env *Env, _ []types.Value) (types.Value, error) {
			if env.Session == nil {
				return types.NewInt(0), nil
			}
			return types.NewInt(env.Session.LastInsertID()), nil
		}},
		"hex": {1, 1, true, func(_ *Env, a []types.Value) (types.Value, error) {
			if a[0].K == types.KInt {
				return types.NewString(strings.ToUpper(fmt.Sprintf("%x", a[0].I))), nil
			}
			return types.NewString(strings.ToUpper(fmt.Sprintf("%x", str(a[0])))), nil
		}},
	}
	alias := map[string]string{"substr": "substring", "ucase": "upper", "lcase": "lower",
		"ceiling": "ceil", "pow": "power", "ifnull": "coalesce", "current_timestamp": "now",
		"localtime": "now", "localtimestamp": "now", "sysdate": "now", "current_date": "curdate",
		"schema": "database", "current_user": "user", "session_user": "user", "system_user": "user",
		"character_length": "char_length", "octet_length": "length", "dayofmonth": "day",
		"utc_timestamp": "now"}
	for a, n := range alias {
		funcs[a] = funcs[n]
	}
}

func timePart(f func(types.Value) int64) func(*Env, []types.Value) (types.Value, error) {
	return func(_ *Env, a []types.Value) (types.Value, error) {
		v, err := types.T{Name: types.TDatetime}.Coerce(a[0])
		if err != nil {
			return types.Null, nil
		}
		return types.NewInt(f(v)), nil
	}
}

func substring(_ *Env, a []types.Value) (types.Value, error) {
	r := []rune(str(a[0]))
	pos := toInt(a[1])
	n := int64(len(r))
	var start int64
	switch {
	case pos > 0:
		start = pos - 1
	case pos < 0:
		start = n + pos
	default:
		return types.NewString(""), nil
	}
	if start < 0 || start >= n {
		return types.NewString(""), nil
	}
	end := n
	if len(a) == 3 {
		l := toInt(a[2])
		if l <= 0 {
			return types.NewString(""), nil
		}
		end = min(n, start+l)
	}
	return types.NewString(string(r[start:end])), nil
}

// sleep is MySQL's SLEEP(seconds): it waits and returns 0, or returns 1 at
// once when the statement is cancelled (KILL QUERY, the client went
// away). A NULL or negative duration does not wait.
func sleep(env *Env, a []types.Value) (types.Value, error) {
	secs, err := types.ToFloat(a[0])
	if a[0].IsNull() || err != nil || secs <= 0 {
		return types.NewInt(0), nil
	}
	ctx := env.Context()
	if ctx.Err() != nil {
		return types.NewInt(1), nil
	}
	t := time.NewTimer(time.Duration(secs * float64(time.Second)))
	defer t.Stop()
	select {
	case <-t.C:
		return types.NewInt(0), nil
	case <-ctx.Done():
		return types.NewInt(1), nil
	}
}
