package storage

import (
	"bytes"
	"fmt"

	"github.com/cockroachdb/pebble/v2"
)

// Batch collects writes that commit atomically. A Batch is not safe for
// concurrent use. An indexed batch (Engine.NewIndexedBatch) can also be read
// and sees its own writes.
type Batch struct {
	reader
	b       *pebble.Batch
	db      *pebble.DB
	indexed bool
	keyBuf  []byte // reused: Pebble copies keys and values into the batch
	buf     []byte
}

// PutMVCC writes value as the version of key at ts.
func (b *Batch) PutMVCC(key []byte, ts int64, value []byte) error {
	if err := checkVersion(key, ts); err != nil {
		return err
	}
	b.keyBuf = EncodeMVCCKey(b.keyBuf[:0], key, ts)
	b.buf = encodeValue(b.buf[:0], value)
	return b.b.Set(b.keyBuf, b.buf, nil)
}

// DeleteMVCC writes a tombstone as the version of key at ts.
func (b *Batch) DeleteMVCC(key []byte, ts int64) error {
	if err := checkVersion(key, ts); err != nil {
		return err
	}
	b.keyBuf = EncodeMVCCKey(b.keyBuf[:0], key, ts)
	return b.b.Set(b.keyBuf, tombstoneValue, nil)
}

// ClearMVCCRange removes every version of every key in [start, end).
func (b *Batch) ClearMVCCRange(start, end []byte) error {
	if err := checkGlobalKey(start); err != nil {
		return err
	}
	if bytes.Compare(start, end) >= 0 {
		return fmt.Errorf("storage: clear of empty span [%s, %s)", PrettyKey(start), PrettyKey(end))
	}
	return b.b.DeleteRange(EncodeBareKey(nil, start), EncodeBareKey(nil, end), nil)
}

// PutLocal writes a local key.
func (b *Batch) PutLocal(key, value []byte) error {
	if !IsLocal(key) {
		return fmt.Errorf("storage: put of non-local key %s", PrettyKey(key))
	}
	b.keyBuf = EncodeBareKey(b.keyBuf[:0], key)
	return b.b.Set(b.keyBuf, value, nil)
}

// DeleteLocal deletes a local key.
func (b *Batch) DeleteLocal(key []byte) error {
	if !IsLocal(key) {
		return fmt.Errorf("storage: delete of non-local key %s", PrettyKey(key))
	}
	b.keyBuf = EncodeBareKey(b.keyBuf[:0], key)
	return b.b.Delete(b.keyBuf, nil)
}

// ClearLocalRange deletes the local keys in [start, end).
func (b *Batch) ClearLocalRange(start, end []byte) error {
	if !IsLocal(start) || bytes.Compare(end, LocalKeyMax) > 0 || bytes.Compare(start, end) >= 0 {
		return fmt.Errorf("storage: [%s, %s) is not a local span", PrettyKey(start), PrettyKey(end))
	}
	return b.b.DeleteRange(EncodeBareKey(nil, start), EncodeBareKey(nil, end), nil)
}

// PutRaw writes an engine key and raw value as read by Reader.IterateRaw;
// it is how a copy of a range's data (a raft snapshot) is written.
func (b *Batch) PutRaw(engineKey, value []byte) error {
	if _, _, err := DecodeEngineKey(engineKey); err != nil {
		return err
	}
	return b.b.Set(engineKey, value, nil)
}

// ClearRaw deletes every engine key in [lower, upper).
func (b *Batch) ClearRaw(lower, upper []byte) error {
	return b.b.DeleteRange(lower, upper, nil)
}

// Count returns the number of writes in the batch.
func (b *Batch) Count() uint32 { return b.b.Count() }

// Empty reports whether the batch holds no writes.
func (b *Batch) Empty() bool { return b.b.Empty() }

// Bytes returns the size of the batch's encoded writes.
func (b *Batch) Bytes() int { return b.b.Len() }

// Commit applies the batch atomically; with sync it is durable on return.
// The batch can only be closed afterwards.
func (b *Batch) Commit(sync bool) error {
	opts := pebble.NoSync
	if sync {
		opts = pebble.Sync
	}
	if err := b.b.Commit(opts); err != nil {
		return fmt.Errorf("storage: committing batch of %d writes: %w", b.b.Count(), err)
	}
	return nil
}

// Close releases the batch, discarding it if it was not committed.
func (b *Batch) Close() { _ = b.b.Close() }

func checkVersion(key []byte, ts int64) error {
	if err := checkGlobalKey(key); err != nil {
		return err
	}
	if ts <= 0 {
		return fmt.Errorf("storage: write of %s at invalid timestamp %d", PrettyKey(key), ts)
	}
	return nil
}
