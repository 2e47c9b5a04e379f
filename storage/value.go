package storage

import "fmt"

// Values stored under MVCC keys carry a tag:
//
//	MVCCValue = 0x01 Data     // a value
//	          | 0x02          // a tombstone: the key was deleted at this version
//
// Local values are stored as given, without a tag.

const (
	tagValue     = 0x01
	tagTombstone = 0x02
)

func encodeValue(dst, data []byte) []byte {
	dst = append(dst, tagValue)
	return append(dst, data...)
}

var tombstoneValue = []byte{tagTombstone}

// decodeValue returns the data of an MVCC value and whether it is a tombstone.
func decodeValue(raw []byte) (data []byte, tombstone bool, err error) {
	if len(raw) == 0 {
		return nil, false, fmt.Errorf("storage: empty MVCC value")
	}
	switch raw[0] {
	case tagValue:
		return raw[1:], false, nil
	case tagTombstone:
		if len(raw) != 1 {
			return nil, false, fmt.Errorf("storage: tombstone with %d bytes of data", len(raw)-1)
		}
		return nil, true, nil
	default:
		return nil, false, fmt.Errorf("storage: MVCC value has unknown tag 0x%02x", raw[0])
	}
}
