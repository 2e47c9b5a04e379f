package ranges

import (
	"bytes"
	"encoding/binary"
	"fmt"

	"github.com/meridiandb/meridian/storage"
)

// The global keyspace:
//
//	[0x02, 0x03)  meta:    0x02 EndKey -> RangeDescriptor of the range ending there
//	[0x03, 0x04)  system:  0x03 Name   -> cluster-wide values (counters, settings)
//	[0x04, 0xff 0xff)      data (the SQL layer uses keys from 0x10 up)
//
// Range 1, the meta range, covers [0x02, 0x04) and never splits, so a
// single lookup in it finds any range. Range 2 initially covers the rest.

var (
	// MetaMin and MetaMax bound the meta entries.
	MetaMin = []byte{0x02}
	MetaMax = []byte{0x03}
	// SystemMin and SystemMax bound the system keys.
	SystemMin = []byte{0x03}
	SystemMax = []byte{0x04}
	// DataMin is the first key of the data keyspace.
	DataMin = []byte{0x04}
	// KeyMin and KeyMax bound everything ranges cover.
	KeyMin = storage.GlobalKeyMin
	KeyMax = storage.GlobalKeyMax
)

const (
	// MetaRangeID is the meta (and system) range.
	MetaRangeID = 1
	// FirstDataRangeID is the range that initially covers the data keyspace.
	FirstDataRangeID = 2
)

// System keys.
var (
	KeyRangeIDCounter = SystemKey("range-id")
	KeyNodeIDCounter  = SystemKey("node-id")
	KeyClusterID      = SystemKey("cluster-id")
)

// SystemKey returns the system key with the given name.
func SystemKey(name string) []byte { return append([]byte{SystemMin[0]}, name...) }

// PlacementKey returns the system key of the placement policy covering
// spans that start at start.
func PlacementKey(start []byte) []byte {
	return append(SystemKey("placement/"), start...)
}

// PlacementPrefix is the prefix of placement keys.
var PlacementPrefix = SystemKey("placement/")

// MetaKey returns the meta key of the range ending at end.
func MetaKey(end []byte) []byte {
	return append([]byte{MetaMin[0]}, end...)
}

// metaLookupStart returns where a lookup of key starts: the first meta entry
// at or after it names the range whose end key is greater than key.
func metaLookupStart(key []byte) []byte {
	return append(MetaKey(key), 0)
}

// EndFromMetaKey returns the end key a meta key names.
func EndFromMetaKey(k []byte) ([]byte, error) {
	if len(k) == 0 || k[0] != MetaMin[0] {
		return nil, fmt.Errorf("%s is not a meta key", storage.PrettyKey(k))
	}
	return k[1:], nil
}

// IsMetaKey reports whether k lies in the meta keyspace.
func IsMetaKey(k []byte) bool {
	return bytes.Compare(k, MetaMin) >= 0 && bytes.Compare(k, MetaMax) < 0
}

func encodeInt(v int64) []byte { return binary.BigEndian.AppendUint64(nil, uint64(v)) }

func decodeInt(b []byte) (int64, error) {
	if len(b) == 0 {
		return 0, nil
	}
	if len(b) != 8 {
		return 0, fmt.Errorf("counter value has %d bytes, want 8", len(b))
	}
	return int64(binary.BigEndian.Uint64(b)), nil
}
