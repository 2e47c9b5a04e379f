package exec

import (
	"bytes"
	"fmt"

	"github.com/meridiandb/meridian/sql/catalog"
	"github.com/meridiandb/meridian/sql/plan"
	"github.com/meridiandb/meridian/sql/rowcodec"
	"github.com/meridiandb/meridian/sql/types"
	"github.com/meridiandb/meridian/txn"
)

// NotNullError is MySQL 1048.
type NotNullError struct{ Column string }

func (e *NotNullError) Error() string { return fmt.Sprintf("Column '%s' cannot be null", e.Column) }

// DataError is MySQL 1366/1264/1406 (bad value for a column).
type DataError struct {
	Column string
	Err    error
}

func (e *DataError) Error() string { return fmt.Sprintf("%v for column '%s'", e.Err, e.Column) }

// Unwrap returns the coercion error (types.ErrOutOfRange, …).
func (e *DataError) Unwrap() error { return e.Err }

// finishRow coerces a full row to the table's types, checks NOT NULL and,
// for a partitioned table, that some partition holds the row.
func finishRow(t *catalog.Table, row []types.Value) error {
	for i := range row {
		c := &t.Columns[i]
		v, err := c.Type.Coerce(row[i])
		if err != nil {
			return &DataError{Column: c.Name, Err: err}
		}
		if v.IsNull() && !c.Nullable {
			return &NotNullError{Column: c.Name}
		}
		row[i] = v
	}
	return t.CheckPartition(row)
}

// know tells a statement journal the current value of a key the
// statement is about to write, when the DML code knows it without reading.
func (c *Ctx) know(key, value []byte, found bool) {
	if k, ok := c.Txn.(knower); ok {
		k.Know(key, value, found)
	}
}

// writeIndexes puts (or deletes, if del) row's secondary index entries:
// deletes in every index, puts in the public and write-only ones. row
// exists (del) or is new with a primary key no row has (!del).
func (c *Ctx) writeIndexes(t *catalog.Table, row []types.Value, del bool) error {
	for i := range t.Indexes {
		idx := &t.Indexes[i]
		if !del && !idx.State.Puts() {
			continue
		}
		k, v := IndexEntry(t, idx, row)
		if idx.State.Reads() {
			// A public index has exactly the entries of the rows: a
			// deleted row's entry exists; a new row's entry does not,
			// unless its key is a unique one (read by the uniqueness
			// check instead).
			switch {
			case del:
				c.know(k, v, true)
			case uniqueKey(t, idx, row) == nil:
				c.know(k, nil, false)
			}
		}
		var err error
		if del {
			err = c.Txn.Delete(c.Ctx, k)
		} else {
			err = c.Txn.Put(c.Ctx, k, v)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// deleteRow removes a row and its index entries.
func (c *Ctx) deleteRow(t *catalog.Table, row []types.Value) error {
	if err := c.Txn.Delete(c.Ctx, RowKey(t, row)); err != nil {
		return err
	}
	return c.writeIndexes(t, row, true)
}

// conflict returns the existing row that row would duplicate (by primary
// key or a unique index), and which index.
func (c *Ctx) conflict(t *catalog.Table, row []types.Value) ([]types.Value, *catalog.Index, error) {
	old, ok, err := lookupRow(c, t, RowKey(t, row), true)
	if err != nil {
		return nil, nil, err
	}
	if ok {
		return old, &t.Primary, nil
	}
	for i := range t.Indexes {
		idx := &t.Indexes[i]
		if !idx.State.Puts() {
			continue
		}
		k := uniqueKey(t, idx, row)
		if k == nil {
			continue
		}
		pk, ok, err := c.Txn.Get(c.Ctx, k, txn.ReadOptions{ForUpdate: true})
		if err != nil {
			return nil, nil, err
		}
		if !ok {
			continue
		}
		rk := append(rowcodec.IndexPrefix(t.ID, t.Primary.ID), pk...)
		old, ok, err := lookupRow(c, t, rk, true)
		if err != nil {
			return nil, nil, err
		}
		if ok {
			return old, idx, nil
		}
	}
	return nil, nil, nil
}

// insertRow writes a new row (known not to conflict).
func (c *Ctx) insertRow(t *catalog.Table, row []types.Value) error {
	if err := c.Txn.Put(c.Ctx, RowKey(t, row), RowValue(t, row)); err != nil {
		return err
	}
	return c.writeIndexes(t, row, false)
}

// ExecInsert runs an INSERT/REPLACE and returns the affected row count.
func (c *Ctx) ExecInsert(n *plan.Insert) (int64, error) {
	t := n.Table
	var src [][]types.Value
	if n.Source != nil {
		rows, err := c.Run(n.Source)
		if err != nil {
			return 0, err
		}
		src = rows
	} else {
		for _, r := range n.Rows {
			vals := make([]types.Value, len(r))
			for i, e := range r {
				v, err := e.Eval(c.Env, nil)
				if err != nil {
					return 0, err
				}
				vals[i] = v
			}
			src = append(src, vals)
		}
	}
	given := make([]bool, len(t.Columns))
	for _, ord := range n.Cols {
		given[ord] = true
	}
	autoCol := t.AutoIncColumn()
	var affected int64
	for _, vals := range src {
		row := make([]types.Value, len(t.Columns))
		for i := range t.Columns {
			if !given[i] {
				v, err := plan.DefaultExpr(&t.Columns[i]).Eval(c.Env, nil)
				if err != nil {
					return 0, err
				}
				row[i] = v
			}
		}
		for i, ord := range n.Cols {
			row[ord] = vals[i]
		}
		if autoCol >= 0 {
			v := row[autoCol]
			if v.IsNull() || (v.K == types.KInt && v.I == 0) {
				id, err := c.AutoInc.Next(c.Ctx, t)
				if err != nil {
					return 0, err
				}
				row[autoCol] = types.NewInt(id)
				if c.LastInsertID == 0 {
					c.LastInsertID = id
				}
			} else if i, err := types.ToInt(v); err == nil {
				if err := c.AutoInc.Observe(c.Ctx, t, i); err != nil {
					return 0, err
				}
			}
		}
		if err := finishRow(t, row); err != nil {
			return 0, err
		}
		for {
			old, idx, err := c.conflict(t, row)
			if err != nil {
				return 0, err
			}
			if old == nil {
				if err := c.insertRow(t, row); err != nil {
					return 0, err
				}
				affected++
				break
			}
			switch {
			case n.Replace:
				if err := c.deleteRow(t, old); err != nil {
					return 0, err
				}
				affected++
				continue
			case n.OnDup != nil:
				both := concat(old, row)
				nrow := append([]types.Value{}, old...)
				for _, a := range n.OnDup {
					v, err := a.X.Eval(c.Env, both)
					if err != nil {
						return 0, err
					}
					nrow[a.Col] = v
				}
				changed, err := c.updateRow(t, old, nrow)
				if err != nil {
					return 0, err
				}
				if changed {
					affected += 2
				}
			case n.Ignore:
			default:
				return 0, dupError(t, idx, row)
			}
			break
		}
	}
	return affected, nil
}

// updateRow replaces old by nrow (coercing and checking it), maintaining
// indexes. It reports whether anything changed.
func (c *Ctx) updateRow(t *catalog.Table, old, nrow []types.Value) (bool, error) {
	if err := finishRow(t, nrow); err != nil {
		return false, err
	}
	same := true
	for i := range old {
		if old[i].K != nrow[i].K || types.Compare(old[i], nrow[i]) != 0 {
			same = false
			break
		}
	}
	if same {
		return false, nil
	}
	oldKey, newKey := RowKey(t, old), RowKey(t, nrow)
	if !bytes.Equal(oldKey, newKey) {
		if _, ok, err := lookupRow(c, t, newKey, true); err != nil {
			return false, err
		} else if ok {
			return false, dupError(t, &t.Primary, nrow)
		}
		if err := c.Txn.Delete(c.Ctx, oldKey); err != nil {
			return false, err
		}
	}
	if err := c.Txn.Put(c.Ctx, newKey, RowValue(t, nrow)); err != nil {
		return false, err
	}
	for i := range t.Indexes {
		idx := &t.Indexes[i]
		ok, ov := IndexEntry(t, idx, old)
		nk, nv := IndexEntry(t, idx, nrow)
		if bytes.Equal(ok, nk) && bytes.Equal(ov, nv) {
			continue
		}
		if idx.State.Reads() {
			// See writeIndexes: the old entry exists; a non-unique new
			// entry (it ends with the primary key) does not.
			c.know(ok, ov, true)
			if uniqueKey(t, idx, nrow) == nil {
				c.know(nk, nil, false)
			}
		}
		if err := c.Txn.Delete(c.Ctx, ok); err != nil {
			return false, err
		}
		if !idx.State.Puts() {
			continue // delete-only
		}
		if uk := uniqueKey(t, idx, nrow); uk != nil {
			if _, found, err := c.Txn.Get(c.Ctx, uk, txn.ReadOptions{ForUpdate: true}); err != nil {
				return false, err
			} else if found {
				return false, dupError(t, idx, nrow)
			}
		}
		if err := c.Txn.Put(c.Ctx, nk, nv); err != nil {
			return false, err
		}
	}
	return true, nil
}

// ExecUpdate runs an UPDATE and returns the number of changed rows and the
// number of matched rows.
func (c *Ctx) ExecUpdate(n *plan.Update) (changed, matched int64, err error) {
	rows, err := c.Run(n.Source)
	if err != nil {
		return 0, 0, err
	}
	for _, old := range rows {
		nrow := append([]types.Value{}, old...)
		for _, a := range n.Sets {
			v, err := a.X.Eval(c.Env, old)
			if err != nil {
				return 0, 0, err
			}
			nrow[a.Col] = v
		}
		ch, err := c.updateRow(n.Table, old, nrow)
		if err != nil {
			return 0, 0, err
		}
		matched++
		if ch {
			changed++
		}
	}
	return changed, matched, nil
}

// ExecDelete runs a DELETE and returns the number of deleted rows.
func (c *Ctx) ExecDelete(n *plan.Delete) (int64, error) {
	rows, err := c.Run(n.Source)
	if err != nil {
		return 0, err
	}
	for _, r := range rows {
		if err := c.deleteRow(n.Table, r); err != nil {
			return 0, err
		}
	}
	return int64(len(rows)), nil
}

// BackfillIndex writes idx's entries for every row of t in [from, end) of
// the primary index, at most batch rows, and returns where it stopped
// (nil when done). It runs inside the caller's transaction (one batch per
// transaction), reading rows with locks so that concurrent writers, which
// maintain the write-only index themselves, serialize with it.
func (c *Ctx) BackfillIndex(t *catalog.Table, idx *catalog.Index, span txn.Span, batch int) (*txn.Span, error) {
	res, err := c.Txn.Scan(c.Ctx, span, txn.ScanOptions{MaxRows: batch})
	if err != nil {
		return nil, err
	}
	for _, kv := range res.Rows {
		row, err := DecodeRow(t, kv.Key, kv.Value)
		if err != nil {
			return nil, err
		}
		if uk := uniqueKey(t, idx, row); uk != nil {
			pk, found, err := c.Txn.Get(c.Ctx, uk, txn.ReadOptions{ForUpdate: true})
			if err != nil {
				return nil, err
			}
			if found && !bytes.Equal(pk, appendPK(nil, t, row)) {
				return nil, dupError(t, idx, row)
			}
		}
		k, v := IndexEntry(t, idx, row)
		if err := c.Txn.Put(c.Ctx, k, v); err != nil {
			return nil, err
		}
	}
	return res.Resume, nil
}
