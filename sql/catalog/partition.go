package catalog

import (
	"bytes"
	"fmt"
	"sort"
	"strings"

	"github.com/meridiandb/meridian/sql/rowcodec"
	"github.com/meridiandb/meridian/sql/types"
	"github.com/meridiandb/meridian/txn"
)

// Partitioning is a table's PARTITION BY LIST COLUMNS (col) (PARTITION p
// VALUES IN (v, …) [PLACEMENT POLICY = pol], …) clause.
//
// Meridian implements the form in which the partitioning column leads the
// primary key. Partitions are not separate physical tables (as in TiDB):
// the rows whose column holds one of a partition's values already form one
// contiguous span of the primary index per value, and so do their entries
// in every secondary index the column leads. A partition is therefore a
// set of key spans (Table.PartitionSpans), and its placement policy is
// carried out as one placement rule per span, which the cluster's
// allocator enforces like a table's. Secondary indexes the column does not
// lead are global: one span for every partition, placed by the table's
// policy.
//
// Invariants, kept by the DDL that builds it: Column is the first column
// of the primary key; every partition has at least one value; no value is
// in two partitions; values are stored as the text of the column type's
// value (Coerce of the text gives it back); partition names are unique
// (case-insensitively). Writes keep every row's Column value inside some
// partition (CheckPartition; MySQL error 1526 otherwise).
type Partitioning struct {
	Column     uint32      `json:"column"`
	Partitions []Partition `json:"partitions"`
}

// Partition is one LIST partition.
type Partition struct {
	Name   string   `json:"name"`
	Values []string `json:"values"`
	// Placement is the partition's placement policy; "" follows the
	// table's.
	Placement string `json:"placement,omitempty"`
}

// NoPartitionError reports a row whose partitioning column holds a value
// no partition lists (MySQL 1526).
type NoPartitionError struct {
	Table, Column, Value string
}

func (e *NoPartitionError) Error() string {
	return fmt.Sprintf("Table has no partition for value from column_list: '%s'.%s = %s", e.Table, e.Column, e.Value)
}

// PartitionByName returns the partition named name (case-insensitively),
// or nil.
func (t *Table) PartitionByName(name string) *Partition {
	if t.Partitioning == nil {
		return nil
	}
	for i := range t.Partitioning.Partitions {
		if strings.EqualFold(t.Partitioning.Partitions[i].Name, name) {
			return &t.Partitioning.Partitions[i]
		}
	}
	return nil
}

// PartitionValues returns p's values as values of the partitioning
// column's type.
func (t *Table) PartitionValues(p *Partition) ([]types.Value, error) {
	ct := t.Columns[t.ColumnOrdinal(t.Partitioning.Column)].Type
	out := make([]types.Value, len(p.Values))
	for i, s := range p.Values {
		v, err := ct.Coerce(types.NewString(s))
		if err != nil {
			return nil, fmt.Errorf("catalog: partition %s of table %s: value %q: %w", p.Name, t.Name, s, err)
		}
		out[i] = v
	}
	return out, nil
}

// CheckPartition returns a *NoPartitionError if row (a full row of the
// table, coerced to its types) belongs to no partition; nil if it belongs
// to one or the table is not partitioned.
func (t *Table) CheckPartition(row []types.Value) error {
	if t.Partitioning == nil {
		return nil
	}
	ord := t.ColumnOrdinal(t.Partitioning.Column)
	v := row[ord]
	for i := range t.Partitioning.Partitions {
		vals, err := t.PartitionValues(&t.Partitioning.Partitions[i])
		if err != nil {
			return err
		}
		for _, pv := range vals {
			if !v.IsNull() && types.Compare(v, pv) == 0 {
				return nil
			}
		}
	}
	return &NoPartitionError{Table: t.Name, Column: t.Columns[ord].Name, Value: v.SQLLiteral()}
}

// PartitionedIndexes returns the indexes whose keys the partitioning
// column leads (the primary index first, then secondary indexes in any
// schema-change state, since their entries exist): the indexes a
// partition's spans cover.
func (t *Table) PartitionedIndexes() []*Index {
	if t.Partitioning == nil {
		return nil
	}
	out := []*Index{&t.Primary}
	for i := range t.Indexes {
		if idx := &t.Indexes[i]; len(idx.Columns) > 0 && idx.Columns[0] == t.Partitioning.Column {
			out = append(out, idx)
		}
	}
	return out
}

// PartitionSpans returns the key spans of partition p, in key order.
//
// Each partitioned index is tiled by the partitions' values: the tile of
// value v runs from v's first key to the next value's first key (the
// first value's tile from the index's start, the last one's to the
// index's end), and adjacent tiles of one partition merge. Since every
// row's value is some partition's (CheckPartition), the tile of v holds
// exactly the entries of v's rows; tiling rather than cutting a span per
// value leaves no empty ranges between partitions, so the index is cut
// into as many ranges as it has partitions' runs of values.
func (t *Table) PartitionSpans(p *Partition) ([]txn.Span, error) {
	type tile struct {
		start []byte // the value's first key, after the index prefix
		part  *Partition
	}
	var tiles []tile
	for i := range t.Partitioning.Partitions {
		q := &t.Partitioning.Partitions[i]
		vals, err := t.PartitionValues(q)
		if err != nil {
			return nil, err
		}
		for _, v := range vals {
			tiles = append(tiles, tile{rowcodec.AppendKey(nil, v), q})
		}
	}
	sort.Slice(tiles, func(i, j int) bool { return bytes.Compare(tiles[i].start, tiles[j].start) < 0 })
	var out []txn.Span
	for _, idx := range t.PartitionedIndexes() {
		prefix := rowcodec.IndexPrefix(t.ID, idx.ID)
		for i, tl := range tiles {
			if tl.part != p {
				continue
			}
			start := append(bytes.Clone(prefix), tl.start...)
			if i == 0 {
				start = bytes.Clone(prefix)
			}
			end := rowcodec.PrefixEnd(prefix)
			if i+1 < len(tiles) {
				end = append(bytes.Clone(prefix), tiles[i+1].start...)
			}
			if n := len(out); n > 0 && bytes.Equal(out[n-1].EndKey, start) {
				out[n-1].EndKey = end // the previous value is p's too
				continue
			}
			out = append(out, txn.Span{Key: start, EndKey: end})
		}
	}
	return out, nil
}
