package ranges

import (
	"bytes"
	"sort"
	"sync"

	"google.golang.org/protobuf/proto"

	"github.com/meridiandb/meridian/replication"
)

// CacheEntry is what a node believes about a range: its descriptor and
// which replica holds the lease.
type CacheEntry struct {
	Desc        *replication.RangeDescriptor
	Leaseholder *replication.ReplicaDescriptor // nil if unknown
}

// RangeCache maps keys to the ranges that (last time anyone looked) hold
// them, ordered by end key. It is safe for concurrent use. Entries may be
// stale; routing errors evict them.
type RangeCache struct {
	mu      sync.RWMutex
	entries []*CacheEntry // sorted by Desc.EndKey, spans disjoint
}

// Lookup returns the cached range holding key, or nil.
func (c *RangeCache) Lookup(key []byte) *CacheEntry {
	c.mu.RLock()
	defer c.mu.RUnlock()
	i := sort.Search(len(c.entries), func(i int) bool {
		return bytes.Compare(c.entries[i].Desc.EndKey, key) > 0
	})
	if i < len(c.entries) && bytes.Compare(c.entries[i].Desc.StartKey, key) <= 0 {
		e := *c.entries[i]
		return &e
	}
	return nil
}

// Insert records descriptors, replacing any entries they overlap that are
// not newer. Leaseholder hints of replaced entries of the same range are
// kept.
func (c *RangeCache) Insert(descs ...*replication.RangeDescriptor) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, d := range descs {
		if d == nil || len(d.EndKey) == 0 {
			continue
		}
		d = proto.Clone(d).(*replication.RangeDescriptor)
		var keep []*CacheEntry
		var lh *replication.ReplicaDescriptor
		stale := false
		for _, e := range c.entries {
			if bytes.Compare(e.Desc.StartKey, d.EndKey) < 0 && bytes.Compare(d.StartKey, e.Desc.EndKey) < 0 {
				if e.Desc.RangeId == d.RangeId {
					if e.Desc.Generation > d.Generation {
						stale = true
					}
					lh = e.Leaseholder
				}
				if !stale {
					continue // overlapped: dropped
				}
			}
			keep = append(keep, e)
		}
		if stale {
			continue
		}
		if lh != nil {
			if _, ok := replication.ReplicaByID(d, replication.ReplicaID(lh.ReplicaId)); !ok {
				lh = nil
			}
		}
		keep = append(keep, &CacheEntry{Desc: d, Leaseholder: lh})
		sort.Slice(keep, func(i, j int) bool { return bytes.Compare(keep[i].Desc.EndKey, keep[j].Desc.EndKey) < 0 })
		c.entries = keep
	}
}

// SetLeaseholder records the leaseholder of a cached range.
func (c *RangeCache) SetLeaseholder(rangeID replication.RangeID, lh *replication.ReplicaDescriptor) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for i, e := range c.entries {
		if replication.RangeID(e.Desc.RangeId) == rangeID {
			if lh != nil {
				if _, ok := replication.ReplicaByID(e.Desc, replication.ReplicaID(lh.ReplicaId)); !ok {
					return
				}
			}
			n := *e
			n.Leaseholder = lh
			c.entries[i] = &n
			return
		}
	}
}

// Evict drops the cached range with the given id.
func (c *RangeCache) Evict(rangeID replication.RangeID) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for i, e := range c.entries {
		if replication.RangeID(e.Desc.RangeId) == rangeID {
			c.entries = append(c.entries[:i:i], c.entries[i+1:]...)
			return
		}
	}
}

// Len returns the number of cached ranges.
func (c *RangeCache) Len() int {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return len(c.entries)
}
