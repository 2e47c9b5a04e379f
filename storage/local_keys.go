package storage

import (
	"encoding/binary"
	"fmt"
)

// The local keyspace holds per-store and per-range state that is not
// versioned. Local keys are stored as bare engine keys (see key.go) and sort
// before every global key:
//
//	LocalKey      = 0x01 StoreLocal | 0x01 RangeLocal
//	StoreLocal    = 's' StoreSuffix                      // store identity and the like
//	RangeLocal    = 'r' RangeID RangeSuffix
//	RangeID       = uint64, 8 bytes big-endian
//	RangeSuffix   = "rftl" Index                         // raft log entry at Index
//	              | "rfth"                               // raft HardState
//	              | "rftt"                               // raft truncated state
//	              | "appl"                               // applied state
//	              | "desc"                               // range descriptor
//	              | "leas"                               // lease
//	              | "clos"                               // closed timestamp
//	              | "txnp" TxnID                         // prepared transaction record
//	              | "txnd" TxnID                         // transaction decision record
//	              | "tomb"                               // the range was removed from this store
//	Index         = uint64, 8 bytes big-endian
//	TxnID         = 16 bytes
//
// Global (MVCC) keys are everything at or above GlobalKeyMin.

const (
	localPrefix     = 0x01
	storeLocalKind  = 's'
	rangeLocalKind  = 'r'
	rangeIDLen      = 8
	rangeLocalStart = 2 + rangeIDLen // 0x01 'r' RangeID
)

// RangeSuffix names one kind of per-range local state.
type RangeSuffix string

// The per-range local suffixes. Each is four bytes.
const (
	SuffixRaftLog        RangeSuffix = "rftl"
	SuffixRaftHardState  RangeSuffix = "rfth"
	SuffixRaftTruncated  RangeSuffix = "rftt"
	SuffixAppliedState   RangeSuffix = "appl"
	SuffixDescriptor     RangeSuffix = "desc"
	SuffixLease          RangeSuffix = "leas"
	SuffixClosedTS       RangeSuffix = "clos"
	SuffixPreparedTxn    RangeSuffix = "txnp"
	SuffixTxnDecision    RangeSuffix = "txnd"
	SuffixTxnDecisionEnd RangeSuffix = "txne" // upper bound of the decision records
	SuffixRangeTombstone RangeSuffix = "tomb"
)

// Replicated reports whether the suffix names state that is the same on
// every replica of the range (and travels in raft snapshots), as opposed to
// each replica's own raft state.
func (s RangeSuffix) Replicated() bool {
	switch s {
	case SuffixRaftLog, SuffixRaftHardState, SuffixRaftTruncated, SuffixRangeTombstone:
		return false
	}
	return true
}

var (
	// LocalKeyMin and LocalKeyMax bound the local keyspace.
	LocalKeyMin = []byte{localPrefix}
	LocalKeyMax = []byte{localPrefix + 1}
	// GlobalKeyMin is the smallest key an MVCC operation accepts.
	GlobalKeyMin = []byte{localPrefix + 1}
	// GlobalKeyMax is above every key an MVCC operation accepts.
	GlobalKeyMax = []byte{0xff, 0xff}
)

// StoreLocalKey returns the store-local key with the given suffix.
func StoreLocalKey(suffix string) []byte {
	k := make([]byte, 0, 2+len(suffix))
	k = append(k, localPrefix, storeLocalKind)
	return append(k, suffix...)
}

// RangeLocalPrefix returns the prefix of every local key of the range.
func RangeLocalPrefix(rangeID uint64) []byte {
	k := make([]byte, 0, rangeLocalStart)
	k = append(k, localPrefix, rangeLocalKind)
	return binary.BigEndian.AppendUint64(k, rangeID)
}

// RangeLocalKey returns the local key of the range with the given suffix,
// followed by detail (an index or transaction id, or nothing).
func RangeLocalKey(rangeID uint64, suffix RangeSuffix, detail []byte) []byte {
	k := make([]byte, 0, rangeLocalStart+len(suffix)+len(detail))
	k = append(k, localPrefix, rangeLocalKind)
	k = binary.BigEndian.AppendUint64(k, rangeID)
	k = append(k, suffix...)
	return append(k, detail...)
}

// RaftLogKey returns the key of the raft log entry at index.
func RaftLogKey(rangeID, index uint64) []byte {
	var idx [8]byte
	binary.BigEndian.PutUint64(idx[:], index)
	return RangeLocalKey(rangeID, SuffixRaftLog, idx[:])
}

// RaftLogPrefix returns the prefix shared by the range's raft log entries.
func RaftLogPrefix(rangeID uint64) []byte {
	return RangeLocalKey(rangeID, SuffixRaftLog, nil)
}

// DecodeRaftLogIndex returns the index of a raft log key.
func DecodeRaftLogIndex(key []byte) (uint64, error) {
	if len(key) != rangeLocalStart+len(SuffixRaftLog)+8 || key[0] != localPrefix || key[1] != rangeLocalKind ||
		string(key[rangeLocalStart:rangeLocalStart+len(SuffixRaftLog)]) != string(SuffixRaftLog) {
		return 0, fmt.Errorf("storage: %s is not a raft log key", PrettyKey(key))
	}
	return binary.BigEndian.Uint64(key[len(key)-8:]), nil
}

// DecodeRangeLocalKey splits a range-local key into its range, suffix and
// detail.
func DecodeRangeLocalKey(key []byte) (rangeID uint64, suffix RangeSuffix, detail []byte, err error) {
	if len(key) < rangeLocalStart+4 || key[0] != localPrefix || key[1] != rangeLocalKind {
		return 0, "", nil, fmt.Errorf("storage: %s is not a range-local key", PrettyKey(key))
	}
	rangeID = binary.BigEndian.Uint64(key[2:rangeLocalStart])
	suffix = RangeSuffix(key[rangeLocalStart : rangeLocalStart+4])
	return rangeID, suffix, key[rangeLocalStart+4:], nil
}

// IsLocal reports whether key lies in the local keyspace.
func IsLocal(key []byte) bool { return len(key) > 0 && key[0] < GlobalKeyMin[0] }

// PrefixEnd returns the smallest key greater than every key with the given
// prefix, or nil if there is none (the prefix is all 0xff).
func PrefixEnd(prefix []byte) []byte {
	end := append([]byte(nil), prefix...)
	for i := len(end) - 1; i >= 0; i-- {
		end[i]++
		if end[i] != 0 {
			return end[:i+1]
		}
	}
	return nil
}

func checkGlobalKey(key []byte) error {
	if len(key) == 0 || key[0] < GlobalKeyMin[0] {
		return fmt.Errorf("storage: key %q is outside the global keyspace (must be ≥ %q)", PrettyKey(key), PrettyKey(GlobalKeyMin))
	}
	return nil
}
