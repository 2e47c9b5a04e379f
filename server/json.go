package server

import (
	"github.com/meridiandb/meridian/ranges/rangespb"
	"github.com/meridiandb/meridian/storage"
)

// RangeJSON is the JSON form of a range (`meridian debug ranges --json`,
// /debug/ranges).
type RangeJSON struct {
	RangeID     uint64        `json:"range_id"`
	StartKey    string        `json:"start_key"`
	EndKey      string        `json:"end_key"`
	Replicas    []ReplicaJSON `json:"replicas"`
	Leaseholder uint64        `json:"leaseholder"`
	Generation  uint64        `json:"generation"`
	ApproxBytes int64         `json:"approx_bytes"`
}

// ReplicaJSON is a replica in RangeJSON.
type ReplicaJSON struct {
	NodeID    uint64 `json:"node_id"`
	ReplicaID uint64 `json:"replica_id"`
	Learner   bool   `json:"learner,omitempty"`
}

// RangesJSON converts range infos for JSON.
func RangesJSON(rs []*rangespb.RangeInfo) []RangeJSON {
	out := make([]RangeJSON, 0, len(rs))
	for _, r := range rs {
		j := RangeJSON{
			RangeID: r.Desc.RangeId, StartKey: storage.PrettyKey(r.Desc.StartKey), EndKey: storage.PrettyKey(r.Desc.EndKey),
			Leaseholder: r.LeaseholderNode, Generation: r.Desc.Generation, ApproxBytes: r.ApproxBytes,
			Replicas: []ReplicaJSON{},
		}
		for _, rd := range r.Desc.Replicas {
			j.Replicas = append(j.Replicas, ReplicaJSON{NodeID: rd.NodeId, ReplicaID: rd.ReplicaId, Learner: rd.Type != 0})
		}
		out = append(out, j)
	}
	return out
}
