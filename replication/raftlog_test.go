package replication

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/cockroachdb/pebble/v2/vfs"
	"go.etcd.io/raft/v3"
	"go.etcd.io/raft/v3/raftpb"
	"google.golang.org/protobuf/proto"

	"github.com/meridiandb/meridian/storage"
)

// TestRaftLogMatchesMemoryStorage drives the Pebble raft log and
// raft.MemoryStorage through the same random appends (with conflicting
// suffixes), HardState changes and truncations, and compares every read,
// also after reopening the log from the engine.
func TestRaftLogMatchesMemoryStorage(t *testing.T) {
	for seed := uint64(0); seed < 10; seed++ {
		t.Run(fmt.Sprint("seed=", seed), func(t *testing.T) { runRaftLogDiff(t, seed) })
	}
}

func runRaftLogDiff(t *testing.T, seed uint64) {
	r := rand.New(rand.NewPCG(seed, 5))
	eng, err := storage.Open(storage.Options{Dir: "db", FS: vfs.NewMem()})
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close()
	const rangeID = 7
	load := func() *raftLog {
		l, err := loadRaftLog(eng, rangeID)
		if err != nil {
			t.Fatal(err)
		}
		l.confState = func() *raftpb.ConfState { return &raftpb.ConfState{Voters: []uint64{1}} }
		l.cache = newEntryCache(1 + r.IntN(8)) // small caches exercise both paths
		return l
	}
	log := load()
	mem := raft.NewMemoryStorage()
	term := uint64(1)
	commit := func(fn func(b *storage.Batch) error) {
		b := eng.NewBatch()
		defer b.Close()
		if err := fn(b); err != nil {
			t.Fatal(err)
		}
		if err := b.Commit(false); err != nil {
			t.Fatal(err)
		}
	}
	for step := 0; step < 400; step++ {
		memLast, _ := mem.LastIndex()
		memFirst, _ := mem.FirstIndex()
		switch op := r.IntN(10); {
		case op < 5: // append, possibly overwriting a suffix
			from := memLast + 1
			if memLast >= memFirst && r.IntN(3) == 0 {
				from = memFirst + uint64(r.IntN(int(memLast-memFirst+1)))
				term++
			}
			var ents []*raftpb.Entry
			for i := 0; i < 1+r.IntN(5); i++ {
				idx, tm := from+uint64(i), term
				ents = append(ents, &raftpb.Entry{Index: &idx, Term: &tm, Data: []byte(fmt.Sprintf("e%d-%d", step, i))})
			}
			if err := mem.Append(ents); err != nil {
				t.Fatal(err)
			}
			commit(func(b *storage.Batch) error { return log.append(b, ents) })
			log.appendCommitted(ents)
		case op < 6: // HardState
			tm, vote, c := term, uint64(r.IntN(3)), memLast
			hs := &raftpb.HardState{Term: &tm, Vote: &vote, Commit: &c}
			if err := mem.SetHardState(hs); err != nil {
				t.Fatal(err)
			}
			commit(func(b *storage.Batch) error { return log.setHardState(b, hs) })
			log.hardStateCommitted(hs)
		case op < 7: // truncate, as raft does, only committed entries
			hs, _, _ := mem.InitialState()
			committed := min(hs.GetCommit(), memLast)
			if committed <= memFirst {
				continue
			}
			idx := memFirst + uint64(r.IntN(int(committed-memFirst)))
			if err := mem.Compact(idx); err != nil {
				t.Fatal(err)
			}
			var ts = log.truncated
			commit(func(b *storage.Batch) error {
				var err error
				ts, err = log.truncate(b, idx)
				return err
			})
			log.truncateCommitted(ts)
		case op < 8: // reopen from the engine
			log = load()
		}
		compareLogs(t, step, log, mem)
	}
}

func compareLogs(t *testing.T, step int, l *raftLog, m *raft.MemoryStorage) {
	t.Helper()
	f1, _ := l.FirstIndex()
	f2, _ := m.FirstIndex()
	l1, _ := l.LastIndex()
	l2, _ := m.LastIndex()
	if f1 != f2 || l1 != l2 {
		t.Fatalf("step %d: [first, last] pebble [%d, %d], memory [%d, %d]", step, f1, l1, f2, l2)
	}
	hs1, _, _ := l.InitialState()
	hs2, _, _ := m.InitialState()
	if hs1.GetTerm() != hs2.GetTerm() || hs1.GetVote() != hs2.GetVote() || hs1.GetCommit() != hs2.GetCommit() {
		t.Fatalf("step %d: HardState pebble %v, memory %v", step, hs1, hs2)
	}
	for i := f1 - 1; i <= l1+1; i++ {
		t1, err1 := l.Term(i)
		t2, err2 := m.Term(i)
		if t1 != t2 || !errors.Is(err1, err2) && (err1 == nil) != (err2 == nil) {
			t.Fatalf("step %d: Term(%d) pebble %d %v, memory %d %v", step, i, t1, err1, t2, err2)
		}
	}
	for lo := f1; lo <= l1; lo++ {
		for _, maxSize := range []uint64{0, 30, 1 << 20} {
			e1, err1 := l.Entries(lo, l1+1, maxSize)
			e2, err2 := m.Entries(lo, l1+1, maxSize)
			if (err1 == nil) != (err2 == nil) || len(e1) != len(e2) {
				t.Fatalf("step %d: Entries(%d, %d, %d) pebble %d entries %v, memory %d entries %v", step, lo, l1+1, maxSize, len(e1), err1, len(e2), err2)
			}
			for i := range e1 {
				if !proto.Equal(e1[i], e2[i]) {
					t.Fatalf("step %d: entry %d differs: %v vs %v", step, e1[i].GetIndex(), e1[i], e2[i])
				}
			}
		}
	}
	if _, err := l.Entries(f1-1, l1+1, 1<<20); !errors.Is(err, raft.ErrCompacted) {
		t.Fatalf("step %d: Entries below first index: %v, want ErrCompacted", step, err)
	}
}
