package replication

import (
	"fmt"

	"go.etcd.io/raft/v3/raftpb"
	"google.golang.org/protobuf/proto"

	"github.com/meridiandb/meridian/replication/replicationpb"
	"github.com/meridiandb/meridian/storage"
	"github.com/meridiandb/meridian/truetime"
)

// applier applies a run of committed entries. Entries go into one batch
// together with the applied state; commands that must read what came before
// them (GC) or change the store (splits, membership) end the batch first.
type applier struct {
	r       *Replica
	b       *storage.Batch
	state   *replicationpb.AppliedState // the applied state as of the batch
	desc    *RangeDescriptor
	lease   *Lease
	results []applyResult
	after   []func() // run after the batch commits, in order
	// unlock releases raftMu of another replica a split holds.
	unlock    []func()
	rhsLocked *Replica
	removed   bool // this replica was removed from the range
	// prepared changes, applied to memory after the batch commits.
	prepared []*PreparedChange
	// bytes written by the batch's MVCC writes; recount: the size must be
	// recomputed (GC, split).
	bytes   int64
	recount bool
}

type applyResult struct {
	id  uint64
	err error
}

// applyEntriesLocked applies committed entries in order. Called by the worker
// with raftMu held.
func (r *Replica) applyEntriesLocked(ents []*raftpb.Entry) error {
	r.mu.Lock()
	a := &applier{
		r:     r,
		state: proto.Clone(r.mu.applied).(*replicationpb.AppliedState),
		desc:  r.mu.desc,
		lease: r.mu.lease,
	}
	r.mu.Unlock()
	a.b = r.store.eng.NewBatch()
	var maxTerm uint64
	for _, e := range ents {
		if e.GetIndex() <= a.state.Index {
			continue // already applied before a restart
		}
		maxTerm = max(maxTerm, e.GetTerm())
		if err := a.apply(e); err != nil {
			a.b.Close()
			for _, fn := range a.unlock {
				fn()
			}
			return fmt.Errorf("applying entry %d: %w", e.GetIndex(), err)
		}
		a.state.Index, a.state.Term = e.GetIndex(), e.GetTerm()
		if a.removed {
			break
		}
	}
	if err := a.flush(); err != nil {
		return err
	}
	a.b.Close()
	for _, fn := range a.after {
		fn()
	}
	for _, fn := range a.unlock {
		fn()
	}

	r.mu.Lock()
	defer r.mu.Unlock()
	for _, res := range a.results {
		if p, ok := r.mu.proposals[res.id]; ok {
			r.finishProposalLocked(p, res.err)
		}
	}
	// A proposal from an earlier term that has not applied by now never will.
	if maxTerm > 0 {
		for _, p := range r.mu.proposals {
			if p.term < maxTerm {
				r.finishProposalLocked(p, fmt.Errorf("%w: r%d superseded in term %d", ErrProposalDropped, r.rangeID, maxTerm))
			}
		}
	}
	r.notifyLocked()
	return nil
}

// flush commits the batch with the applied state and publishes the state.
func (a *applier) flush() error {
	r := a.r
	if err := putProto(a.b, storage.RangeLocalKey(uint64(r.rangeID), storage.SuffixAppliedState, nil), a.state); err != nil {
		return err
	}
	if err := a.b.Commit(false); err != nil {
		return err
	}
	a.b.Close()
	a.b = r.store.eng.NewBatch()
	r.mu.Lock()
	r.mu.applied = proto.Clone(a.state).(*replicationpb.AppliedState)
	r.mu.desc = a.desc
	r.mu.lease = a.lease
	for _, pc := range a.prepared {
		if pc.Remove {
			delete(r.mu.prepared, string(pc.TxnId))
		} else {
			r.mu.prepared[string(pc.TxnId)] = truetime.Timestamp(pc.PrepareTs)
		}
	}
	a.prepared = nil
	switch {
	case a.recount:
		r.mu.approxBytes = -1
	case r.mu.approxBytes >= 0:
		r.mu.approxBytes += a.bytes
	}
	a.bytes, a.recount = 0, false
	if c := truetime.Timestamp(a.state.ClosedTs); c > r.mu.closed {
		r.mu.closed = c
	}
	r.applySideClosedLocked()
	r.mu.Unlock()
	return nil
}

func (a *applier) apply(e *raftpb.Entry) error {
	switch e.GetType() {
	case raftpb.EntryType_EntryNormal:
		if len(e.GetData()) == 0 {
			return nil // a new leader's empty entry
		}
		cmd, err := decodeCommand(e.GetData())
		if err != nil {
			return err
		}
		err = a.applyCommand(cmd)
		a.results = append(a.results, applyResult{id: cmd.Id, err: err})
		return nil
	case raftpb.EntryType_EntryConfChangeV2:
		var cc raftpb.ConfChangeV2
		if err := proto.Unmarshal(e.GetData(), &cc); err != nil {
			return fmt.Errorf("decoding conf change: %w", err)
		}
		return a.applyConfChange(&cc)
	case raftpb.EntryType_EntryConfChange:
		var cc raftpb.ConfChange
		if err := proto.Unmarshal(e.GetData(), &cc); err != nil {
			return fmt.Errorf("decoding conf change: %w", err)
		}
		return a.applyConfChange(cc.AsV2())
	}
	return fmt.Errorf("unknown entry type %v", e.GetType())
}

// applyCommand applies a command's effects to the batch. The error it
// returns goes to the proposer: a rejected command changes nothing.
func (a *applier) applyCommand(cmd *Command) error {
	r := a.r
	switch {
	case cmd.Lease != nil:
		next, err := applyLeaseChange(a.lease, cmd.Lease)
		if err != nil {
			return fmt.Errorf("r%d: %w", r.rangeID, err)
		}
		if err := putProto(a.b, storage.RangeLocalKey(uint64(r.rangeID), storage.SuffixLease, nil), next); err != nil {
			return err
		}
		extension := next.Sequence == a.lease.GetSequence()
		a.lease = next
		a.after = append(a.after, func() { r.leaseAppliedLocked(next, extension) })
		return nil
	case cmd.Split != nil:
		return a.applySplit(cmd.Split)
	}
	// Everything else was evaluated under a lease and applies only if that
	// lease is still current.
	if cmd.LeaseSequence != a.lease.GetSequence() {
		return fmt.Errorf("%w: r%d command under lease %d, current %d", ErrLeaseChanged, r.rangeID, cmd.LeaseSequence, a.lease.GetSequence())
	}
	if cmd.ClosedTs > a.state.ClosedTs {
		a.state.ClosedTs = cmd.ClosedTs
	}
	if w := cmd.Write; w != nil {
		if err := a.applyWrite(w); err != nil {
			return err
		}
	}
	if g := cmd.Gc; g != nil {
		if err := a.applyGC(g); err != nil {
			return err
		}
	}
	return nil
}

func (a *applier) applyWrite(w *WriteBatch) error {
	r := a.r
	// Check every key first: a rejected command writes nothing.
	for _, m := range w.Mvcc {
		if a.desc == nil || !ContainsKey(a.desc, m.Key) {
			return &RangeKeyMismatchError{RangeID: r.rangeID, Start: m.Key, End: m.Key, Desc: a.desc}
		}
	}
	for _, m := range w.Mvcc {
		var err error
		if m.Tombstone {
			err = a.b.DeleteMVCC(m.Key, m.Timestamp)
		} else {
			err = a.b.PutMVCC(m.Key, m.Timestamp, m.Value)
		}
		a.bytes += int64(len(m.Key) + len(m.Value) + mvccOverhead)
		if err != nil {
			return err
		}
	}
	for _, l := range w.Local {
		var err error
		if l.Delete {
			err = a.b.DeleteLocal(l.Key)
		} else {
			err = a.b.PutLocal(l.Key, l.Value)
		}
		if err != nil {
			return err
		}
	}
	for _, pc := range w.Prepared {
		key := preparedKey(r.rangeID, pc.TxnId)
		var err error
		if pc.Remove {
			err = a.b.DeleteLocal(key)
		} else {
			err = a.b.PutLocal(key, encodePreparedRecord(truetime.Timestamp(pc.PrepareTs), pc.Record))
		}
		if err != nil {
			return err
		}
		a.prepared = append(a.prepared, pc)
	}
	return nil
}

func (a *applier) applyGC(g *replicationpb.GCRequest) error {
	// GC reads the store, so everything before it must be committed first.
	if err := a.flush(); err != nil {
		return err
	}
	start, end := g.StartKey, g.EndKey
	if a.desc == nil || !ContainsSpan(a.desc, start, end) {
		return fmt.Errorf("GC of [%s, %s) outside %s", storage.PrettyKey(start), storage.PrettyKey(end), DescribeRange(a.desc))
	}
	if g.Threshold <= a.state.GcThreshold {
		return nil
	}
	if _, err := storage.GC(a.r.store.eng, a.b, start, end, g.Threshold); err != nil {
		return err
	}
	a.recount = true
	a.state.GcThreshold = g.Threshold
	return nil
}
