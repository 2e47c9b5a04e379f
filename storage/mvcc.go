package storage

import (
	"bytes"
	"errors"
	"fmt"

	"github.com/cockroachdb/pebble/v2"
)

// KeyValue is one version of a key.
type KeyValue struct {
	Key       []byte
	Timestamp int64
	Value     []byte
}

// Span is the key interval [Key, EndKey).
type Span struct {
	Key, EndKey []byte
}

// ScanOptions limit a scan. The zero value scans forward without limits.
type ScanOptions struct {
	// Reverse scans from the end of the span towards its start.
	Reverse bool
	// MaxRows stops the scan after this many rows. 0: no limit.
	MaxRows int
	// MaxBytes stops the scan before the row that would take the bytes of
	// keys and values returned past it; the first row is always returned.
	// 0: no limit.
	MaxBytes int
}

// ScanResult is what a scan found.
type ScanResult struct {
	Rows []KeyValue
	// ResumeSpan is the part of the span left unscanned because a limit was
	// reached, or nil if the scan completed.
	ResumeSpan *Span
}

// Reader reads a store, a snapshot of it, or an indexed batch.
type Reader interface {
	// MVCCGet returns the newest version of key at or below ts. found is
	// false if there is none or it is a tombstone.
	MVCCGet(key []byte, ts int64) (kv KeyValue, found bool, err error)
	// MVCCScan returns, for each key in [start, end), its newest version at
	// or below ts unless that is a tombstone, in key order (or reverse).
	MVCCScan(start, end []byte, ts int64, opts ScanOptions) (ScanResult, error)
	// GetLocal returns the value of a local key.
	GetLocal(key []byte) (value []byte, found bool, err error)
	// IterateLocal calls fn for each local key in [start, end) in order.
	// key and value are valid only during the call.
	IterateLocal(start, end []byte, fn func(key, value []byte) error) error
	// IterateRaw calls fn for each engine key in [lower, upper) and its raw
	// value, in engine order; it is how a range's data is copied whole.
	IterateRaw(lower, upper []byte, fn func(engineKey, value []byte) error) error
}

// ErrStop, returned by an iteration callback, ends the iteration early
// without an error.
var ErrStop = errors.New("storage: stop iteration")

// reader implements Reader over any Pebble reader.
type reader struct {
	r pebble.Reader
}

var _ Reader = reader{}

func (rd reader) MVCCGet(key []byte, ts int64) (KeyValue, bool, error) {
	if err := checkGlobalKey(key); err != nil {
		return KeyValue{}, false, err
	}
	if ts <= 0 {
		return KeyValue{}, false, fmt.Errorf("storage: get %s at invalid timestamp %d", PrettyKey(key), ts)
	}
	var buf [64]byte
	seek := EncodeMVCCKey(buf[:0], key, ts)
	it, err := rd.r.NewIter(nil)
	if err != nil {
		return KeyValue{}, false, err
	}
	defer it.Close()
	if !it.SeekPrefixGE(seek) {
		return KeyValue{}, false, it.Error()
	}
	k, vts, err := DecodeEngineKey(it.Key())
	if err != nil {
		return KeyValue{}, false, err
	}
	if vts == 0 || !bytes.Equal(k, key) {
		return KeyValue{}, false, fmt.Errorf("storage: get %s found unexpected key %s", PrettyKey(key), formattedKey(it.Key()))
	}
	raw, err := it.ValueAndErr()
	if err != nil {
		return KeyValue{}, false, err
	}
	data, tomb, err := decodeValue(raw)
	if err != nil || tomb {
		return KeyValue{}, false, err
	}
	return KeyValue{Key: append([]byte(nil), key...), Timestamp: vts, Value: append([]byte(nil), data...)}, true, nil
}

func (rd reader) MVCCScan(start, end []byte, ts int64, opts ScanOptions) (ScanResult, error) {
	if err := checkGlobalKey(start); err != nil {
		return ScanResult{}, err
	}
	if ts <= 0 {
		return ScanResult{}, fmt.Errorf("storage: scan [%s, %s) at invalid timestamp %d", PrettyKey(start), PrettyKey(end), ts)
	}
	if bytes.Compare(start, end) >= 0 {
		return ScanResult{}, nil
	}
	it, err := rd.r.NewIter(&pebble.IterOptions{
		LowerBound: EncodeBareKey(nil, start),
		UpperBound: EncodeBareKey(nil, end),
	})
	if err != nil {
		return ScanResult{}, err
	}
	defer it.Close()
	s := scanner{it: it, ts: ts, opts: opts}
	if opts.Reverse {
		err = s.reverse(start, end)
	} else {
		err = s.forward(start, end)
	}
	if err == nil {
		err = it.Error()
	}
	return s.res, err
}

// scanner walks the versions of a span, keeping the visible one of each key.
type scanner struct {
	it    *pebble.Iterator
	ts    int64
	opts  ScanOptions
	res   ScanResult
	bytes int
	seek  []byte
}

// full reports whether adding a row of n bytes would exceed a limit.
func (s *scanner) full(n int) bool {
	if s.opts.MaxRows > 0 && len(s.res.Rows) >= s.opts.MaxRows {
		return true
	}
	return s.opts.MaxBytes > 0 && len(s.res.Rows) > 0 && s.bytes+n > s.opts.MaxBytes
}

// visible positions the iterator on the newest version of key at or below ts
// and returns it; ok is false if key has no such version. It expects the
// iterator on some version of key (at vts). key is used before the iterator
// moves and must not be read afterwards; the returned key replaces it.
func (s *scanner) visible(key []byte, vts int64) (k, raw []byte, at int64, ok bool, err error) {
	if vts > s.ts {
		s.seek = EncodeMVCCKey(s.seek[:0], key, s.ts)
		want := s.seek[:len(key)]
		if !s.it.SeekGE(s.seek) {
			return nil, nil, 0, false, s.it.Error()
		}
		k, vts, err = DecodeEngineKey(s.it.Key())
		if err != nil {
			return nil, nil, 0, false, err
		}
		if !bytes.Equal(k, want) {
			return nil, nil, 0, false, nil
		}
		key = k
	}
	raw, err = s.it.ValueAndErr()
	return key, raw, vts, err == nil, err
}

// emit adds a visible version unless it is a tombstone. stop is true when a
// limit was reached before the row could be added.
func (s *scanner) emit(key []byte, at int64, raw []byte) (stop bool, err error) {
	data, tomb, err := decodeValue(raw)
	if err != nil || tomb {
		return false, err
	}
	n := len(key) + len(data)
	if s.full(n) {
		return true, nil
	}
	s.res.Rows = append(s.res.Rows, KeyValue{
		Key:       append([]byte(nil), key...),
		Timestamp: at,
		Value:     append([]byte(nil), data...),
	})
	s.bytes += n
	return false, nil
}

func (s *scanner) forward(start, end []byte) error {
	valid := s.it.First()
	for valid {
		key, vts, err := DecodeEngineKey(s.it.Key())
		if err != nil {
			return err
		}
		key, raw, at, ok, err := s.visible(key, vts)
		if err != nil {
			return err
		}
		if ok {
			stop, err := s.emit(key, at, raw)
			if err != nil {
				return err
			}
			if stop {
				s.res.ResumeSpan = &Span{Key: append([]byte(nil), key...), EndKey: append([]byte(nil), end...)}
				return nil
			}
			valid = s.it.NextPrefix()
		} else {
			// The iterator already sits past key (or is exhausted).
			valid = s.it.Valid()
		}
	}
	return nil
}

func (s *scanner) reverse(start, end []byte) error {
	valid := s.it.Last()
	for valid {
		key, _, err := DecodeEngineKey(s.it.Key())
		if err != nil {
			return err
		}
		key = append([]byte(nil), key...)
		// In reverse the oldest version comes first; find the visible one.
		s.seek = EncodeMVCCKey(s.seek[:0], key, s.ts)
		if s.it.SeekGE(s.seek) {
			k, at, err := DecodeEngineKey(s.it.Key())
			if err != nil {
				return err
			}
			if bytes.Equal(k, key) {
				raw, err := s.it.ValueAndErr()
				if err != nil {
					return err
				}
				stop, err := s.emit(key, at, raw)
				if err != nil {
					return err
				}
				if stop {
					// The resume span must still hold key: end just past it.
					s.res.ResumeSpan = &Span{Key: append([]byte(nil), start...), EndKey: append(key, 0)}
					return nil
				}
			}
		} else if err := s.it.Error(); err != nil {
			return err
		}
		s.seek = EncodeBareKey(s.seek[:0], key)
		valid = s.it.SeekLT(s.seek)
	}
	return nil
}

func (rd reader) GetLocal(key []byte) ([]byte, bool, error) {
	if !IsLocal(key) {
		return nil, false, fmt.Errorf("storage: %s is not a local key", PrettyKey(key))
	}
	var buf [64]byte
	v, closer, err := rd.r.Get(EncodeBareKey(buf[:0], key))
	if errors.Is(err, pebble.ErrNotFound) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("storage: reading %s: %w", PrettyKey(key), err)
	}
	defer closer.Close()
	return append([]byte(nil), v...), true, nil
}

func (rd reader) IterateLocal(start, end []byte, fn func(key, value []byte) error) error {
	if !IsLocal(start) || (len(end) > 0 && bytes.Compare(end, LocalKeyMax) > 0) {
		return fmt.Errorf("storage: [%s, %s) is not a local span", PrettyKey(start), PrettyKey(end))
	}
	return rd.IterateRaw(EncodeBareKey(nil, start), EncodeBareKey(nil, end), func(ek, v []byte) error {
		return fn(ek[:len(ek)-1], v)
	})
}

func (rd reader) IterateRaw(lower, upper []byte, fn func(engineKey, value []byte) error) error {
	it, err := rd.r.NewIter(&pebble.IterOptions{LowerBound: lower, UpperBound: upper})
	if err != nil {
		return err
	}
	defer it.Close()
	for valid := it.First(); valid; valid = it.Next() {
		v, err := it.ValueAndErr()
		if err != nil {
			return err
		}
		if err := fn(it.Key(), v); err != nil {
			if errors.Is(err, ErrStop) {
				return nil
			}
			return err
		}
	}
	return it.Error()
}
