package exec

import (
	"context"

	"github.com/meridiandb/meridian/txn"
)

// BatchGetter is implemented by transactions that read several keys in
// one round trip per range (the keys' reads are independent: in a
// read-write transaction each takes its lock as a Get would). values[i]
// and found[i] answer keys[i]. Statements that read several known keys
// (IN lists, index lookups) use it when the transaction has it, and fall
// back to one Get after another.
type BatchGetter interface {
	GetMany(ctx context.Context, keys [][]byte, opts txn.ReadOptions) (values [][]byte, found []bool, err error)
}

// maxBatch bounds the keys of one GetMany.
const maxBatch = 256

// GetMany reads keys through tx, in one batch when tx is a BatchGetter,
// else one Get after another.
func GetMany(ctx context.Context, tx txn.Txn, keys [][]byte, opts txn.ReadOptions) ([][]byte, []bool, error) {
	return getMany(ctx, tx, keys, opts)
}

func getMany(ctx context.Context, tx txn.Txn, keys [][]byte, opts txn.ReadOptions) ([][]byte, []bool, error) {
	if len(keys) > 1 {
		if bg, ok := tx.(BatchGetter); ok {
			return bg.GetMany(ctx, keys, opts)
		}
	}
	values := make([][]byte, len(keys))
	found := make([]bool, len(keys))
	for i, k := range keys {
		v, ok, err := tx.Get(ctx, k, opts)
		if err != nil {
			return nil, nil, err
		}
		values[i], found[i] = v, ok
	}
	return values, found, nil
}
