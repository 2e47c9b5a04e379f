package rowcodec

import (
	"encoding/binary"
	"fmt"
	"math"

	"github.com/meridiandb/meridian/sql/types"
)

// Row value layout (the value under a primary-index key):
//
//	row    = 0x01 { column }
//	column = colID:uvarint tag:byte payload
//	tag    = 0 NULL (no payload) | 1 INT zigzag-varint | 2 FLOAT 8 bytes LE
//	       | 3 DECIMAL zigzag-varint scale:byte | 4 STRING uvarint-len bytes
//	       | 5 BYTES uvarint-len bytes | 6 TIME zigzag-varint sub:byte
//
// Columns are identified by their immutable column ID, so a column added
// later is simply absent from older rows (and reads take its default).
// Primary-key columns are not repeated in the value: they are in the key.
const rowVersion = 0x01

// Column tags.
const (
	tagNull = iota
	tagInt
	tagFloat
	tagDecimal
	tagString
	tagBytes
	tagTime
)

// AppendColumn appends one column (ID and value) to a row value started
// with StartRow.
func AppendColumn(buf []byte, colID uint32, v types.Value) []byte {
	buf = binary.AppendUvarint(buf, uint64(colID))
	switch v.K {
	case types.KNull:
		return append(buf, tagNull)
	case types.KInt:
		return binary.AppendVarint(append(buf, tagInt), v.I)
	case types.KFloat:
		return binary.LittleEndian.AppendUint64(append(buf, tagFloat), math.Float64bits(v.F))
	case types.KDecimal:
		return append(binary.AppendVarint(append(buf, tagDecimal), v.I), v.Scale)
	case types.KString:
		buf = binary.AppendUvarint(append(buf, tagString), uint64(len(v.S)))
		return append(buf, v.S...)
	case types.KBytes:
		buf = binary.AppendUvarint(append(buf, tagBytes), uint64(len(v.S)))
		return append(buf, v.S...)
	case types.KTime:
		return append(binary.AppendVarint(append(buf, tagTime), v.I), v.Scale)
	}
	panic(fmt.Sprintf("rowcodec: cannot encode kind %d", v.K))
}

// StartRow starts a row value.
func StartRow(buf []byte) []byte { return append(buf, rowVersion) }

// DecodeRow calls fn for each column in a row value.
func DecodeRow(b []byte, fn func(colID uint32, v types.Value)) error {
	if len(b) == 0 || b[0] != rowVersion {
		return fmt.Errorf("rowcodec: bad row value version")
	}
	b = b[1:]
	for len(b) > 0 {
		id, n := binary.Uvarint(b)
		if n <= 0 || len(b) < n+1 {
			return fmt.Errorf("rowcodec: malformed column id")
		}
		tag := b[n]
		b = b[n+1:]
		var v types.Value
		switch tag {
		case tagNull:
		case tagInt, tagDecimal, tagTime:
			i, m := binary.Varint(b)
			if m <= 0 {
				return fmt.Errorf("rowcodec: malformed int column %d", id)
			}
			b = b[m:]
			v.I = i
			switch tag {
			case tagInt:
				v.K = types.KInt
			case tagDecimal, tagTime:
				if len(b) < 1 {
					return fmt.Errorf("rowcodec: short column %d", id)
				}
				v.K, v.Scale = types.KDecimal, b[0]
				if tag == tagTime {
					v.K = types.KTime
				}
				b = b[1:]
			}
		case tagFloat:
			if len(b) < 8 {
				return fmt.Errorf("rowcodec: short float column %d", id)
			}
			v = types.NewFloat(math.Float64frombits(binary.LittleEndian.Uint64(b)))
			b = b[8:]
		case tagString, tagBytes:
			l, m := binary.Uvarint(b)
			if m <= 0 || uint64(len(b)-m) < l {
				return fmt.Errorf("rowcodec: malformed string column %d", id)
			}
			v.K = types.KString
			if tag == tagBytes {
				v.K = types.KBytes
			}
			v.S = string(b[m : m+int(l)])
			b = b[m+int(l):]
		default:
			return fmt.Errorf("rowcodec: unknown tag %d in column %d", tag, id)
		}
		fn(uint32(id), v)
	}
	return nil
}
