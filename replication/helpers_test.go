package replication_test

import (
	"github.com/meridiandb/meridian/replication/replicationpb"
	"github.com/meridiandb/meridian/truetime"
)

func writeBatch(key, value string, ts truetime.Timestamp) *replicationpb.WriteBatch {
	return &replicationpb.WriteBatch{Mvcc: []*replicationpb.MVCCWrite{{Key: []byte(key), Timestamp: int64(ts), Value: []byte(value)}}}
}
