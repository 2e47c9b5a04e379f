package storage

import (
	"fmt"
	"testing"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/bloom"
	"github.com/cockroachdb/pebble/v2/vfs"
)

// The benchmarks run each operation on the MVCC engine and the same operation
// on raw Pebble (default comparer, same cache and filters), on an in-memory
// filesystem so that they measure the code rather than the disk.

const benchKeys = 100000

func benchKey(i int) []byte { return []byte(fmt.Sprintf("user/%08d", i)) }

var benchValue = make([]byte, 100)

func openBenchEngine(b *testing.B) *Engine {
	e, err := Open(Options{Dir: "db", FS: vfs.NewMem()})
	if err != nil {
		b.Fatal(err)
	}
	bt := e.NewBatch()
	for i := 0; i < benchKeys; i++ {
		if err := bt.PutMVCC(benchKey(i), 10, benchValue); err != nil {
			b.Fatal(err)
		}
	}
	if err := bt.Commit(false); err != nil {
		b.Fatal(err)
	}
	bt.Close()
	if err := e.Flush(); err != nil {
		b.Fatal(err)
	}
	return e
}

func openBenchPebble(b *testing.B) *pebble.DB {
	db := openRawPebble(b)
	bt := db.NewBatch()
	for i := 0; i < benchKeys; i++ {
		if err := bt.Set(benchKey(i), benchValue, nil); err != nil {
			b.Fatal(err)
		}
	}
	if err := bt.Commit(pebble.NoSync); err != nil {
		b.Fatal(err)
	}
	if err := db.Flush(); err != nil {
		b.Fatal(err)
	}
	return db
}

// openRawPebble opens Pebble with the engine's defaults but its own
// comparer: the reference the MVCC engine is measured against.
func openRawPebble(b *testing.B) *pebble.DB {
	o := Options{}.withDefaults()
	cache := pebble.NewCache(o.CacheBytes)
	defer cache.Unref()
	po := &pebble.Options{FS: vfs.NewMem(), Cache: cache, Logger: pebbleLogger{o.Logger},
		MemTableSize: o.MemTableBytes, FormatMajorVersion: pebble.FormatNewest}
	for i := range po.Levels {
		po.Levels[i].FilterPolicy = bloom.FilterPolicy(o.BloomBitsPerKey)
		po.Levels[i].FilterType = pebble.TableFilter
	}
	db, err := pebble.Open("raw", po)
	if err != nil {
		b.Fatal(err)
	}
	return db
}

func BenchmarkPointGet(b *testing.B) {
	b.Run("mvcc", func(b *testing.B) {
		e := openBenchEngine(b)
		defer e.Close()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			if _, found, err := e.MVCCGet(benchKey(i%benchKeys), 20); err != nil || !found {
				b.Fatal(found, err)
			}
		}
	})
	b.Run("pebble", func(b *testing.B) {
		db := openBenchPebble(b)
		defer db.Close()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			v, closer, err := db.Get(benchKey(i % benchKeys))
			if err != nil {
				b.Fatal(err)
			}
			_ = append([]byte(nil), v...)
			closer.Close()
		}
	})
}

func BenchmarkBatchedPut(b *testing.B) {
	const perBatch = 100
	b.Run("mvcc", func(b *testing.B) {
		e, err := Open(Options{Dir: "db", FS: vfs.NewMem()})
		if err != nil {
			b.Fatal(err)
		}
		defer e.Close()
		b.ResetTimer()
		for i := 0; i < b.N; i += perBatch {
			bt := e.NewBatch()
			for j := i; j < i+perBatch; j++ {
				if err := bt.PutMVCC(benchKey(j), int64(j+1), benchValue); err != nil {
					b.Fatal(err)
				}
			}
			if err := bt.Commit(false); err != nil {
				b.Fatal(err)
			}
			bt.Close()
		}
	})
	b.Run("pebble", func(b *testing.B) {
		db := openRawPebble(b)
		defer db.Close()
		b.ResetTimer()
		for i := 0; i < b.N; i += perBatch {
			bt := db.NewBatch()
			for j := i; j < i+perBatch; j++ {
				if err := bt.Set(benchKey(j), benchValue, nil); err != nil {
					b.Fatal(err)
				}
			}
			if err := bt.Commit(pebble.NoSync); err != nil {
				b.Fatal(err)
			}
			bt.Close()
		}
	})
}

func BenchmarkScan100(b *testing.B) {
	b.Run("mvcc", func(b *testing.B) {
		e := openBenchEngine(b)
		defer e.Close()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			start := (i * 100) % (benchKeys - 100)
			res, err := e.MVCCScan(benchKey(start), benchKey(start+100), 20, ScanOptions{})
			if err != nil || len(res.Rows) != 100 {
				b.Fatal(len(res.Rows), err)
			}
		}
	})
	b.Run("pebble", func(b *testing.B) {
		db := openBenchPebble(b)
		defer db.Close()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			start := (i * 100) % (benchKeys - 100)
			it, err := db.NewIter(&pebble.IterOptions{LowerBound: benchKey(start), UpperBound: benchKey(start + 100)})
			if err != nil {
				b.Fatal(err)
			}
			var rows [][2][]byte
			for valid := it.First(); valid; valid = it.Next() {
				rows = append(rows, [2][]byte{append([]byte(nil), it.Key()...), append([]byte(nil), it.Value()...)})
			}
			if len(rows) != 100 {
				b.Fatal(len(rows))
			}
			it.Close()
		}
	})
}
