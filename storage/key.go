package storage

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"

	"github.com/cockroachdb/pebble/v2"
)

// Engine keys. Every key Pebble holds is an engine key:
//
//	EngineKey   = Prefix Suffix
//	Prefix      = Key 0x00                  // the key, then a sentinel byte
//	Suffix      = ""                        // bare: local keys and scan bounds
//	            | Version 0x09              // MVCC version
//	Version     = uint64(ts), 8 bytes big-endian, ts ≥ 1
//
// The last byte of an engine key is the length of its suffix: 0x00 (the
// sentinel itself) for a bare key, 0x09 for a versioned one. Split uses it to
// find the prefix, so bloom filters and prefix iteration work on Key alone.
//
// Order: prefixes compare bytewise (the sentinel preserves the order of Key);
// for equal prefixes the bare key sorts first, then versions from the newest
// to the oldest. A scan that seeks to Key@ts therefore lands on the newest
// version at or below ts.

const (
	sentinel      = 0x00
	versionLen    = 8
	versionSuffix = versionLen + 1 // Version plus its length byte
)

// EncodeMVCCKey appends the engine key for key at version ts to dst.
func EncodeMVCCKey(dst, key []byte, ts int64) []byte {
	dst = append(dst, key...)
	dst = append(dst, sentinel)
	dst = binary.BigEndian.AppendUint64(dst, uint64(ts))
	return append(dst, versionSuffix)
}

// EncodeBareKey appends the unversioned engine key for key to dst. It sorts
// before every version of key, which makes it the bound to use for scans.
func EncodeBareKey(dst, key []byte) []byte {
	dst = append(dst, key...)
	return append(dst, sentinel)
}

// DecodeEngineKey splits an engine key into its key and version; ts is 0 for
// a bare key.
func DecodeEngineKey(ek []byte) (key []byte, ts int64, err error) {
	n := len(ek)
	if n == 0 {
		return nil, 0, fmt.Errorf("storage: empty engine key")
	}
	switch ek[n-1] {
	case sentinel:
		return ek[: n-1 : n-1], 0, nil
	case versionSuffix:
		if n < versionSuffix+1 || ek[n-versionSuffix-1] != sentinel {
			return nil, 0, fmt.Errorf("storage: malformed versioned engine key %x", ek)
		}
		v := binary.BigEndian.Uint64(ek[n-versionSuffix : n-1])
		if v == 0 || v > math.MaxInt64 {
			return nil, 0, fmt.Errorf("storage: engine key %x has invalid version %d", ek, v)
		}
		k := ek[: n-versionSuffix-1 : n-versionSuffix-1]
		return k, int64(v), nil
	default:
		return nil, 0, fmt.Errorf("storage: engine key %x has unknown suffix length %d", ek, ek[n-1])
	}
}

// split returns the length of the prefix of an engine key (Key plus the
// sentinel). Pebble may call it on any key it holds, and on suffixes alone.
func split(ek []byte) int {
	n := len(ek)
	if n == 0 {
		return 0
	}
	s := int(ek[n-1])
	if s == sentinel || s > n {
		return n
	}
	return n - s
}

// compareSuffixes orders suffixes: the empty suffix first, then versions
// from the newest to the oldest.
func compareSuffixes(a, b []byte) int {
	switch {
	case len(a) == 0 && len(b) == 0:
		return 0
	case len(a) == 0:
		return -1
	case len(b) == 0:
		return 1
	}
	// Both carry a version: larger (newer) versions sort first.
	return -bytes.Compare(a, b)
}

func compareEngineKeys(a, b []byte) int {
	an, bn := split(a), split(b)
	if c := bytes.Compare(a[:an], b[:bn]); c != 0 {
		return c
	}
	return compareSuffixes(a[an:], b[bn:])
}

// Comparer is the Pebble comparer for engine keys.
var Comparer = &pebble.Comparer{
	Name:    "meridian.mvcc.v1",
	Compare: compareEngineKeys,
	Equal: func(a, b []byte) bool {
		return bytes.Equal(a, b)
	},
	Split:                split,
	ComparePointSuffixes: compareSuffixes,
	CompareRangeSuffixes: compareSuffixes,
	AbbreviatedKey: func(ek []byte) uint64 {
		p := ek[:split(ek)]
		var v uint64
		for i := 0; i < 8; i++ {
			v <<= 8
			if i < len(p) {
				v |= uint64(p[i])
			}
		}
		return v
	},
	// Separator and Successor return their input unshortened: shortening
	// would have to respect the suffix grammar, and index blocks are small.
	Separator: func(dst, a, _ []byte) []byte { return append(dst, a...) },
	Successor: func(dst, a []byte) []byte { return append(dst, a...) },
	ImmediateSuccessor: func(dst, prefix []byte) []byte {
		// The next prefix after Key 0x00 is Key 0x00 0x00: the key Key\x00.
		return append(append(dst, prefix...), sentinel)
	},
	FormatKey: func(ek []byte) fmt.Formatter { return formattedKey(ek) },
}

// formattedKey prints an engine key as key@ts (or key for a bare key).
type formattedKey []byte

func (k formattedKey) Format(s fmt.State, _ rune) {
	key, ts, err := DecodeEngineKey(k)
	if err != nil {
		fmt.Fprintf(s, "invalid(%x)", []byte(k))
		return
	}
	fmt.Fprint(s, PrettyKey(key))
	if ts != 0 {
		fmt.Fprintf(s, "@%d", ts)
	}
}

// PrettyKey renders a key for humans: printable ASCII as is, other bytes
// escaped as \xNN.
func PrettyKey(key []byte) string {
	var b []byte
	for _, c := range key {
		if c >= 0x20 && c < 0x7f && c != '\\' {
			b = append(b, c)
		} else {
			b = append(b, '\\', 'x', "0123456789abcdef"[c>>4], "0123456789abcdef"[c&0xf])
		}
	}
	return string(b)
}
