package exec

import (
	"context"

	"github.com/meridiandb/meridian/txn"
)

// Journal wraps the transaction of one statement inside an explicit
// transaction so that a failed statement can be undone (MySQL rolls back
// the statement, not the transaction, on errors such as a duplicate key).
// It must know each key's value before the statement's first write to it;
// Undo restores those values.
//
// Knowing is usually free: a value the statement read through the journal
// (Get, GetMany, Scan) before writing the key is its current value (the
// read locked it, and later reads of a written key return the write,
// which is not the value to restore: only the first sighting counts), and
// the DML code tells the journal what it knows without reading (Know: the
// entries of a public index follow from the row). Only a key neither read
// nor known is read (with an exclusive lock: the write is about to lock it
// anyway) before its first write. Autocommit statements need no journal:
// their whole transaction is rolled back.
type Journal struct {
	txn.Txn
	seen  map[string]*[]byte // current values seen before any write (nil: absent)
	saved map[string]*[]byte // values before the first write (nil: the key did not exist)
	order []string
}

// NewJournal wraps tx.
func NewJournal(tx txn.Txn) *Journal {
	return &Journal{Txn: tx, seen: map[string]*[]byte{}, saved: map[string]*[]byte{}}
}

// knower is implemented by Journal: the DML code reports keys whose
// current value it knows without reading them.
type knower interface {
	Know(key, value []byte, found bool)
}

// Know records that key currently holds value (or nothing), as far as the
// statement has not written it yet.
func (j *Journal) Know(key, value []byte, found bool) {
	j.see(string(key), value, found)
}

func (j *Journal) see(k string, v []byte, found bool) {
	if _, written := j.saved[k]; written {
		return
	}
	if _, ok := j.seen[k]; ok {
		return
	}
	var p *[]byte
	if found {
		vv := append([]byte(nil), v...)
		p = &vv
	}
	j.seen[k] = p
}

// Get reads through the transaction and remembers what it saw.
func (j *Journal) Get(ctx context.Context, key []byte, opts txn.ReadOptions) ([]byte, bool, error) {
	v, found, err := j.Txn.Get(ctx, key, opts)
	if err == nil {
		j.see(string(key), v, found)
	}
	return v, found, err
}

// GetMany implements BatchGetter (one Get after another if the
// transaction has no batched read).
func (j *Journal) GetMany(ctx context.Context, keys [][]byte, opts txn.ReadOptions) ([][]byte, []bool, error) {
	vals, found, err := getMany(ctx, j.Txn, keys, opts)
	if err == nil {
		for i, k := range keys {
			j.see(string(k), vals[i], found[i])
		}
	}
	return vals, found, err
}

// Scan reads through the transaction and remembers the rows it saw (keys
// in the scanned part that it did not return are not known: their absence
// is not remembered).
func (j *Journal) Scan(ctx context.Context, span txn.Span, opts txn.ScanOptions) (txn.ScanResult, error) {
	res, err := j.Txn.Scan(ctx, span, opts)
	if err == nil {
		for _, kv := range res.Rows {
			j.see(string(kv.Key), kv.Value, true)
		}
	}
	return res, err
}

func (j *Journal) remember(ctx context.Context, key []byte) error {
	k := string(key)
	if _, ok := j.saved[k]; ok {
		return nil
	}
	p, ok := j.seen[k]
	if !ok {
		v, found, err := j.Txn.Get(ctx, key, txn.ReadOptions{ForUpdate: true})
		if err != nil {
			return err
		}
		if found {
			p = &v
		}
	}
	delete(j.seen, k)
	j.saved[k] = p
	j.order = append(j.order, k)
	return nil
}

// Put records the key's previous value, then writes.
func (j *Journal) Put(ctx context.Context, key, value []byte) error {
	if err := j.remember(ctx, key); err != nil {
		return err
	}
	return j.Txn.Put(ctx, key, value)
}

// Delete records the key's previous value, then deletes.
func (j *Journal) Delete(ctx context.Context, key []byte) error {
	if err := j.remember(ctx, key); err != nil {
		return err
	}
	return j.Txn.Delete(ctx, key)
}

// Undo restores every key the statement wrote, newest first.
func (j *Journal) Undo(ctx context.Context) error {
	for i := len(j.order) - 1; i >= 0; i-- {
		k := j.order[i]
		var err error
		if p := j.saved[k]; p != nil {
			err = j.Txn.Put(ctx, []byte(k), *p)
		} else {
			err = j.Txn.Delete(ctx, []byte(k))
		}
		if err != nil {
			return err
		}
	}
	j.saved, j.order = map[string]*[]byte{}, nil
	clear(j.seen)
	return nil
}
