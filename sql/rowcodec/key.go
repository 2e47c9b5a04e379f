package rowcodec

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"

	"github.com/meridiandb/meridian/sql/types"
)

// Key layout (every SQL key, catalog and user tables alike):
//
//	key        = TablePrefix tableID indexID { keyColumn }
//	TablePrefix = 0x74 ('t')
//	tableID    = uvarintAsc
//	indexID    = uvarintAsc
//	uvarintAsc = n:byte(0..8) n big-endian bytes with no leading zero byte
//	keyColumn  = 0x01                                  NULL (sorts first)
//	           | 0x03 8 bytes: uint64(i) XOR 1<<63     INT, and DECIMAL as its unscaled int at the column's scale
//	           | 0x04 8 bytes: float bits, sign-flipped (positive) or all-flipped (negative)
//	           | 0x06 escaped bytes 0x00 0x01          strings and bytes; 0x00 is escaped as 0x00 0xFF
//	           | 0x07 8 bytes as INT                    DATE, DATETIME, TIMESTAMP (microseconds)
//
// Every key is ≥ 0x74 and < 0xff, inside the SQL keyspace [0x10, 0xff).
// Within one column all non-NULL values have the same marker, so the byte
// order of encoded keys is the SQL order of the column tuples (NULLs first).
const (
	TablePrefix = 0x74

	markerNull   = 0x01
	markerInt    = 0x03
	markerFloat  = 0x04
	markerString = 0x06
	markerTime   = 0x07

	escape     = 0x00
	escapedNul = 0xff
	terminator = 0x01
)

// AppendUvarintAsc appends an order-preserving encoding of u.
func AppendUvarintAsc(buf []byte, u uint64) []byte {
	n := 0
	for x := u; x != 0; x >>= 8 {
		n++
	}
	buf = append(buf, byte(n))
	for i := n - 1; i >= 0; i-- {
		buf = append(buf, byte(u>>(8*i)))
	}
	return buf
}

// DecodeUvarintAsc decodes a value written by AppendUvarintAsc.
func DecodeUvarintAsc(b []byte) (u uint64, rest []byte, err error) {
	if len(b) == 0 || b[0] > 8 || len(b) < 1+int(b[0]) {
		return 0, nil, fmt.Errorf("rowcodec: malformed uvarint in %x", b)
	}
	n := int(b[0])
	for i := 1; i <= n; i++ {
		u = u<<8 | uint64(b[i])
	}
	return u, b[1+n:], nil
}

// IndexPrefix returns /t/<table>/<index>/.
func IndexPrefix(tableID, indexID uint32) []byte {
	b := make([]byte, 0, 16)
	b = append(b, TablePrefix)
	b = AppendUvarintAsc(b, uint64(tableID))
	return AppendUvarintAsc(b, uint64(indexID))
}

// TablePrefixKey returns /t/<table>/, the start of all of a table's keys.
func TablePrefixKey(tableID uint32) []byte {
	return AppendUvarintAsc([]byte{TablePrefix}, uint64(tableID))
}

// PrefixEnd returns the smallest key greater than every key with prefix p.
func PrefixEnd(p []byte) []byte {
	end := bytes.Clone(p)
	for i := len(end) - 1; i >= 0; i-- {
		if end[i] != 0xff {
			end[i]++
			return end[:i+1]
		}
	}
	return []byte{0xff}
}

// AppendKey appends the order-preserving encoding of one key column value.
// DECIMAL values must already be at the column's scale.
func AppendKey(buf []byte, v types.Value) []byte {
	switch v.K {
	case types.KNull:
		return append(buf, markerNull)
	case types.KInt, types.KDecimal:
		return binary.BigEndian.AppendUint64(append(buf, markerInt), uint64(v.I)^(1<<63))
	case types.KTime:
		return binary.BigEndian.AppendUint64(append(buf, markerTime), uint64(v.I)^(1<<63))
	case types.KFloat:
		f := v.F
		if f == 0 {
			f = 0 // normalise -0
		}
		bits := math.Float64bits(f)
		if bits&(1<<63) == 0 {
			bits ^= 1 << 63
		} else {
			bits = ^bits
		}
		return binary.BigEndian.AppendUint64(append(buf, markerFloat), bits)
	case types.KString, types.KBytes:
		buf = append(buf, markerString)
		s := v.S
		for {
			i := indexByte(s, 0)
			if i < 0 {
				break
			}
			buf = append(buf, s[:i]...)
			buf = append(buf, escape, escapedNul)
			s = s[i+1:]
		}
		buf = append(buf, s...)
		return append(buf, escape, terminator)
	}
	panic(fmt.Sprintf("rowcodec: cannot key-encode kind %d", v.K))
}

func indexByte(s string, c byte) int {
	for i := 0; i < len(s); i++ {
		if s[i] == c {
			return i
		}
	}
	return -1
}

// DecodeKey decodes one key column. kind and scale come from the column's
// type (they are not in the encoding).
func DecodeKey(b []byte, t types.T) (types.Value, []byte, error) {
	if len(b) == 0 {
		return types.Null, nil, fmt.Errorf("rowcodec: empty key column")
	}
	m := b[0]
	b = b[1:]
	switch m {
	case markerNull:
		return types.Null, b, nil
	case markerInt, markerTime:
		if len(b) < 8 {
			return types.Null, nil, fmt.Errorf("rowcodec: short int key column")
		}
		i := int64(binary.BigEndian.Uint64(b) ^ (1 << 63))
		switch t.Kind() {
		case types.KDecimal:
			return types.NewDecimal(i, t.Scale), b[8:], nil
		case types.KTime:
			sub := uint8(types.TimeDatetime)
			if t.Name == types.TDate {
				sub = types.TimeDate
			}
			return types.Value{K: types.KTime, I: i, Scale: sub}, b[8:], nil
		}
		return types.NewInt(i), b[8:], nil
	case markerFloat:
		if len(b) < 8 {
			return types.Null, nil, fmt.Errorf("rowcodec: short float key column")
		}
		bits := binary.BigEndian.Uint64(b)
		if bits&(1<<63) != 0 {
			bits ^= 1 << 63
		} else {
			bits = ^bits
		}
		return types.NewFloat(math.Float64frombits(bits)), b[8:], nil
	case markerString:
		var out []byte
		for i := 0; i < len(b); i++ {
			if b[i] != escape {
				continue
			}
			if i+1 >= len(b) {
				break
			}
			switch b[i+1] {
			case terminator:
				out = append(out, b[:i]...)
				v := types.Value{K: t.Kind(), S: string(out)}
				if v.K != types.KBytes {
					v.K = types.KString
				}
				return v, b[i+2:], nil
			case escapedNul:
				out = append(out, b[:i]...)
				out = append(out, 0)
				b = b[i+2:]
				i = -1
			default:
				return types.Null, nil, fmt.Errorf("rowcodec: bad escape in string key column")
			}
		}
		return types.Null, nil, fmt.Errorf("rowcodec: unterminated string key column")
	}
	return types.Null, nil, fmt.Errorf("rowcodec: unknown key marker 0x%02x", m)
}

// TableKey is a decoded key prefix.
type TableKey struct {
	TableID, IndexID uint32
	Rest             []byte
}

// DecodeTableKey splits the /t/<table>/<index>/ prefix off a key.
func DecodeTableKey(k []byte) (TableKey, error) {
	if len(k) == 0 || k[0] != TablePrefix {
		return TableKey{}, fmt.Errorf("rowcodec: not a table key: %x", k)
	}
	t, rest, err := DecodeUvarintAsc(k[1:])
	if err != nil {
		return TableKey{}, err
	}
	i, rest, err := DecodeUvarintAsc(rest)
	if err != nil {
		return TableKey{}, err
	}
	return TableKey{TableID: uint32(t), IndexID: uint32(i), Rest: rest}, nil
}

// PrettyKey renders a key for SHOW TABLE REGIONS and error messages:
// /t/<table>/<index>/<hex of the columns>.
func PrettyKey(k []byte) string {
	if len(k) == 0 {
		return "/Min"
	}
	if bytes.Equal(k, []byte{0xff}) {
		return "/Max"
	}
	if k[0] != TablePrefix {
		return fmt.Sprintf("%x", k)
	}
	t, rest, err := DecodeUvarintAsc(k[1:])
	if err != nil {
		return fmt.Sprintf("%x", k)
	}
	if len(rest) == 0 {
		return fmt.Sprintf("/t/%d", t)
	}
	i, rest, err := DecodeUvarintAsc(rest)
	if err != nil {
		return fmt.Sprintf("/t/%d/%x", t, rest)
	}
	if len(rest) == 0 {
		return fmt.Sprintf("/t/%d/%d", t, i)
	}
	return fmt.Sprintf("/t/%d/%d/%x", t, i, rest)
}
