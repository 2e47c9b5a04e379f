package replication

import (
	"encoding/binary"
	"fmt"

	"github.com/meridiandb/meridian/storage"
	"github.com/meridiandb/meridian/truetime"
)

// Prepared transaction records live in the range's local keyspace:
//
//	RangeLocalKey(range, SuffixPreparedTxn, TxnID) -> PrepareTS Record
//	PrepareTS = int64, 8 bytes big-endian
//	Record    = the transaction layer's bytes
//
// Replication reads PrepareTS (safe time stops below the oldest prepared
// transaction); the record itself is opaque to it.

func preparedKey(rangeID RangeID, txnID []byte) []byte {
	return storage.RangeLocalKey(uint64(rangeID), storage.SuffixPreparedTxn, txnID)
}

func encodePreparedRecord(prepareTS truetime.Timestamp, record []byte) []byte {
	v := binary.BigEndian.AppendUint64(make([]byte, 0, 8+len(record)), uint64(prepareTS))
	return append(v, record...)
}

// DecodePreparedRecordHeader returns the prepare timestamp of a prepared
// record's value.
func DecodePreparedRecordHeader(txnID, value []byte) ([]byte, truetime.Timestamp, error) {
	if len(value) < 8 {
		return nil, 0, fmt.Errorf("prepared record of txn %x is %d bytes, too short", txnID, len(value))
	}
	return txnID, truetime.Timestamp(binary.BigEndian.Uint64(value)), nil
}

// PreparedRecord is a prepared transaction as recorded by its participant
// range.
type PreparedRecord struct {
	TxnID     []byte
	PrepareTS truetime.Timestamp
	Record    []byte
}

// PreparedRecords reads the range's prepared transactions from the store;
// a new leaseholder uses them to restore the transactions' locks.
func (r *Replica) PreparedRecords() ([]PreparedRecord, error) {
	pfx := storage.RangeLocalKey(uint64(r.rangeID), storage.SuffixPreparedTxn, nil)
	var out []PreparedRecord
	err := r.store.eng.IterateLocal(pfx, storage.PrefixEnd(pfx), func(k, v []byte) error {
		id, ts, err := DecodePreparedRecordHeader(k[len(pfx):], v)
		if err != nil {
			return err
		}
		out = append(out, PreparedRecord{TxnID: append([]byte(nil), id...), PrepareTS: ts, Record: append([]byte(nil), v[8:]...)})
		return nil
	})
	return out, err
}
