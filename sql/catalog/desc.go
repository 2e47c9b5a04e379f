package catalog

import (
	"strings"

	"github.com/meridiandb/meridian/sql"
	"github.com/meridiandb/meridian/sql/rowcodec"
	"github.com/meridiandb/meridian/sql/types"
	"github.com/meridiandb/meridian/txn"
)

// Reserved table IDs (system tables). User descriptors get IDs from
// FirstUserID on.
const (
	DescriptorTableID = 1 // /t/1/1/<descID> → JSON descriptor
	UsersTableID      = 2 // /t/2/1/<user name> → JSON user
	VersionTableID    = 3 // /t/3/1 → schema version
	IDGenTableID      = 4 // /t/4/1 → next descriptor ID
	AutoIncTableID    = 5 // /t/5/1/<tableID> → next auto-increment value
	LeaseTableID      = 6 // /t/6/1/<node lease id> → lease record (lease.go)
	FirstUserID       = 100
)

// IndexState is the schema-change state of an index.
type IndexState int

const (
	// IndexPublic indexes are maintained by writes and used by reads.
	IndexPublic IndexState = iota
	// IndexWriteOnly indexes are maintained by writes but not read: an
	// index being backfilled, or being dropped.
	IndexWriteOnly
	// IndexDeleteOnly indexes are not read, and writes only delete their
	// entries (of rows they delete or change), never add any: the first
	// state of a new index, so that no transaction under the previous
	// version (which ignores the index) can leave an entry behind.
	IndexDeleteOnly
)

// Reads reports whether reads may use an index in this state.
func (s IndexState) Reads() bool { return s == IndexPublic }

// Puts reports whether writes add entries to an index in this state.
func (s IndexState) Puts() bool { return s == IndexPublic || s == IndexWriteOnly }

// ColumnState is the schema-change state of a column.
type ColumnState int

const (
	// ColumnPublic columns are read and written.
	ColumnPublic ColumnState = iota
	// ColumnWriteOnly columns are invisible to statements (no name
	// resolves to them, * and INSERT without a column list skip them)
	// but kept in rows: inserts write their default, updates keep their
	// value. A column being added or dropped passes through this state.
	ColumnWriteOnly
)

// Column describes one column.
type Column struct {
	ID       uint32  `json:"id"`
	Name     string  `json:"name"`
	Type     types.T `json:"type"`
	Nullable bool    `json:"nullable"`
	// Default is the default value as SQL text (a literal or
	// CURRENT_TIMESTAMP); nil means NULL (or none for NOT NULL columns).
	Default *string `json:"default,omitempty"`
	AutoInc bool    `json:"auto_inc,omitempty"`
	// Hidden columns (the implicit _rowid primary key) are not in SELECT *.
	Hidden bool        `json:"hidden,omitempty"`
	State  ColumnState `json:"state,omitempty"`
}

// Public reports whether statements see the column.
func (c *Column) Public() bool { return c.State == ColumnPublic }

// Listed reports whether the column is in SELECT *, INSERT without a
// column list, SHOW COLUMNS and SHOW CREATE TABLE.
func (c *Column) Listed() bool { return c.State == ColumnPublic && !c.Hidden }

// Index describes the primary index (ID 1) or a secondary index.
type Index struct {
	ID      uint32     `json:"id"`
	Name    string     `json:"name"`
	Unique  bool       `json:"unique"`
	Columns []uint32   `json:"columns"` // column IDs, in key order
	State   IndexState `json:"state,omitempty"`
}

// Table describes a table.
type Table struct {
	ID           uint32   `json:"id"`
	DBID         uint32   `json:"db_id"`
	Name         string   `json:"name"`
	Columns      []Column `json:"columns"`
	Primary      Index    `json:"primary"`
	Indexes      []Index  `json:"indexes"`
	NextColumnID uint32   `json:"next_column_id"`
	NextIndexID  uint32   `json:"next_index_id"`
	Placement    string   `json:"placement,omitempty"`
	// Partitioning is the table's PARTITION BY LIST COLUMNS clause (nil:
	// not partitioned); see partition.go.
	Partitioning *Partitioning `json:"partitioning,omitempty"`
	// Version counts changes to this table's descriptor.
	Version uint64 `json:"version"`
}

// Database describes a database.
type Database struct {
	ID   uint32 `json:"id"`
	Name string `json:"name"`
}

// Policy is a placement policy descriptor.
type Policy struct {
	ID uint32 `json:"id"`
	sql.Placement
}

// User is a SQL user. Password is kept as given (mysql_native_password
// verification through go-mysql needs the clear text; see doc.go).
type User struct {
	Name     string `json:"name"`
	Password string `json:"password"`
}

// Descriptor is the JSON value of one row of the descriptor table: exactly
// one field is set.
type Descriptor struct {
	Database *Database `json:"database,omitempty"`
	Table    *Table    `json:"table,omitempty"`
	Policy   *Policy   `json:"policy,omitempty"`
}

// ColumnByName returns the public column named name (case-insensitively).
func (t *Table) ColumnByName(name string) (int, *Column) {
	for i := range t.Columns {
		if t.Columns[i].Public() && strings.EqualFold(t.Columns[i].Name, name) {
			return i, &t.Columns[i]
		}
	}
	return -1, nil
}

// AnyColumnByName returns the column named name in any state.
func (t *Table) AnyColumnByName(name string) (int, *Column) {
	for i := range t.Columns {
		if strings.EqualFold(t.Columns[i].Name, name) {
			return i, &t.Columns[i]
		}
	}
	return -1, nil
}

// ColumnOrdinal returns the position of the column with ID id.
func (t *Table) ColumnOrdinal(id uint32) int {
	for i := range t.Columns {
		if t.Columns[i].ID == id {
			return i
		}
	}
	return -1
}

// IndexByName returns the secondary index named name, or the primary index
// for "PRIMARY".
func (t *Table) IndexByName(name string) *Index {
	if strings.EqualFold(name, "PRIMARY") {
		return &t.Primary
	}
	for i := range t.Indexes {
		if strings.EqualFold(t.Indexes[i].Name, name) {
			return &t.Indexes[i]
		}
	}
	return nil
}

// PublicIndexes returns the primary index followed by the public
// secondary indexes.
func (t *Table) PublicIndexes() []*Index {
	out := []*Index{&t.Primary}
	for i := range t.Indexes {
		if t.Indexes[i].State == IndexPublic {
			out = append(out, &t.Indexes[i])
		}
	}
	return out
}

// Span returns the key span of all the table's data.
func (t *Table) Span() txn.Span {
	p := rowcodec.TablePrefixKey(t.ID)
	return txn.Span{Key: p, EndKey: rowcodec.PrefixEnd(p)}
}

// IndexSpan returns the key span of one index.
func (t *Table) IndexSpan(indexID uint32) txn.Span {
	p := rowcodec.IndexPrefix(t.ID, indexID)
	return txn.Span{Key: p, EndKey: rowcodec.PrefixEnd(p)}
}

// IsPKColumn reports whether column id is part of the primary key.
func (t *Table) IsPKColumn(id uint32) bool {
	for _, c := range t.Primary.Columns {
		if c == id {
			return true
		}
	}
	return false
}

// AutoIncColumn returns the ordinal of the AUTO_INCREMENT column, or -1.
func (t *Table) AutoIncColumn() int {
	for i := range t.Columns {
		if t.Columns[i].AutoInc {
			return i
		}
	}
	return -1
}
