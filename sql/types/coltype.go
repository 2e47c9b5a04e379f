package types

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"
)

// TypeName is the SQL type of a column.
type TypeName uint8

// Column types.
const (
	TInt TypeName = iota + 1
	TBigInt
	TBool
	TDecimal
	TDouble
	TVarchar
	TChar
	TText
	TBlob
	TVarbinary
	TDatetime
	TTimestamp
	TDate
)

// T is a column type.
type T struct {
	Name TypeName `json:"name"`
	// Len is the length of CHAR/VARCHAR, or the precision of DECIMAL.
	Len int `json:"len,omitempty"`
	// Scale is the scale of DECIMAL.
	Scale uint8 `json:"scale,omitempty"`
	// Unsigned is the UNSIGNED attribute of integer types (informational:
	// values are stored as int64).
	Unsigned bool `json:"unsigned,omitempty"`
}

// Kind returns the Value kind that columns of type t hold.
func (t T) Kind() Kind {
	switch t.Name {
	case TInt, TBigInt, TBool:
		return KInt
	case TDecimal:
		return KDecimal
	case TDouble:
		return KFloat
	case TVarchar, TChar, TText:
		return KString
	case TBlob, TVarbinary:
		return KBytes
	case TDatetime, TTimestamp, TDate:
		return KTime
	}
	return KNull
}

// SQL returns the type as written in SHOW CREATE TABLE.
func (t T) SQL() string {
	u := ""
	if t.Unsigned {
		u = " unsigned"
	}
	switch t.Name {
	case TInt:
		return "int" + u
	case TBigInt:
		return "bigint" + u
	case TBool:
		return "tinyint(1)"
	case TDecimal:
		return fmt.Sprintf("decimal(%d,%d)", t.Len, t.Scale)
	case TDouble:
		return "double"
	case TVarchar:
		return fmt.Sprintf("varchar(%d)", t.Len)
	case TChar:
		return fmt.Sprintf("char(%d)", t.Len)
	case TText:
		return "text"
	case TBlob:
		return "blob"
	case TVarbinary:
		return fmt.Sprintf("varbinary(%d)", t.Len)
	case TDatetime:
		return "datetime"
	case TTimestamp:
		return "timestamp"
	case TDate:
		return "date"
	}
	return "unknown"
}

// ErrOutOfRange and ErrDataTooLong classify coercion failures (MySQL 1264
// and 1406); other failures are incorrect values (1366).
var (
	ErrOutOfRange  = errors.New("out of range value")
	ErrDataTooLong = errors.New("data too long")
)

// Coerce converts v to a value of column type t, as an INSERT or UPDATE
// does (strictly: values that do not fit are errors, as with
// STRICT_TRANS_TABLES).
func (t T) Coerce(v Value) (Value, error) {
	if v.K == KNull {
		return v, nil
	}
	switch t.Name {
	case TInt, TBigInt, TBool:
		i, err := ToInt(v)
		if err != nil {
			return Null, err
		}
		if t.Name == TInt && !t.Unsigned && (i > math.MaxInt32 || i < math.MinInt32) {
			return Null, fmt.Errorf("%w %d for an INT column", ErrOutOfRange, i)
		}
		return NewInt(i), nil
	case TDecimal:
		d, err := ToDecimal(v, t.Scale)
		if err != nil {
			return Null, err
		}
		if t.Len > 0 && t.Len < 19 && (d.I >= pow10[t.Len] || d.I <= -pow10[t.Len]) {
			return Null, fmt.Errorf("%w %s for a DECIMAL(%d,%d) column", ErrOutOfRange, v, t.Len, t.Scale)
		}
		return d, nil
	case TDouble:
		f, err := ToFloat(v)
		if err != nil {
			return Null, err
		}
		return NewFloat(f), nil
	case TVarchar, TChar, TText, TBlob, TVarbinary:
		s := v.String()
		if (t.Name == TVarchar || t.Name == TChar) && t.Len > 0 && utf8.RuneCountInString(s) > t.Len {
			return Null, fmt.Errorf("%w for a %s column", ErrDataTooLong, t.SQL())
		}
		if t.Name == TChar {
			s = strings.TrimRight(s, " ")
		}
		if t.Kind() == KBytes {
			return Value{K: KBytes, S: s}, nil
		}
		return NewString(s), nil
	case TDatetime, TTimestamp, TDate:
		sub := uint8(TimeDatetime)
		if t.Name == TDate {
			sub = TimeDate
		}
		switch v.K {
		case KTime:
			if sub == TimeDate {
				return Value{K: KTime, I: truncDay(v.I), Scale: sub}, nil
			}
			return Value{K: KTime, I: v.I, Scale: sub}, nil
		case KInt:
			return ParseTime(strconv.FormatInt(v.I, 10), sub)
		default:
			return ParseTime(v.String(), sub)
		}
	}
	return Null, fmt.Errorf("unknown column type %d", t.Name)
}

// ToInt converts v to an integer (rounding), as MySQL does in an integer
// context.
func ToInt(v Value) (int64, error) {
	switch v.K {
	case KInt:
		return v.I, nil
	case KFloat:
		if math.IsNaN(v.F) || math.Abs(v.F) > 9.2e18 {
			return 0, fmt.Errorf("value %v out of range", v.F)
		}
		return int64(math.Round(v.F)), nil
	case KDecimal:
		p := pow10[v.Scale]
		q, r := v.I/p, v.I%p
		if r*2 >= p {
			q++
		} else if r*2 <= -p {
			q--
		}
		return q, nil
	case KString, KBytes:
		s := strings.TrimSpace(v.S)
		if i, err := strconv.ParseInt(s, 10, 64); err == nil {
			return i, nil
		}
		f, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return 0, fmt.Errorf("incorrect integer value: '%s'", v.S)
		}
		return int64(math.Round(f)), nil
	case KTime:
		t := v.Time()
		if v.Scale == TimeDate {
			return int64(t.Year()*10000 + int(t.Month())*100 + t.Day()), nil
		}
		return strconv.ParseInt(t.Format("20060102150405"), 10, 64)
	}
	return 0, fmt.Errorf("cannot convert %v to an integer", v)
}

// ToFloat converts v to a float64.
func ToFloat(v Value) (float64, error) {
	switch v.K {
	case KInt:
		return float64(v.I), nil
	case KFloat:
		return v.F, nil
	case KDecimal:
		return float64(v.I) / float64(pow10[v.Scale]), nil
	case KString, KBytes:
		return parseFloatPrefix(v.S), nil
	case KTime:
		i, err := ToInt(v)
		return float64(i), err
	}
	return 0, fmt.Errorf("cannot convert %v to a number", v)
}

// parseFloatPrefix parses the longest numeric prefix of s as MySQL does in
// a numeric context ('12abc' is 12, 'abc' is 0).
func parseFloatPrefix(s string) float64 {
	s = strings.TrimSpace(s)
	if f, err := strconv.ParseFloat(s, 64); err == nil {
		return f
	}
	end := 0
	for end < len(s) && (s[end] >= '0' && s[end] <= '9' || s[end] == '.' || (end == 0 && (s[end] == '-' || s[end] == '+'))) {
		end++
	}
	for end > 0 {
		if f, err := strconv.ParseFloat(s[:end], 64); err == nil {
			return f
		}
		end--
	}
	return 0
}

// ToDecimal converts v to a decimal at the given scale.
func ToDecimal(v Value, scale uint8) (Value, error) {
	switch v.K {
	case KInt:
		if scale > 0 && (v.I > math.MaxInt64/pow10[scale] || v.I < math.MinInt64/pow10[scale]) {
			return Null, fmt.Errorf("decimal value %d out of range", v.I)
		}
		return NewDecimal(v.I*pow10[scale], scale), nil
	case KDecimal:
		return Rescale(v, scale)
	case KFloat:
		u, err := FloatToDecimal(v.F, scale)
		return NewDecimal(u, scale), err
	default:
		u, err := ParseDecimal(v.String(), scale)
		return NewDecimal(u, scale), err
	}
}

// Rescale changes the scale of a decimal, rounding half away from zero.
func Rescale(v Value, scale uint8) (Value, error) {
	if v.Scale == scale {
		return v, nil
	}
	if v.Scale < scale {
		m := pow10[scale-v.Scale]
		if v.I > math.MaxInt64/m || v.I < math.MinInt64/m {
			return Null, fmt.Errorf("decimal value %s out of range", v)
		}
		return NewDecimal(v.I*m, scale), nil
	}
	p := pow10[v.Scale-scale]
	q, r := v.I/p, v.I%p
	if r*2 >= p {
		q++
	} else if r*2 <= -p {
		q--
	}
	return NewDecimal(q, scale), nil
}

// Truthy evaluates v as a boolean condition: NULL is unknown (ok false).
func Truthy(v Value) (b bool, ok bool) {
	switch v.K {
	case KNull:
		return false, false
	case KInt:
		return v.I != 0, true
	case KDecimal:
		return v.I != 0, true
	case KTime:
		return true, true
	}
	f, _ := ToFloat(v)
	return f != 0, true
}
