package storage

import (
	"fmt"
)

// GCStats count what a GC pass did.
type GCStats struct {
	KeysScanned     int
	VersionsScanned int
	VersionsDeleted int
}

// GC writes into b the deletion of every version in [start, end) that no read
// at or above threshold can see: for each key, the versions older than its
// newest version at or below threshold, and that version too if it is a
// tombstone. Reads at or above threshold return the same results after the
// batch commits; reads below it may not. r is read, b is written; they may be
// the same indexed batch.
func GC(r Reader, b *Batch, start, end []byte, threshold int64) (GCStats, error) {
	var st GCStats
	if err := checkGlobalKey(start); err != nil {
		return st, err
	}
	if threshold <= 0 {
		return st, fmt.Errorf("storage: GC of [%s, %s) below invalid threshold %d", PrettyKey(start), PrettyKey(end), threshold)
	}
	var (
		cur       []byte
		keptBelow bool // cur's newest version at or below threshold was kept
		doomed    [][]byte
	)
	err := r.IterateRaw(EncodeBareKey(nil, start), EncodeBareKey(nil, end), func(ek, v []byte) error {
		key, ts, err := DecodeEngineKey(ek)
		if err != nil {
			return err
		}
		st.VersionsScanned++
		if cur == nil || string(key) != string(cur) {
			cur = append(cur[:0], key...)
			keptBelow = false
			st.KeysScanned++
		}
		if ts > threshold {
			return nil
		}
		if !keptBelow {
			// The newest version at or below the threshold: keep it unless it
			// is a tombstone, in which case nothing of the key is visible.
			keptBelow = true
			_, tomb, err := decodeValue(v)
			if err != nil {
				return fmt.Errorf("storage: GC of %s@%d: %w", PrettyKey(key), ts, err)
			}
			if !tomb {
				return nil
			}
		}
		doomed = append(doomed, append([]byte(nil), ek...))
		return nil
	})
	if err != nil {
		return st, err
	}
	for _, ek := range doomed {
		if err := b.b.Delete(ek, nil); err != nil {
			return st, err
		}
		st.VersionsDeleted++
	}
	return st, nil
}
