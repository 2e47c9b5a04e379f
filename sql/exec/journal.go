package exec

import (
	"context"

	"github.com/meridiandb/meridian/txn"
)

// Journal wraps the transaction of one statement inside an explicit
// transaction so that a failed statement can be undone (MySQL rolls back
// the statement, not the transaction, on errors such as a duplicate key).
// Before a key's first write in the statement it reads the key's current
// value (the write is about to lock it exclusively anyway); Undo restores
// those values. Autocommit statements need no journal: their whole
// transaction is rolled back.
type Journal struct {
	txn.Txn
	saved map[string]*[]byte // nil pointer: the key did not exist
	order []string
}

// NewJournal wraps tx.
func NewJournal(tx txn.Txn) *Journal { return &Journal{Txn: tx, saved: map[string]*[]byte{}} }

func (j *Journal) remember(ctx context.Context, key []byte) error {
	if _, ok := j.saved[string(key)]; ok {
		return nil
	}
	v, found, err := j.Txn.Get(ctx, key, txn.ReadOptions{ForUpdate: true})
	if err != nil {
		return err
	}
	var p *[]byte
	if found {
		p = &v
	}
	j.saved[string(key)] = p
	j.order = append(j.order, string(key))
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
	return nil
}
