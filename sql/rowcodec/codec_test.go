package rowcodec

import (
	"bytes"
	"math"
	"math/rand"
	"reflect"
	"testing"
	"testing/quick"

	"github.com/meridiandb/meridian/sql/types"
)

// genValue returns a random value of column type t (NULL sometimes).
func genValue(r *rand.Rand, t types.T) types.Value {
	if r.Intn(10) == 0 {
		return types.Null
	}
	switch t.Kind() {
	case types.KInt:
		switch r.Intn(4) {
		case 0:
			return types.NewInt(int64(r.Intn(20) - 10))
		case 1:
			return types.NewInt(math.MinInt64 + int64(r.Intn(3)))
		}
		return types.NewInt(r.Int63() - r.Int63())
	case types.KDecimal:
		return types.NewDecimal(r.Int63n(2e12)-1e12, t.Scale)
	case types.KFloat:
		switch r.Intn(4) {
		case 0:
			return types.NewFloat(float64(r.Intn(10) - 5))
		case 1:
			return types.NewFloat(math.Copysign(0, -1))
		}
		return types.NewFloat(r.NormFloat64() * math.Pow(10, float64(r.Intn(40)-20)))
	case types.KString, types.KBytes:
		n := r.Intn(6)
		b := make([]byte, n)
		for i := range b {
			b[i] = []byte{0, 1, 0xff, 'a', 'b', 0xfe}[r.Intn(6)]
		}
		return types.Value{K: t.Kind(), S: string(b)}
	case types.KTime:
		return types.Value{K: types.KTime, I: r.Int63n(4e17) - 2e17}
	}
	panic("unreachable")
}

var keyTypes = []types.T{
	{Name: types.TBigInt}, {Name: types.TDecimal, Len: 18, Scale: 3}, {Name: types.TDouble},
	{Name: types.TVarchar, Len: 10}, {Name: types.TBlob}, {Name: types.TDatetime},
}

type tuple struct {
	ts   []types.T
	a, b []types.Value
}

func (tuple) Generate(r *rand.Rand, _ int) reflect.Value {
	n := 1 + r.Intn(3)
	var t tuple
	for i := 0; i < n; i++ {
		ty := keyTypes[r.Intn(len(keyTypes))]
		t.ts = append(t.ts, ty)
		t.a = append(t.a, genValue(r, ty))
		if r.Intn(3) == 0 {
			t.b = append(t.b, t.a[i])
		} else {
			t.b = append(t.b, genValue(r, ty))
		}
	}
	return reflect.ValueOf(t)
}

func encodeTuple(vs []types.Value) []byte {
	k := IndexPrefix(42, 1)
	for _, v := range vs {
		k = AppendKey(k, v)
	}
	return k
}

// refCompare is the reference order: column by column, NULL first.
func refCompare(a, b []types.Value) int {
	for i := range a {
		if c := types.Compare(a[i], b[i]); c != 0 {
			return c
		}
	}
	return 0
}

func TestKeyOrderMatchesValueOrder(t *testing.T) {
	f := func(tu tuple) bool {
		ka, kb := encodeTuple(tu.a), encodeTuple(tu.b)
		want := refCompare(tu.a, tu.b)
		got := bytes.Compare(ka, kb)
		if got != want {
			t.Logf("a=%v b=%v ka=%x kb=%x got %d want %d", tu.a, tu.b, ka, kb, got, want)
		}
		return got == want && ka[0] >= 0x10 && ka[0] < 0xff
	}
	if err := quick.Check(f, &quick.Config{MaxCount: 5000, Rand: rand.New(rand.NewSource(1))}); err != nil {
		t.Fatal(err)
	}
}

func TestKeyRoundTrip(t *testing.T) {
	f := func(tu tuple) bool {
		k := encodeTuple(tu.a)
		tk, err := DecodeTableKey(k)
		if err != nil || tk.TableID != 42 || tk.IndexID != 1 {
			return false
		}
		rest := tk.Rest
		for i, ty := range tu.ts {
			var v types.Value
			v, rest, err = DecodeKey(rest, ty)
			if err != nil || types.Compare(v, tu.a[i]) != 0 || v.K != tu.a[i].K {
				t.Logf("col %d: got %v (%v) want %v", i, v, err, tu.a[i])
				return false
			}
		}
		return len(rest) == 0
	}
	if err := quick.Check(f, &quick.Config{MaxCount: 5000, Rand: rand.New(rand.NewSource(2))}); err != nil {
		t.Fatal(err)
	}
}

func TestUvarintAscOrder(t *testing.T) {
	f := func(a, b uint64) bool {
		ea, eb := AppendUvarintAsc(nil, a), AppendUvarintAsc(nil, b)
		da, rest, err := DecodeUvarintAsc(ea)
		if err != nil || da != a || len(rest) != 0 {
			return false
		}
		want := 0
		if a < b {
			want = -1
		} else if a > b {
			want = 1
		}
		return bytes.Compare(ea, eb) == want
	}
	if err := quick.Check(f, &quick.Config{MaxCount: 5000}); err != nil {
		t.Fatal(err)
	}
}

func TestRowRoundTrip(t *testing.T) {
	r := rand.New(rand.NewSource(3))
	all := append(keyTypes, types.T{Name: types.TDate})
	for iter := 0; iter < 2000; iter++ {
		n := r.Intn(6)
		var want []types.Value
		row := StartRow(nil)
		for i := 0; i < n; i++ {
			v := genValue(r, all[r.Intn(len(all))])
			want = append(want, v)
			row = AppendColumn(row, uint32(i*7+1), v)
		}
		var got []types.Value
		err := DecodeRow(row, func(id uint32, v types.Value) {
			if id != uint32(len(got)*7+1) {
				t.Fatalf("column id %d at position %d", id, len(got))
			}
			got = append(got, v)
		})
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != len(want) {
			t.Fatalf("got %d columns, want %d", len(got), len(want))
		}
		for i := range got {
			if got[i] != want[i] && !(got[i].K == types.KFloat && math.Float64bits(got[i].F) == math.Float64bits(want[i].F)) {
				t.Fatalf("column %d: got %#v want %#v", i, got[i], want[i])
			}
		}
	}
}

func TestPrefixEnd(t *testing.T) {
	p := IndexPrefix(7, 1)
	end := PrefixEnd(p)
	k := AppendKey(bytes.Clone(p), types.NewString("\xff\xff"))
	if bytes.Compare(k, end) >= 0 || bytes.Compare(p, end) >= 0 {
		t.Fatalf("PrefixEnd(%x) = %x not above %x", p, end, k)
	}
	if got := PrefixEnd([]byte{0x74, 0xff}); !bytes.Equal(got, []byte{0x75}) {
		t.Fatalf("got %x", got)
	}
}

func TestDecodeGarbageNoPanic(t *testing.T) {
	r := rand.New(rand.NewSource(4))
	for i := 0; i < 20000; i++ {
		b := make([]byte, r.Intn(20))
		r.Read(b)
		_, _, _ = DecodeKey(b, keyTypes[r.Intn(len(keyTypes))])
		_ = DecodeRow(append([]byte{rowVersion}, b...), func(uint32, types.Value) {})
		_, _ = DecodeTableKey(b)
		_ = PrettyKey(b)
	}
}
