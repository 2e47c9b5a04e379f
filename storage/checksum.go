package storage

import (
	"crypto/sha256"
	"encoding/binary"
)

// Checksum is a digest of the data of a span at a timestamp.
type Checksum struct {
	Sum  [sha256.Size]byte
	Rows int
}

// MVCCChecksum digests the rows visible in [start, end) at ts: their keys,
// versions and values, in key order. Replicas holding the same data at ts
// produce the same checksum, whatever versions they have collected.
func MVCCChecksum(r Reader, start, end []byte, ts int64) (Checksum, error) {
	h := sha256.New()
	var c Checksum
	var hdr [16]byte
	for {
		res, err := r.MVCCScan(start, end, ts, ScanOptions{MaxRows: 1024})
		if err != nil {
			return Checksum{}, err
		}
		for _, kv := range res.Rows {
			binary.BigEndian.PutUint32(hdr[0:4], uint32(len(kv.Key)))
			binary.BigEndian.PutUint64(hdr[4:12], uint64(kv.Timestamp))
			binary.BigEndian.PutUint32(hdr[12:16], uint32(len(kv.Value)))
			h.Write(hdr[:])
			h.Write(kv.Key)
			h.Write(kv.Value)
			c.Rows++
		}
		if res.ResumeSpan == nil {
			break
		}
		start = res.ResumeSpan.Key
	}
	copy(c.Sum[:], h.Sum(nil))
	return c, nil
}
