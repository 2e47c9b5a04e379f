package replication

import (
	"errors"
	"fmt"

	"go.etcd.io/raft/v3"
	"go.etcd.io/raft/v3/raftpb"
	"google.golang.org/protobuf/proto"

	"github.com/meridiandb/meridian/replication/replicationpb"
	"github.com/meridiandb/meridian/storage"
)

// raftLog implements raft.Storage over the store's local keyspace:
//
//	RaftLogKey(range, index) -> raftpb.Entry
//	RangeLocalKey(range, SuffixRaftHardState) -> raftpb.HardState
//	RangeLocalKey(range, SuffixRaftTruncated) -> TruncatedState
//
// The ConfState comes from the range's applied state. raftLog keeps the
// last index, the truncated state and the HardState in memory and a cache of
// recent entries. It is used only by the goroutine processing its replica, so
// it needs no lock; writes go through batches the replica commits, after
// which the replica calls the matching …Committed method.
type raftLog struct {
	eng     *storage.Engine
	rangeID uint64

	hardState *raftpb.HardState
	truncated *replicationpb.TruncatedState
	lastIndex uint64
	lastTerm  uint64
	cache     entryCache

	// confState returns the ConfState of the applied state.
	confState func() *raftpb.ConfState
	// snapshot builds a raft snapshot of the applied state.
	snapshot func() (*raftpb.Snapshot, error)
}

var _ raft.Storage = (*raftLog)(nil)

// loadRaftLog reads the range's raft state from the engine.
func loadRaftLog(eng *storage.Engine, rangeID uint64) (*raftLog, error) {
	l := &raftLog{eng: eng, rangeID: rangeID, cache: newEntryCache(defaultEntryCacheEntries),
		hardState: &raftpb.HardState{}, truncated: &replicationpb.TruncatedState{}}
	if _, err := getProto(eng, storage.RangeLocalKey(rangeID, storage.SuffixRaftHardState, nil), l.hardState); err != nil {
		return nil, err
	}
	if _, err := getProto(eng, storage.RangeLocalKey(rangeID, storage.SuffixRaftTruncated, nil), l.truncated); err != nil {
		return nil, err
	}
	l.lastIndex, l.lastTerm = l.truncated.Index, l.truncated.Term
	// Everything up to the truncated index was committed.
	if l.hardState.GetCommit() < l.truncated.Index {
		c := l.truncated.Index
		l.hardState.Commit = &c
	}
	// The last entry of the log, if there is one past the truncated state.
	prefix := storage.RaftLogPrefix(rangeID)
	var last []byte
	err := eng.IterateLocal(prefix, storage.PrefixEnd(prefix), func(k, v []byte) error {
		last = append(last[:0], v...)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("range %d: reading raft log: %w", rangeID, err)
	}
	if last != nil {
		var e raftpb.Entry
		if err := proto.Unmarshal(last, &e); err != nil {
			return nil, fmt.Errorf("range %d: decoding last raft entry: %w", rangeID, err)
		}
		l.lastIndex, l.lastTerm = e.GetIndex(), e.GetTerm()
	}
	return l, nil
}

func (l *raftLog) InitialState() (*raftpb.HardState, *raftpb.ConfState, error) {
	hs := proto.Clone(l.hardState).(*raftpb.HardState)
	cs := l.confState()
	if cs == nil {
		cs = &raftpb.ConfState{}
	}
	return hs, proto.Clone(cs).(*raftpb.ConfState), nil
}

func (l *raftLog) FirstIndex() (uint64, error) { return l.truncated.Index + 1, nil }

func (l *raftLog) LastIndex() (uint64, error) { return l.lastIndex, nil }

func (l *raftLog) Term(i uint64) (uint64, error) {
	switch {
	case i == l.truncated.Index:
		return l.truncated.Term, nil
	case i < l.truncated.Index:
		return 0, raft.ErrCompacted
	case i > l.lastIndex:
		return 0, raft.ErrUnavailable
	case i == l.lastIndex:
		return l.lastTerm, nil
	}
	if e := l.cache.get(i); e != nil {
		return e.GetTerm(), nil
	}
	e, err := l.readEntry(i)
	if err != nil {
		return 0, err
	}
	return e.GetTerm(), nil
}

func (l *raftLog) Entries(lo, hi, maxSize uint64) ([]*raftpb.Entry, error) {
	if lo <= l.truncated.Index {
		return nil, raft.ErrCompacted
	}
	if hi > l.lastIndex+1 {
		return nil, fmt.Errorf("range %d: entries [%d, %d) past last index %d", l.rangeID, lo, hi, l.lastIndex)
	}
	var (
		out  []*raftpb.Entry
		size uint64
	)
	add := func(e *raftpb.Entry) bool {
		size += uint64(proto.Size(e))
		if len(out) > 0 && size > maxSize {
			return false
		}
		out = append(out, e)
		return true
	}
	i := lo
	for ; i < hi; i++ {
		e := l.cache.get(i)
		if e == nil {
			break
		}
		if !add(e) {
			return out, nil
		}
	}
	if i == hi {
		return out, nil
	}
	start, end := storage.RaftLogKey(l.rangeID, i), storage.RaftLogKey(l.rangeID, hi)
	next := i
	err := l.eng.IterateLocal(start, end, func(k, v []byte) error {
		e := &raftpb.Entry{}
		if err := proto.Unmarshal(v, e); err != nil {
			return fmt.Errorf("range %d: decoding raft entry: %w", l.rangeID, err)
		}
		if e.GetIndex() != next {
			return fmt.Errorf("range %d: raft log gap: want index %d, found %d", l.rangeID, next, e.GetIndex())
		}
		next++
		if !add(e) {
			return storage.ErrStop
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if len(out) == 0 || (next < hi && size <= maxSize) {
		return nil, raft.ErrUnavailable
	}
	return out, nil
}

func (l *raftLog) Snapshot() (*raftpb.Snapshot, error) { return l.snapshot() }

func (l *raftLog) readEntry(i uint64) (*raftpb.Entry, error) {
	v, found, err := l.eng.GetLocal(storage.RaftLogKey(l.rangeID, i))
	if err != nil {
		return nil, err
	}
	if !found {
		return nil, raft.ErrUnavailable
	}
	e := &raftpb.Entry{}
	if err := proto.Unmarshal(v, e); err != nil {
		return nil, fmt.Errorf("range %d: decoding raft entry %d: %w", l.rangeID, i, err)
	}
	return e, nil
}

// append writes entries to b, replacing any conflicting suffix of the log.
// Call appendCommitted once b is committed.
func (l *raftLog) append(b *storage.Batch, entries []*raftpb.Entry) error {
	if len(entries) == 0 {
		return nil
	}
	first := entries[0].GetIndex()
	if first <= l.truncated.Index {
		return fmt.Errorf("range %d: appending entry %d at or below truncated index %d", l.rangeID, first, l.truncated.Index)
	}
	if first > l.lastIndex+1 {
		return fmt.Errorf("range %d: appending entry %d leaves a gap after last index %d", l.rangeID, first, l.lastIndex)
	}
	for _, e := range entries {
		data, err := proto.Marshal(e)
		if err != nil {
			return err
		}
		if err := b.PutLocal(storage.RaftLogKey(l.rangeID, e.GetIndex()), data); err != nil {
			return err
		}
	}
	// Entries past the new last one belong to a superseded leader.
	newLast := entries[len(entries)-1].GetIndex()
	if newLast < l.lastIndex {
		if err := b.ClearLocalRange(storage.RaftLogKey(l.rangeID, newLast+1), storage.RaftLogKey(l.rangeID, l.lastIndex+1)); err != nil {
			return err
		}
	}
	return nil
}

func (l *raftLog) appendCommitted(entries []*raftpb.Entry) {
	if len(entries) == 0 {
		return
	}
	last := entries[len(entries)-1]
	l.lastIndex, l.lastTerm = last.GetIndex(), last.GetTerm()
	l.cache.add(entries)
}

func (l *raftLog) setHardState(b *storage.Batch, hs *raftpb.HardState) error {
	return putProto(b, storage.RangeLocalKey(l.rangeID, storage.SuffixRaftHardState, nil), hs)
}

func (l *raftLog) hardStateCommitted(hs *raftpb.HardState) {
	l.hardState = proto.Clone(hs).(*raftpb.HardState)
}

// truncate writes to b the removal of entries up to and including index.
func (l *raftLog) truncate(b *storage.Batch, index uint64) (*replicationpb.TruncatedState, error) {
	if index <= l.truncated.Index || index > l.lastIndex {
		return nil, fmt.Errorf("range %d: cannot truncate to %d (truncated %d, last %d)", l.rangeID, index, l.truncated.Index, l.lastIndex)
	}
	term, err := l.Term(index)
	if err != nil {
		return nil, err
	}
	ts := &replicationpb.TruncatedState{Index: index, Term: term}
	if err := b.ClearLocalRange(storage.RaftLogKey(l.rangeID, l.truncated.Index), storage.RaftLogKey(l.rangeID, index+1)); err != nil {
		return nil, err
	}
	return ts, putProto(b, storage.RangeLocalKey(l.rangeID, storage.SuffixRaftTruncated, nil), ts)
}

func (l *raftLog) truncateCommitted(ts *replicationpb.TruncatedState) {
	l.truncated = ts
	l.cache.truncate(ts.Index)
}

// resetToSnapshot writes to b a log that is empty after the snapshot's index.
func (l *raftLog) resetToSnapshot(b *storage.Batch, index, term uint64) error {
	prefix := storage.RaftLogPrefix(l.rangeID)
	if err := b.ClearLocalRange(prefix, storage.PrefixEnd(prefix)); err != nil {
		return err
	}
	return putProto(b, storage.RangeLocalKey(l.rangeID, storage.SuffixRaftTruncated, nil),
		&replicationpb.TruncatedState{Index: index, Term: term})
}

func (l *raftLog) resetCommitted(index, term uint64) {
	l.truncated = &replicationpb.TruncatedState{Index: index, Term: term}
	l.lastIndex, l.lastTerm = index, term
	l.cache.truncate(index)
}

// getProto reads a local key into m; found is false if the key is absent
// (m is then left as is).
func getProto(r storage.Reader, key []byte, m proto.Message) (found bool, err error) {
	v, found, err := r.GetLocal(key)
	if err != nil || !found {
		return false, err
	}
	if err := proto.Unmarshal(v, m); err != nil {
		return false, fmt.Errorf("decoding %s: %w", storage.PrettyKey(key), err)
	}
	return true, nil
}

func putProto(b *storage.Batch, key []byte, m proto.Message) error {
	v, err := proto.Marshal(m)
	if err != nil {
		return err
	}
	return b.PutLocal(key, v)
}

var errNoSnapshot = errors.New("no snapshot source")

// maybeTruncateLogLocked truncates the log once it holds more than
// RaftLogMaxEntries entries, keeping the newest half and, on the leader,
// what followers that are not too far behind still need.
func (r *Replica) maybeTruncateLogLocked() {
	l := r.raft.log
	maxEntries := r.store.opts.RaftLogMaxEntries
	if l.lastIndex-l.truncated.Index <= maxEntries {
		return
	}
	r.mu.Lock()
	applied := r.mu.applied.Index
	r.mu.Unlock()
	if applied <= l.truncated.Index+maxEntries/2 {
		return
	}
	idx := applied - maxEntries/2
	st := r.raft.node.Status()
	if st.RaftState == raft.StateLeader {
		for id, pr := range st.Progress {
			if id != uint64(r.replicaID) && pr.Match > l.truncated.Index && applied-pr.Match < 4*maxEntries {
				idx = min(idx, pr.Match)
			}
		}
	}
	if idx <= l.truncated.Index {
		return
	}
	b := r.store.eng.NewBatch()
	defer b.Close()
	ts, err := l.truncate(b, idx)
	if err == nil {
		err = b.Commit(false)
	}
	if err != nil {
		r.store.logger.Warn("raft log truncation failed", "range", r.rangeID, "err", err)
		return
	}
	l.truncateCommitted(ts)
	r.store.metrics.truncations.Add(1)
}
