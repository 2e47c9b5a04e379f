package exec

import (
	"bytes"

	"github.com/meridiandb/meridian/sql/catalog"
	"github.com/meridiandb/meridian/sql/expr"
	"github.com/meridiandb/meridian/sql/plan"
	"github.com/meridiandb/meridian/sql/rowcodec"
	"github.com/meridiandb/meridian/sql/types"
	"github.com/meridiandb/meridian/txn"
)

// keySpan is a span of index keys; point spans are single Gets.
type keySpan struct {
	span  txn.Span
	point bool
	// rows, if not zero, bounds the rows in the span: an integer range
	// on the last column of a unique index (id BETWEEN 1 AND 100).
	rows int64
}

// spans computes the key spans of a table access from its ranges.
func (c *Ctx) spans(n *plan.TableAccess, row expr.Row) ([]keySpan, error) {
	t, idx := n.Table, n.Index
	prefix := rowcodec.IndexPrefix(t.ID, idx.ID)
	full := []keySpan{{span: txn.Span{Key: prefix, EndKey: rowcodec.PrefixEnd(prefix)}}}
	if n.Ranges == nil {
		return full, nil
	}
	var out []keySpan
	for _, r := range n.Ranges {
		k := bytes.Clone(prefix)
		skip := false
		usable := true
		for i, e := range r.Eq {
			v, err := e.Eval(c.Env, row)
			if err != nil {
				return nil, err
			}
			ct := t.Columns[t.ColumnOrdinal(idx.Columns[i])].Type
			kv, exact, ok := keyValue(v, ct)
			if !ok {
				usable = false
				break
			}
			if v.IsNull() || !exact {
				skip = true // col = NULL or col = 1.5 on an INT: no rows
				break
			}
			k = rowcodec.AppendKey(k, kv)
		}
		if !usable {
			return full, nil
		}
		if skip {
			continue
		}
		if n.Point {
			out = append(out, keySpan{span: txn.Span{Key: k}, point: true})
			continue
		}
		start, end := k, rowcodec.PrefixEnd(k)
		var lo, hi *types.Value // exact integer bounds, inclusive
		if len(r.Eq) < len(idx.Columns) {
			ct := t.Columns[t.ColumnOrdinal(idx.Columns[len(r.Eq)])].Type
			if r.Lo != nil {
				v, err := r.Lo.X.Eval(c.Env, row)
				if err != nil {
					return nil, err
				}
				if v.IsNull() {
					continue
				}
				if kv, exact, ok := keyValue(v, ct); ok && exact {
					start = rowcodec.AppendKey(bytes.Clone(k), kv)
					if !r.Lo.Inclusive {
						start = rowcodec.PrefixEnd(start)
					}
					if kv.K == types.KInt {
						b := kv
						if !r.Lo.Inclusive {
							b.I++
						}
						lo = &b
					}
				} else {
					start = append(bytes.Clone(k), 0x02) // past NULLs
				}
			} else if r.Hi != nil {
				start = append(bytes.Clone(k), 0x02) // past NULLs
			}
			if r.Hi != nil {
				v, err := r.Hi.X.Eval(c.Env, row)
				if err != nil {
					return nil, err
				}
				if v.IsNull() {
					continue
				}
				if kv, exact, ok := keyValue(v, ct); ok && exact {
					end = rowcodec.AppendKey(bytes.Clone(k), kv)
					if r.Hi.Inclusive {
						end = rowcodec.PrefixEnd(end)
					}
					if kv.K == types.KInt {
						b := kv
						if !r.Hi.Inclusive {
							b.I--
						}
						hi = &b
					}
				}
			}
		}
		if bytes.Compare(start, end) < 0 {
			ks := keySpan{span: txn.Span{Key: start, EndKey: end}}
			unique := idx.Unique || idx.ID == t.Primary.ID
			if unique && lo != nil && hi != nil && len(r.Eq) == len(idx.Columns)-1 && hi.I >= lo.I && hi.I-lo.I < 1<<20 {
				ks.rows = hi.I - lo.I + 1
			}
			out = append(out, ks)
		}
	}
	return dedupSpans(out), nil
}

// dedupSpans drops repeated spans (IN lists with repeated or equivalent
// values), keeping the first occurrence.
func dedupSpans(in []keySpan) []keySpan {
	if len(in) < 2 {
		return in
	}
	seen := make(map[string]bool, len(in))
	out := in[:0]
	for _, s := range in {
		k := string(s.span.Key) + "\x00\x00" + string(s.span.EndKey)
		if !seen[k] {
			seen[k] = true
			out = append(out, s)
		}
	}
	return out
}

// firstPage is the number of rows the first page of a scan asks for
// (later pages double, up to 4096): enough for the common short ranges in
// one round trip, little waste for consumers that stop early.
const firstPage = 256

// accessIter reads a table through one index.
type accessIter struct {
	c       *Ctx
	n       *plan.TableAccess
	spans   []keySpan
	cur     *txn.Span
	curRows int64 // the bound on cur's rows, if known
	buf     []expr.Row
	page    int
	emitted int
	primary bool
	done    bool
}

func (c *Ctx) newAccess(n *plan.TableAccess) (Iter, error) {
	return c.newAccessFor(n, nil, nil)
}

// newAccessFor starts a table access; row is the outer row for key
// expressions (index joins), keys overrides the ranges with one equality
// prefix.
func (c *Ctx) newAccessFor(n *plan.TableAccess, row expr.Row, keys []types.Value) (*accessIter, error) {
	it := &accessIter{c: c, n: n, page: firstPage, primary: n.Index.ID == n.Table.Primary.ID}
	if n.Limit > 0 {
		it.page = n.Limit
	}
	if keys != nil {
		prefix := rowcodec.IndexPrefix(n.Table.ID, n.Index.ID)
		for i, v := range keys {
			ct := n.Table.Columns[n.Table.ColumnOrdinal(n.Index.Columns[i])].Type
			kv, exact, ok := keyValue(v, ct)
			if v.IsNull() || (ok && !exact) {
				it.done = true
				return it, nil
			}
			if !ok {
				// Fall back to the whole index with the filter.
				prefix = rowcodec.IndexPrefix(n.Table.ID, n.Index.ID)
				it.spans = []keySpan{{span: txn.Span{Key: prefix, EndKey: rowcodec.PrefixEnd(prefix)}}}
				return it, nil
			}
			prefix = rowcodec.AppendKey(prefix, kv)
		}
		if n.Point && len(keys) == len(n.Index.Columns) {
			it.spans = []keySpan{{span: txn.Span{Key: prefix}, point: true}}
		} else {
			it.spans = []keySpan{{span: txn.Span{Key: prefix, EndKey: rowcodec.PrefixEnd(prefix)}}}
		}
		return it, nil
	}
	spans, err := c.spans(n, row)
	if err != nil {
		return nil, err
	}
	it.spans = spans
	if n.Reverse {
		for l, r := 0, len(spans)-1; l < r; l, r = l+1, r-1 {
			spans[l], spans[r] = spans[r], spans[l]
		}
	}
	return it, nil
}

func (it *accessIter) Next() (expr.Row, error) {
	for {
		if len(it.buf) > 0 {
			r := it.buf[0]
			it.buf = it.buf[1:]
			if it.n.Filter != nil {
				v, err := it.n.Filter.Eval(it.c.Env, r)
				if err != nil {
					return nil, err
				}
				if b, _ := types.Truthy(v); !b {
					continue
				}
			}
			it.emitted++
			return r, nil
		}
		if it.done || (it.n.Limit > 0 && it.emitted >= it.n.Limit) {
			return nil, nil
		}
		if err := it.fill(); err != nil {
			return nil, err
		}
	}
}

// fill reads the next batch of rows into buf: a run of point spans in one
// batched read, or a page of a range span.
func (it *accessIter) fill() error {
	ctx := it.c.Ctx
	ropts := txn.ReadOptions{ForUpdate: it.n.ForUpdate}
	if it.cur == nil {
		if len(it.spans) == 0 {
			it.done = true
			return nil
		}
		if it.spans[0].point {
			n := 1
			for n < len(it.spans) && n < maxBatch && it.spans[n].point {
				n++
			}
			keys := make([][]byte, n)
			for i := range keys {
				keys[i] = it.spans[i].span.Key
			}
			it.spans = it.spans[n:]
			vals, found, err := getMany(ctx, it.c.Txn, keys, ropts)
			if err != nil {
				return err
			}
			entries := make([]txn.KeyValue, 0, n)
			for i := range keys {
				if found[i] {
					entries = append(entries, txn.KeyValue{Key: keys[i], Value: vals[i]})
				}
			}
			return it.addEntries(entries)
		}
		sp := it.spans[0].span
		it.curRows = it.spans[0].rows
		it.spans = it.spans[1:]
		it.cur = &sp
	}
	page := it.page
	if it.curRows > 0 && it.curRows <= 4096 && it.n.Limit == 0 {
		// A short range of known size: one unbounded scan (the
		// leaseholder then locks the span at once instead of first
		// looking for where a page would end).
		page = 0
	}
	res, err := it.c.Txn.Scan(ctx, *it.cur, txn.ScanOptions{ReadOptions: ropts, Reverse: it.n.Reverse, MaxRows: page})
	if err != nil {
		return err
	}
	it.cur = res.Resume
	if it.page < 4096 {
		it.page *= 2
	}
	return it.addEntries(res.Rows)
}

// addEntries decodes index entries into buf, looking up the rows of
// secondary index entries in one batch.
func (it *accessIter) addEntries(entries []txn.KeyValue) error {
	t := it.n.Table
	if it.primary {
		for _, kv := range entries {
			row, err := DecodeRow(t, kv.Key, kv.Value)
			if err != nil {
				return err
			}
			it.buf = append(it.buf, row)
		}
		return nil
	}
	prefix := rowcodec.IndexPrefix(t.ID, t.Primary.ID)
	for len(entries) > 0 {
		n := min(len(entries), maxBatch)
		keys := make([][]byte, n)
		for i, kv := range entries[:n] {
			keys[i] = append(bytes.Clone(prefix), kv.Value...)
		}
		entries = entries[n:]
		vals, found, err := getMany(it.c.Ctx, it.c.Txn, keys, txn.ReadOptions{ForUpdate: it.n.ForUpdate})
		if err != nil {
			return err
		}
		for i, rk := range keys {
			if !found[i] {
				continue // the index entry is ours and the row was deleted in this txn
			}
			row, err := DecodeRow(t, rk, vals[i])
			if err != nil {
				return err
			}
			it.buf = append(it.buf, row)
		}
	}
	return nil
}

// lookupRow reads the row with the given primary key values.
func lookupRow(c *Ctx, t *catalog.Table, key []byte, forUpdate bool) ([]types.Value, bool, error) {
	v, ok, err := c.Txn.Get(c.Ctx, key, txn.ReadOptions{ForUpdate: forUpdate})
	if err != nil || !ok {
		return nil, false, err
	}
	row, err := DecodeRow(t, key, v)
	return row, err == nil, err
}

type valuesIter struct {
	rows []expr.Row
}

func (v *valuesIter) Next() (expr.Row, error) {
	if len(v.rows) == 0 {
		return nil, nil
	}
	r := v.rows[0]
	v.rows = v.rows[1:]
	return r, nil
}

func (c *Ctx) newValues(n *plan.Values) (Iter, error) {
	if n.Gen != nil {
		rows, err := n.Gen(c.Env)
		return &valuesIter{rows: rows}, err
	}
	var rows []expr.Row
	for _, r := range n.Rows {
		row := make(expr.Row, len(r))
		for i, e := range r {
			v, err := e.Eval(c.Env, nil)
			if err != nil {
				return nil, err
			}
			row[i] = v
		}
		rows = append(rows, row)
	}
	return &valuesIter{rows: rows}, nil
}
