package exec

import (
	"fmt"
	"strings"

	"github.com/meridiandb/meridian/sql/catalog"
	"github.com/meridiandb/meridian/sql/rowcodec"
	"github.com/meridiandb/meridian/sql/types"
)

// Index entry layout (key grammar in rowcodec):
//
//	primary:   /t/<table>/<primary id>/<pk cols>            → row value (non-PK columns)
//	unique:    /t/<table>/<index id>/<index cols>           → <pk cols> (key-encoded)
//	non-unique (or a unique entry with a NULL column):
//	           /t/<table>/<index id>/<index cols><pk cols>  → <pk cols>
//
// The value of every secondary entry is the key-encoded primary key, so a
// lookup never has to parse the index columns back out.

// RowKey returns the primary-index key of row (a full table row).
func RowKey(t *catalog.Table, row []types.Value) []byte {
	k := rowcodec.IndexPrefix(t.ID, t.Primary.ID)
	return appendPK(k, t, row)
}

func appendPK(k []byte, t *catalog.Table, row []types.Value) []byte {
	for _, id := range t.Primary.Columns {
		k = rowcodec.AppendKey(k, row[t.ColumnOrdinal(id)])
	}
	return k
}

// IndexEntry returns the key and value of row's entry in a secondary index.
func IndexEntry(t *catalog.Table, idx *catalog.Index, row []types.Value) (key, value []byte) {
	k := rowcodec.IndexPrefix(t.ID, idx.ID)
	hasNull := false
	for _, id := range idx.Columns {
		v := row[t.ColumnOrdinal(id)]
		hasNull = hasNull || v.IsNull()
		k = rowcodec.AppendKey(k, v)
	}
	pk := appendPK(nil, t, row)
	if !idx.Unique || hasNull {
		k = append(k, pk...)
	}
	return k, pk
}

// uniqueKey returns the key that must be absent for row to be insertable
// into a unique index, or nil if the row has a NULL in it (no constraint).
func uniqueKey(t *catalog.Table, idx *catalog.Index, row []types.Value) []byte {
	if !idx.Unique {
		return nil
	}
	for _, id := range idx.Columns {
		if row[t.ColumnOrdinal(id)].IsNull() {
			return nil
		}
	}
	k, _ := IndexEntry(t, idx, row)
	return k
}

// RowValue encodes the non-primary-key columns of row.
func RowValue(t *catalog.Table, row []types.Value) []byte {
	b := rowcodec.StartRow(make([]byte, 0, 64))
	for i := range t.Columns {
		if t.IsPKColumn(t.Columns[i].ID) {
			continue
		}
		b = rowcodec.AppendColumn(b, t.Columns[i].ID, row[i])
	}
	return b
}

// decodePK decodes primary key columns (after the index prefix) into row.
func decodePK(t *catalog.Table, b []byte, row []types.Value) error {
	for _, id := range t.Primary.Columns {
		ord := t.ColumnOrdinal(id)
		v, rest, err := rowcodec.DecodeKey(b, t.Columns[ord].Type)
		if err != nil {
			return fmt.Errorf("table %s: %w", t.Name, err)
		}
		row[ord] = v
		b = rest
	}
	return nil
}

// DecodeRow decodes a primary-index key and value into a full table row.
// Columns absent from the value (added later) take their defaults.
func DecodeRow(t *catalog.Table, key, value []byte) ([]types.Value, error) {
	row := make([]types.Value, len(t.Columns))
	tk, err := rowcodec.DecodeTableKey(key)
	if err != nil {
		return nil, err
	}
	if err := decodePK(t, tk.Rest, row); err != nil {
		return nil, err
	}
	seen := make([]bool, len(t.Columns))
	err = rowcodec.DecodeRow(value, func(id uint32, v types.Value) {
		if ord := t.ColumnOrdinal(id); ord >= 0 {
			row[ord] = v
			seen[ord] = true
		}
	})
	if err != nil {
		return nil, fmt.Errorf("table %s row %s: %w", t.Name, rowcodec.PrettyKey(key), err)
	}
	for i := range row {
		if !seen[i] && !t.IsPKColumn(t.Columns[i].ID) {
			row[i] = staticDefault(&t.Columns[i])
		}
	}
	return row, nil
}

// staticDefault is a column's default as a constant (CURRENT_TIMESTAMP
// reads as NULL for rows written before the column existed).
func staticDefault(c *catalog.Column) types.Value {
	if c.Default == nil || *c.Default == "CURRENT_TIMESTAMP" {
		return types.Null
	}
	v, err := c.Type.Coerce(types.NewString(*c.Default))
	if err != nil {
		return types.Null
	}
	return v
}

// DuplicateKeyError is MySQL 1062.
type DuplicateKeyError struct {
	Table, Key string
	Entry      string
}

func (e *DuplicateKeyError) Error() string {
	return fmt.Sprintf("Duplicate entry '%s' for key '%s.%s'", e.Entry, e.Table, e.Key)
}

func dupError(t *catalog.Table, idx *catalog.Index, row []types.Value) error {
	var parts []string
	for _, id := range idx.Columns {
		parts = append(parts, row[t.ColumnOrdinal(id)].String())
	}
	name := idx.Name
	if idx.ID == t.Primary.ID {
		name = "PRIMARY"
	}
	return &DuplicateKeyError{Table: t.Name, Key: name, Entry: strings.Join(parts, "-")}
}

// keyValue converts v for use as a key column of type t. ok is false when
// the index cannot be used for the comparison (different comparison
// semantics); exact is false when the converted value differs from v (an
// equality then matches nothing, a bound must be dropped).
func keyValue(v types.Value, t types.T) (kv types.Value, exact, ok bool) {
	if v.IsNull() {
		return v, true, true
	}
	switch t.Kind() {
	case types.KString, types.KBytes:
		if v.K != types.KString && v.K != types.KBytes {
			return types.Null, false, false
		}
		return types.Value{K: t.Kind(), S: v.S}, true, true
	case types.KTime:
		c, err := t.Coerce(v)
		if err != nil {
			return types.Null, false, false
		}
		return c, types.Compare(c, v) == 0, true
	}
	if v.K == types.KTime {
		return types.Null, false, false
	}
	tt := t
	tt.Len = 0
	c, err := tt.Coerce(v)
	if err != nil {
		return types.Null, false, false
	}
	return c, types.Compare(c, v) == 0, true
}
