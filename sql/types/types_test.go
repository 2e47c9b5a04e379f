package types

import (
	"testing"
)

func TestCompareMixed(t *testing.T) {
	d := func(s string, sc uint8) Value {
		u, err := ParseDecimal(s, sc)
		if err != nil {
			t.Fatal(err)
		}
		return NewDecimal(u, sc)
	}
	cases := []struct {
		a, b Value
		want int
	}{
		{NewInt(1), NewInt(2), -1},
		{NewInt(2), NewFloat(1.5), 1},
		{NewInt(10), NewString("9"), 1},
		{NewString("10"), NewString("9"), -1},
		{d("1.50", 2), d("1.5", 1), 0},
		{NewInt(2), d("1.99", 2), 1},
		{Null, NewInt(0), -1},
		{Null, Null, 0},
		{NewString("2020-01-02"), Value{K: KTime, I: 1577923200000000}, 0},
	}
	for _, c := range cases {
		if got := Compare(c.a, c.b); got != c.want {
			t.Errorf("Compare(%v, %v) = %d, want %d", c.a, c.b, got, c.want)
		}
		if got := Compare(c.b, c.a); got != -c.want {
			t.Errorf("Compare(%v, %v) = %d, want %d", c.b, c.a, got, -c.want)
		}
	}
}

func TestCoerce(t *testing.T) {
	cases := []struct {
		t    T
		in   Value
		want string
		err  bool
	}{
		{T{Name: TInt}, NewString("42"), "42", false},
		{T{Name: TInt}, NewFloat(2.5), "3", false},
		{T{Name: TInt}, NewInt(1 << 40), "", true},
		{T{Name: TDecimal, Len: 5, Scale: 2}, NewString("3.456"), "3.46", false},
		{T{Name: TDecimal, Len: 5, Scale: 2}, NewInt(1000), "", true},
		{T{Name: TVarchar, Len: 3}, NewString("abcd"), "", true},
		{T{Name: TChar, Len: 5}, NewString("ab  "), "ab", false},
		{T{Name: TDate}, NewString("2024-02-03 10:11:12"), "2024-02-03", false},
		{T{Name: TDatetime}, NewString("2024-02-03"), "2024-02-03 00:00:00", false},
		{T{Name: TDatetime}, NewString("nope"), "", true},
		{T{Name: TDouble}, NewString("1e3"), "1000", false},
	}
	for _, c := range cases {
		got, err := c.t.Coerce(c.in)
		if (err != nil) != c.err || (err == nil && got.String() != c.want) {
			t.Errorf("%s.Coerce(%v) = %v, %v; want %q err=%v", c.t.SQL(), c.in, got, err, c.want, c.err)
		}
	}
}

func TestHashKeyAgreesWithEqual(t *testing.T) {
	vals := []Value{NewInt(1), NewFloat(1), NewDecimal(100, 2), NewInt(2), NewFloat(1.5), NewDecimal(15, 1), NewString("1"), Null}
	for _, a := range vals {
		for _, b := range vals {
			if a.K == KString || b.K == KString || a.K == KNull || b.K == KNull {
				continue
			}
			if Equal(a, b) != (string(HashKey(nil, a)) == string(HashKey(nil, b))) {
				t.Errorf("%v (%d) vs %v (%d): Equal %v but hash keys differ or vice versa", a, a.K, b, b.K, Equal(a, b))
			}
		}
	}
}
