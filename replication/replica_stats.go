package replication

import "github.com/meridiandb/meridian/storage"

// mvccOverhead approximates the bytes a version costs beyond its key and
// value (version suffix, value tag).
const mvccOverhead = 10

// ApproxBytes estimates the bytes of the range's MVCC data (every version):
// counted once by scanning, then kept up to date as writes apply. It is how
// the ranges layer decides to split by size.
func (r *Replica) ApproxBytes() (int64, error) {
	r.mu.Lock()
	n, desc := r.mu.approxBytes, r.mu.desc
	r.mu.Unlock()
	if n >= 0 {
		return n, nil
	}
	if desc == nil {
		return 0, &RangeNotFoundError{RangeID: r.rangeID, Node: r.store.nodeID}
	}
	var total int64
	err := r.store.eng.IterateRaw(storage.EncodeBareKey(nil, desc.StartKey), storage.EncodeBareKey(nil, desc.EndKey), func(k, v []byte) error {
		total += int64(len(k) + len(v))
		return nil
	})
	if err != nil {
		return 0, err
	}
	r.mu.Lock()
	if r.mu.approxBytes < 0 {
		r.mu.approxBytes = total
	}
	n = r.mu.approxBytes
	r.mu.Unlock()
	return n, nil
}

// SplitKey returns the key at about the middle of the range's data by
// size, or nil if the range holds fewer than two keys.
func (r *Replica) SplitKey() ([]byte, error) {
	desc := r.Desc()
	if desc == nil {
		return nil, &RangeNotFoundError{RangeID: r.rangeID, Node: r.store.nodeID}
	}
	total, err := r.ApproxBytes()
	if err != nil {
		return nil, err
	}
	var (
		seen  int64
		split []byte
		first []byte
	)
	err = r.store.eng.IterateRaw(storage.EncodeBareKey(nil, desc.StartKey), storage.EncodeBareKey(nil, desc.EndKey), func(ek, v []byte) error {
		key, _, err := storage.DecodeEngineKey(ek)
		if err != nil {
			return err
		}
		if first == nil {
			first = append([]byte(nil), key...)
		}
		seen += int64(len(ek) + len(v))
		if seen >= total/2 && string(key) != string(first) {
			split = append([]byte(nil), key...)
			return storage.ErrStop
		}
		return nil
	})
	return split, err
}
