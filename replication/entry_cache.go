package replication

import "go.etcd.io/raft/v3/raftpb"

const defaultEntryCacheEntries = 512

// entryCache holds the most recent entries of a raft log, contiguous by
// index, so that the leader feeds followers without reading the store.
type entryCache struct {
	max     int
	entries []*raftpb.Entry // entries[i].Index == first+i
}

func newEntryCache(max int) entryCache { return entryCache{max: max} }

func (c *entryCache) first() uint64 {
	if len(c.entries) == 0 {
		return 0
	}
	return c.entries[0].GetIndex()
}

func (c *entryCache) get(i uint64) *raftpb.Entry {
	if len(c.entries) == 0 {
		return nil
	}
	f := c.first()
	if i < f || i >= f+uint64(len(c.entries)) {
		return nil
	}
	return c.entries[i-f]
}

// add records appended entries; entries at or past the first new index are
// replaced.
func (c *entryCache) add(es []*raftpb.Entry) {
	if len(es) == 0 {
		return
	}
	start := es[0].GetIndex()
	if len(c.entries) > 0 && start >= c.first() && start <= c.first()+uint64(len(c.entries)) {
		c.entries = append(c.entries[:start-c.first()], es...)
	} else {
		c.entries = append([]*raftpb.Entry(nil), es...)
	}
	if over := len(c.entries) - c.max; over > 0 {
		c.entries = append([]*raftpb.Entry(nil), c.entries[over:]...)
	}
}

// truncate drops entries at or below index.
func (c *entryCache) truncate(index uint64) {
	if len(c.entries) == 0 {
		return
	}
	if index >= c.first()+uint64(len(c.entries))-1 {
		c.entries = nil
		return
	}
	if index >= c.first() {
		c.entries = c.entries[index-c.first()+1:]
	}
}
