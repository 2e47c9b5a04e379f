package types

import (
	"cmp"
	"fmt"
	"math"
	"strings"
)

// Compare compares two non-NULL values with MySQL's rules for mixed types:
// numbers compare numerically (exactly between integers and decimals),
// a string against a number compares as numbers, a string against a time
// is parsed as a time, strings compare bytewise. NULLs sort first (as in
// ORDER BY); callers that need SQL three-valued logic check IsNull first.
func Compare(a, b Value) int {
	if a.K == KNull || b.K == KNull {
		return signNull(a, b)
	}
	if a.K == b.K {
		switch a.K {
		case KInt:
			return cmp.Compare(a.I, b.I)
		case KFloat:
			return cmp.Compare(a.F, b.F)
		case KString, KBytes:
			return strings.Compare(a.S, b.S)
		case KTime:
			return cmp.Compare(a.I, b.I)
		case KDecimal:
			return compareDecimal(a, b)
		}
	}
	switch {
	case a.K == KTime || b.K == KTime:
		ta, errA := asTime(a)
		tb, errB := asTime(b)
		if errA == nil && errB == nil {
			return cmp.Compare(ta, tb)
		}
		return strings.Compare(a.String(), b.String())
	case (a.K == KString || a.K == KBytes) && (b.K == KString || b.K == KBytes):
		return strings.Compare(a.S, b.S)
	case a.K == KFloat || b.K == KFloat || a.K == KString || b.K == KString || a.K == KBytes || b.K == KBytes:
		fa, _ := ToFloat(a)
		fb, _ := ToFloat(b)
		return cmp.Compare(fa, fb)
	default: // int and decimal
		da, _ := ToDecimal(a, max(a.Scale, b.Scale))
		db, _ := ToDecimal(b, max(a.Scale, b.Scale))
		return cmp.Compare(da.I, db.I)
	}
}

func signNull(a, b Value) int {
	switch {
	case a.K == KNull && b.K == KNull:
		return 0
	case a.K == KNull:
		return -1
	default:
		return 1
	}
}

func compareDecimal(a, b Value) int {
	if a.Scale == b.Scale {
		return cmp.Compare(a.I, b.I)
	}
	s := max(a.Scale, b.Scale)
	da, errA := Rescale(a, s)
	db, errB := Rescale(b, s)
	if errA != nil || errB != nil {
		fa, _ := ToFloat(a)
		fb, _ := ToFloat(b)
		return cmp.Compare(fa, fb)
	}
	return cmp.Compare(da.I, db.I)
}

func asTime(v Value) (int64, error) {
	if v.K == KTime {
		return v.I, nil
	}
	t, err := ParseTime(v.String(), TimeDatetime)
	if err != nil {
		return 0, err
	}
	return t.I, nil
}

// Equal reports whether two values are equal under Compare, treating two
// NULLs as equal (as GROUP BY and DISTINCT do).
func Equal(a, b Value) bool { return Compare(a, b) == 0 }

// HashKey appends a canonical encoding of v to buf such that values equal
// under Compare (within a kind family) have equal encodings; used by hash
// joins, hash aggregation and DISTINCT.
func HashKey(buf []byte, v Value) []byte {
	switch v.K {
	case KNull:
		return append(buf, 0)
	case KInt:
		return fmt.Appendf(append(buf, 1), "%d;", v.I)
	case KDecimal:
		if v.I%pow10[v.Scale] == 0 {
			return fmt.Appendf(append(buf, 1), "%d;", v.I/pow10[v.Scale])
		}
		f, _ := ToFloat(v)
		return fmt.Appendf(append(buf, 2), "%v;", f)
	case KFloat:
		if v.F == math.Trunc(v.F) && math.Abs(v.F) < 1e18 {
			return fmt.Appendf(append(buf, 1), "%d;", int64(v.F))
		}
		return fmt.Appendf(append(buf, 2), "%v;", v.F)
	case KTime:
		return fmt.Appendf(append(buf, 3), "%d;", v.I)
	default:
		buf = append(buf, 4)
		buf = fmt.Appendf(buf, "%d:", len(v.S))
		return append(buf, v.S...)
	}
}
