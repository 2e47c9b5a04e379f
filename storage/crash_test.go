package storage

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/cockroachdb/pebble/v2/vfs"
)

// TestCrashKeepsSyncedBatches writes synced and unsynced batches, takes crash
// clones of the filesystem (only synced data is guaranteed to survive) and
// reopens the store on each: every synced batch is there, every batch is
// all-or-nothing, and the store keeps working.
func TestCrashKeepsSyncedBatches(t *testing.T) {
	for seed := uint64(0); seed < 6; seed++ {
		t.Run(fmt.Sprint("seed=", seed), func(t *testing.T) { runCrash(t, seed) })
	}
}

func runCrash(t *testing.T, seed uint64) {
	r := rand.New(rand.NewPCG(seed, 7))
	fs := vfs.NewCrashableMem()
	e, err := Open(Options{Dir: "db", FS: fs, MemTableBytes: 64 << 10})
	if err != nil {
		t.Fatal(err)
	}
	const batchSize = 4
	var synced []int // batches committed with sync, in order
	batches := 40 + r.IntN(40)
	for i := 0; i < batches; i++ {
		b := e.NewBatch()
		for j := 0; j < batchSize; j++ {
			if err := b.PutMVCC(batchKey(i, j), int64(i+1), []byte(fmt.Sprintf("value-%d-%d", i, j))); err != nil {
				t.Fatal(err)
			}
		}
		if err := b.PutLocal(RangeLocalKey(1, SuffixAppliedState, nil), []byte(fmt.Sprint(i))); err != nil {
			t.Fatal(err)
		}
		sync := r.IntN(3) == 0
		if err := b.Commit(sync); err != nil {
			t.Fatal(err)
		}
		b.Close()
		if sync {
			synced = append(synced, i)
		}
		if r.IntN(10) == 0 {
			if err := e.Flush(); err != nil {
				t.Fatal(err)
			}
		}
	}
	crashed := fs.CrashClone(vfs.CrashCloneCfg{UnsyncedDataPercent: r.IntN(100), RNG: rand.New(rand.NewPCG(seed, 8))})
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}

	e2, err := Open(Options{Dir: "db", FS: crashed, MustExist: true})
	if err != nil {
		t.Fatalf("reopening after crash: %v", err)
	}
	defer e2.Close()
	present := func(i int) bool {
		n := 0
		for j := 0; j < batchSize; j++ {
			_, found, err := e2.MVCCGet(batchKey(i, j), int64(batches+1))
			if err != nil {
				t.Fatal(err)
			}
			if found {
				n++
			}
		}
		if n != 0 && n != batchSize {
			t.Fatalf("batch %d partially present after crash: %d of %d writes", i, n, batchSize)
		}
		return n == batchSize
	}
	lastPresent := -1
	for i := 0; i < batches; i++ {
		if present(i) {
			lastPresent = i
		}
	}
	// Every batch up to the last synced one survives (a sync makes the whole
	// log before it durable); nothing after a missing batch survives.
	if len(synced) > 0 {
		for i := 0; i <= synced[len(synced)-1]; i++ {
			if !present(i) {
				t.Fatalf("batch %d lost, although batch %d was synced after it", i, synced[len(synced)-1])
			}
		}
	}
	for i := 0; i <= lastPresent; i++ {
		if !present(i) {
			t.Fatalf("batch %d missing but later batch %d survived", i, lastPresent)
		}
	}
	// The local key agrees with the data.
	v, found, err := e2.GetLocal(RangeLocalKey(1, SuffixAppliedState, nil))
	if err != nil {
		t.Fatal(err)
	}
	if lastPresent >= 0 && (!found || string(v) != fmt.Sprint(lastPresent)) {
		t.Fatalf("applied state %q (found %v), want %d", v, found, lastPresent)
	}
	// The reopened store accepts writes.
	b := e2.NewBatch()
	defer b.Close()
	if err := b.PutMVCC([]byte("after"), 1, []byte("crash")); err != nil {
		t.Fatal(err)
	}
	if err := b.Commit(true); err != nil {
		t.Fatal(err)
	}
}

func batchKey(i, j int) []byte { return []byte(fmt.Sprintf("key-%04d-%d", i, j)) }
