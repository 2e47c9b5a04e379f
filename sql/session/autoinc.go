package session

import (
	"context"
	"sync"

	"github.com/meridiandb/meridian/sql/catalog"
	"github.com/meridiandb/meridian/sql/rowcodec"
	"github.com/meridiandb/meridian/sql/types"
	"github.com/meridiandb/meridian/txn"
)

func appendKeyValue(k []byte, v types.Value) []byte { return rowcodec.AppendKey(k, v) }

// autoIncBatch is how many AUTO_INCREMENT values a node reserves at once.
const autoIncBatch = 100

// autoInc hands out AUTO_INCREMENT values from per-table counters
// (catalog.AutoIncKey), reserving batches in their own transactions so
// that inserts do not contend on the counter. Values are unique across
// nodes and increasing per node; gaps appear when a node restarts.
type autoInc struct {
	db txn.DB
	mu struct {
		sync.Mutex
		next, limit map[uint32]int64 // [next, limit) is reserved
	}
}

func newAutoInc(db txn.DB) *autoInc {
	a := &autoInc{db: db}
	a.mu.next, a.mu.limit = map[uint32]int64{}, map[uint32]int64{}
	return a
}

func (a *autoInc) reset(tableID uint32) {
	a.mu.Lock()
	defer a.mu.Unlock()
	delete(a.mu.next, tableID)
	delete(a.mu.limit, tableID)
}

func (a *autoInc) Next(ctx context.Context, t *catalog.Table) (int64, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.mu.next[t.ID] < a.mu.limit[t.ID] {
		v := a.mu.next[t.ID]
		a.mu.next[t.ID]++
		return v, nil
	}
	start, err := a.reserve(ctx, t.ID, 0, autoIncBatch)
	if err != nil {
		return 0, err
	}
	a.mu.next[t.ID], a.mu.limit[t.ID] = start+1, start+autoIncBatch
	return start, nil
}

// Observe moves the counter past an explicitly inserted value.
func (a *autoInc) Observe(ctx context.Context, t *catalog.Table, v int64) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if v < a.mu.limit[t.ID] {
		if v >= a.mu.next[t.ID] {
			a.mu.next[t.ID] = v + 1
		}
		return nil
	}
	start, err := a.reserve(ctx, t.ID, v+1, autoIncBatch)
	if err != nil {
		return err
	}
	a.mu.next[t.ID], a.mu.limit[t.ID] = start, start+autoIncBatch
	return nil
}

// reserve atomically takes n values starting at max(counter, atLeast) and
// returns the first. Called with mu held.
func (a *autoInc) reserve(ctx context.Context, tableID uint32, atLeast, n int64) (int64, error) {
	var start int64
	err := retryTxn(ctx, a.db, func(tx txn.Txn) error {
		k := catalog.AutoIncKey(tableID)
		b, ok, err := tx.Get(ctx, k, txn.ReadOptions{ForUpdate: true})
		if err != nil {
			return err
		}
		start = 1
		if ok {
			u, err := catalog.DecodeCounter(b)
			if err != nil {
				return err
			}
			start = int64(u)
		}
		start = max(start, atLeast)
		return tx.Put(ctx, k, catalog.EncodeCounter(uint64(start+n)))
	})
	return start, err
}
