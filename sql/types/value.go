package types

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// Kind is the runtime kind of a Value.
type Kind uint8

// Value kinds. The order is not significant.
const (
	KNull Kind = iota
	KInt
	KFloat
	KDecimal
	KString
	KBytes
	KTime
)

// Time subtypes stored in Value.Scale for KTime values.
const (
	TimeDatetime = 0
	TimeDate     = 1
)

// Value is one SQL value. The zero Value is NULL.
type Value struct {
	K Kind
	// Scale is the number of fractional digits of a KDecimal, or the time
	// subtype (TimeDatetime, TimeDate) of a KTime.
	Scale uint8
	// I holds KInt values, the unscaled KDecimal and KTime microseconds.
	I int64
	// F holds KFloat values.
	F float64
	// S holds KString and KBytes values.
	S string
}

// Null is the NULL value.
var Null = Value{}

// NewInt returns an integer value.
func NewInt(i int64) Value { return Value{K: KInt, I: i} }

// NewFloat returns a floating point value.
func NewFloat(f float64) Value { return Value{K: KFloat, F: f} }

// NewString returns a string value.
func NewString(s string) Value { return Value{K: KString, S: s} }

// NewBytes returns a binary string value.
func NewBytes(b []byte) Value { return Value{K: KBytes, S: string(b)} }

// NewDecimal returns unscaled × 10^-scale.
func NewDecimal(unscaled int64, scale uint8) Value {
	return Value{K: KDecimal, I: unscaled, Scale: scale}
}

// NewTime returns a datetime (or date, if sub is TimeDate) value.
func NewTime(t time.Time, sub uint8) Value {
	us := t.UTC().UnixMicro()
	if sub == TimeDate {
		us = truncDay(us)
	}
	return Value{K: KTime, I: us, Scale: sub}
}

// NewBool returns 1 or 0.
func NewBool(b bool) Value {
	if b {
		return NewInt(1)
	}
	return NewInt(0)
}

func truncDay(us int64) int64 {
	const day = int64(24 * time.Hour / time.Microsecond)
	d := us / day
	if us < 0 && us%day != 0 {
		d--
	}
	return d * day
}

// IsNull reports whether v is NULL.
func (v Value) IsNull() bool { return v.K == KNull }

// Time returns a KTime value as a time.Time in UTC.
func (v Value) Time() time.Time { return time.UnixMicro(v.I).UTC() }

var pow10 = [...]int64{1, 10, 100, 1000, 10000, 100000, 1000000, 10000000, 100000000,
	1000000000, 10000000000, 100000000000, 1000000000000, 10000000000000,
	100000000000000, 1000000000000000, 10000000000000000, 100000000000000000,
	1000000000000000000}

// Pow10 returns 10^n for 0 ≤ n ≤ 18.
func Pow10(n uint8) int64 { return pow10[n] }

// String formats v as MySQL's text protocol does; NULL formats as "NULL".
func (v Value) String() string {
	switch v.K {
	case KNull:
		return "NULL"
	case KInt:
		return strconv.FormatInt(v.I, 10)
	case KFloat:
		return FormatFloat(v.F)
	case KDecimal:
		return formatDecimal(v.I, v.Scale)
	case KString, KBytes:
		return v.S
	case KTime:
		t := v.Time()
		if v.Scale == TimeDate {
			return t.Format("2006-01-02")
		}
		if t.Nanosecond() != 0 {
			return t.Format("2006-01-02 15:04:05.000000")
		}
		return t.Format("2006-01-02 15:04:05")
	}
	return fmt.Sprintf("?kind%d", v.K)
}

// FormatFloat formats f the way MySQL prints a DOUBLE.
func FormatFloat(f float64) string {
	if math.IsInf(f, 0) || math.IsNaN(f) {
		return strconv.FormatFloat(f, 'g', -1, 64)
	}
	if f == math.Trunc(f) && math.Abs(f) < 1e15 {
		return strconv.FormatFloat(f, 'f', -1, 64)
	}
	return strconv.FormatFloat(f, 'g', -1, 64)
}

func formatDecimal(unscaled int64, scale uint8) string {
	if scale == 0 {
		return strconv.FormatInt(unscaled, 10)
	}
	neg := unscaled < 0
	u := uint64(unscaled)
	if neg {
		u = uint64(-unscaled)
	}
	s := strconv.FormatUint(u, 10)
	for len(s) <= int(scale) {
		s = "0" + s
	}
	s = s[:len(s)-int(scale)] + "." + s[len(s)-int(scale):]
	if neg {
		s = "-" + s
	}
	return s
}

// SQLLiteral formats v as a SQL literal (quoted strings), for SHOW CREATE
// TABLE and EXPLAIN.
func (v Value) SQLLiteral() string {
	switch v.K {
	case KString, KBytes, KTime:
		return "'" + strings.ReplaceAll(strings.ReplaceAll(v.String(), `\`, `\\`), "'", "''") + "'"
	}
	return v.String()
}

// ParseDecimal parses s ("-12.345") into an unscaled value at the given
// scale, rounding half away from zero.
func ParseDecimal(s string, scale uint8) (int64, error) {
	s = strings.TrimSpace(s)
	neg := false
	if strings.HasPrefix(s, "-") {
		neg, s = true, s[1:]
	} else if strings.HasPrefix(s, "+") {
		s = s[1:]
	}
	if e := strings.IndexAny(s, "eE"); e >= 0 {
		f, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return 0, fmt.Errorf("invalid decimal %q", s)
		}
		if neg {
			f = -f
		}
		return FloatToDecimal(f, scale)
	}
	intPart, frac, _ := strings.Cut(s, ".")
	if intPart == "" {
		intPart = "0"
	}
	var round bool
	if len(frac) > int(scale) {
		round = frac[scale] >= '5'
		frac = frac[:scale]
	}
	for len(frac) < int(scale) {
		frac += "0"
	}
	digits := strings.TrimLeft(intPart+frac, "0")
	if digits == "" {
		digits = "0"
	}
	if len(digits) > 18 {
		return 0, fmt.Errorf("decimal %q out of range", s)
	}
	u, err := strconv.ParseInt(digits, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("invalid decimal %q", s)
	}
	if round {
		u++
	}
	if neg {
		u = -u
	}
	return u, nil
}

// FloatToDecimal converts f to an unscaled decimal at scale.
func FloatToDecimal(f float64, scale uint8) (int64, error) {
	x := math.Round(f * float64(pow10[scale]))
	if math.IsNaN(x) || math.Abs(x) >= 1e18 {
		return 0, fmt.Errorf("decimal value %v out of range", f)
	}
	return int64(x), nil
}

// ParseTime parses a MySQL date or datetime literal.
func ParseTime(s string, sub uint8) (Value, error) {
	s = strings.TrimSpace(s)
	layouts := []string{"2006-01-02 15:04:05.999999", "2006-01-02T15:04:05.999999", "2006-01-02 15:04", "2006-01-02", "20060102150405", "20060102"}
	for _, l := range layouts {
		if t, err := time.ParseInLocation(l, s, time.UTC); err == nil {
			return NewTime(t, sub), nil
		}
	}
	if strings.HasSuffix(s, "Z") || strings.Contains(s, "+") {
		if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
			return NewTime(t, sub), nil
		}
	}
	return Null, fmt.Errorf("incorrect datetime value: '%s'", s)
}
