package txn

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"

	"github.com/meridiandb/meridian/ranges"
	"github.com/meridiandb/meridian/replication"
	"github.com/meridiandb/meridian/truetime"
	"github.com/meridiandb/meridian/txn/txnpb"
)

// Commit implements Txn. One range: a one-phase commit at its leaseholder.
// Several: the other participants prepare, the coordinator (the first
// range written) decides at a timestamp above every prepare and commit-
// waits, and the participants learn the outcome afterwards. No writes: the
// locks are held until the commit timestamp has passed, then validated and
// released.
func (t *rwTxn) Commit(ctx context.Context) (truetime.Timestamp, error) {
	if err := t.check(); err != nil {
		return 0, err
	}
	t.done = true
	defer t.db.unregister(t.meta.Id)
	committed := false
	defer func() { t.finishAdmission(committed) }()
	if len(t.writes) > 0 {
		if err := t.admit(ctx); err != nil {
			t.rollbackAll()
			return 0, err
		}
	}
	var (
		s   truetime.Timestamp
		err error
	)
	for attempt := 1; ; attempt++ {
		if err := t.groupWrites(ctx); err != nil {
			t.rollbackAll()
			return 0, err
		}
		if len(t.parts) == 0 {
			s := t.db.opts.Clock.Now().Latest
			if t.deadline != 0 && s > t.deadline {
				return 0, &RetryableError{Txn: t.ID(), Reason: fmt.Sprintf("its commit timestamp %v would pass its deadline %v", s, t.deadline)}
			}
			committed = true
			return s, nil
		}
		t.preparing = false
		s, err = t.commitGrouped(ctx)
		// A range split after the writes were grouped: nothing took effect
		// before the prepares, so group them again by the new ranges.
		var outside *ranges.OutsideRangeError
		if err == nil || !errors.As(err, &outside) {
			break
		}
		if t.preparing || attempt == maxRegroups {
			err = &RetryableError{Txn: t.ID(), Reason: "its ranges split during its commit: " + err.Error()}
			break
		}
	}
	if err != nil {
		if IsRetryable(err) {
			t.conflicted.Store(true)
		}
		t.rollbackAll()
		return 0, err
	}
	committed = true
	return s, nil
}

// maxRegroups bounds how often a commit groups its writes again after
// ranges split under it.
const maxRegroups = 3

// commitGrouped commits the grouped writes: one phase on a single range,
// two phases across several, or only releasing locks if nothing was written.
func (t *rwTxn) commitGrouped(ctx context.Context) (truetime.Timestamp, error) {
	var writers []*participant
	for _, p := range t.parts {
		if len(p.writes) > 0 {
			writers = append(writers, p)
		}
	}
	sort.Slice(writers, func(i, j int) bool { return bytes.Compare(writers[i].anchor, writers[j].anchor) < 0 })
	switch {
	case len(writers) == 0:
		return t.commitReadOnly(ctx)
	case len(t.parts) == 1:
		return t.commitOne(ctx, writers[0], false, 0)
	default:
		return t.commitTwoPhase(ctx, writers[0])
	}
}

// groupWrites assigns each buffered write to the range now holding it,
// dropping any earlier grouping (participants that only wrote go).
func (t *rwTxn) groupWrites(ctx context.Context) error {
	for id, p := range t.parts {
		p.writes = nil
		if len(p.reads) == 0 {
			delete(t.parts, id)
		}
	}
	keys := make([]string, 0, len(t.writes))
	for k := range t.writes {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		e, err := t.db.opts.Router.Lookup(ctx, []byte(k))
		if err != nil {
			return err
		}
		id := replication.RangeID(e.Desc.RangeId)
		p := t.parts[id]
		if p == nil {
			p = &participant{desc: e.Desc, anchor: []byte(k)}
			t.parts[id] = p
		}
		if len(p.writes) == 0 {
			p.anchor = []byte(k)
		}
		p.writes = append(p.writes, t.writes[k])
	}
	return nil
}

func (t *rwTxn) commitOne(ctx context.Context, p *participant, twoPhase bool, minTS truetime.Timestamp) (truetime.Timestamp, error) {
	minTS = max(minTS, t.commitFloor())
	in := &txnpb.CommitRequest{Txn: t.meta, Writes: p.writes, Epoch: p.epoch, TwoPhase: twoPhase, MinTs: int64(minTS),
		LockTimeoutNanos: int64(t.opts.LockTimeout), MaxTs: int64(t.deadline)}
	out := &txnpb.CommitResponse{}
	if _, err := t.call(ctx, p.anchor, methodCommit, in, out, &t.ledger); err != nil {
		return 0, err
	}
	return truetime.Timestamp(out.CommitTs), nil
}

// commitReadOnly commits a transaction that only read: its timestamp is the
// gateway's now, waited out before the locks are validated and released,
// so that any later writer lands above it.
func (t *rwTxn) commitReadOnly(ctx context.Context) (truetime.Timestamp, error) {
	s := max(t.db.opts.Clock.Now().Latest, t.commitFloor())
	if t.deadline != 0 && s > t.deadline {
		return 0, &RetryableError{Txn: t.ID(), Reason: fmt.Sprintf("its commit timestamp %v would pass its deadline %v", s, t.deadline)}
	}
	if !t.db.opts.TestingKnobs.UnsafeNoCommitWait {
		start := truetime.Mono()
		if err := t.db.opts.Clock.WaitUntilAfter(ctx, s); err != nil {
			return 0, err
		}
		t.ledger.CommitWait += truetime.Mono() - start
	}
	err := t.eachParticipant(ctx, t.all(), func(ctx context.Context, p *participant, l *Ledger) error {
		in := &txnpb.CommitRequest{Txn: t.meta, Epoch: p.epoch, ReadOnly: true, ReadOnlyTs: int64(s)}
		_, err := t.call(ctx, p.anchor, methodCommit, in, &txnpb.CommitResponse{}, l)
		return err
	})
	return s, err
}

func (t *rwTxn) all() []*participant {
	out := make([]*participant, 0, len(t.parts))
	for _, p := range t.parts {
		out = append(out, p)
	}
	return out
}

// eachParticipant runs fn for the participants in parallel and returns the
// first error; the ledger gets the slowest one's time.
func (t *rwTxn) eachParticipant(ctx context.Context, ps []*participant, fn func(context.Context, *participant, *Ledger) error) error {
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		first   error
		slowest Ledger
	)
	for _, p := range ps {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var l Ledger
			start := truetime.Mono()
			err := fn(ctx, p, &l)
			l.Total = truetime.Mono() - start
			mu.Lock()
			defer mu.Unlock()
			if err != nil && first == nil {
				first = err
			}
			if l.Total > slowest.Total {
				slowest = l
			}
		}()
	}
	wg.Wait()
	t.ledger.Network += slowest.Network
	t.ledger.LockWait += slowest.LockWait
	t.ledger.Raft += slowest.Raft
	t.ledger.CommitWait += slowest.CommitWait
	t.ledger.RetryTime += slowest.RetryTime
	return first
}

// commitTwoPhase runs two-phase commit with coord as coordinator.
func (t *rwTxn) commitTwoPhase(ctx context.Context, coord *participant) (truetime.Timestamp, error) {
	var others []*participant
	for _, p := range t.parts {
		if p != coord {
			others = append(others, p)
		}
	}
	var mu sync.Mutex
	var maxPrepare truetime.Timestamp
	var prepared []*participant
	start := truetime.Mono()
	// First every write lock, everywhere: once a participant is prepared it
	// can no longer be wounded, so it must never wait for a lock (the
	// holder might be waiting for it: a deadlock wound-wait cannot break).
	var writers []*participant
	for _, p := range t.parts {
		if len(p.writes) > 0 {
			writers = append(writers, p)
		}
	}
	err := t.eachParticipant(ctx, writers, func(ctx context.Context, p *participant, l *Ledger) error {
		in := &txnpb.PrepareRequest{Txn: t.meta, Writes: p.writes, Epoch: p.epoch, LockTimeoutNanos: int64(t.opts.LockTimeout), LockOnly: true}
		_, err := t.call(ctx, p.anchor, methodPrepare, in, &txnpb.PrepareResponse{}, l)
		return err
	})
	if err != nil {
		t.ledger.Prepare += truetime.Mono() - start
		return 0, err
	}
	t.preparing = true
	err = t.eachParticipant(ctx, others, func(ctx context.Context, p *participant, l *Ledger) error {
		in := &txnpb.PrepareRequest{Txn: t.meta, Writes: p.writes, Epoch: p.epoch, CoordinatorKey: coord.anchor, Reads: p.reads,
			LockTimeoutNanos: int64(t.opts.LockTimeout)}
		out := &txnpb.PrepareResponse{}
		if _, err := t.call(ctx, p.anchor, methodPrepare, in, out, l); err != nil {
			return err
		}
		mu.Lock()
		prepared = append(prepared, p)
		maxPrepare = max(maxPrepare, truetime.Timestamp(out.PrepareTs))
		mu.Unlock()
		return nil
	})
	t.ledger.Prepare += truetime.Mono() - start
	if err != nil {
		t.resolve(prepared, false, 0)
		return 0, err
	}
	s, err := t.commitOne(ctx, coord, true, maxPrepare)
	if err != nil {
		// The outcome may be unknown (the coordinator's answer was lost):
		// ask, deciding abort if it decided nothing.
		d, serr := t.decision(ctx, coord.anchor)
		if serr != nil {
			// Undecided as far as we know: the prepared participants ask
			// the coordinator themselves (recovery), which settles it; a
			// rollback leaves prepared locks alone.
			return 0, fmt.Errorf("%w: txn %s: its commit decision is unknown (%v; asking the coordinator: %v)",
				replication.ErrAmbiguousResult, t.ID(), err, serr)
		}
		if !d.Committed {
			t.resolve(prepared, false, 0)
			if d.Aborted {
				var re *RetryableError
				if !errors.As(err, &re) {
					err = &RetryableError{Txn: t.ID(), Reason: "aborted during two-phase commit: " + err.Error()}
				}
			}
			return 0, err
		}
		s = truetime.Timestamp(d.CommitTs)
	}
	t.resolve(prepared, true, s)
	return s, nil
}

func (t *rwTxn) decision(ctx context.Context, coordKey []byte) (*txnpb.Decision, error) {
	out := &txnpb.StatusResponse{}
	in := &txnpb.StatusRequest{TxnId: t.meta.Id, AbortIfMissing: true}
	if _, _, err := t.db.call(ctx, coordKey, methodStatus, in, out, nil, t.meta.Id); err != nil {
		return nil, err
	}
	if out.Decision == nil {
		return nil, fmt.Errorf("txn %s: coordinator answered without a decision", t.ID())
	}
	return out.Decision, nil
}

// resolve tells prepared participants the outcome, in the background: a
// participant applies it on its own if this message is lost.
func (t *rwTxn) resolve(ps []*participant, commit bool, s truetime.Timestamp) {
	for _, p := range ps {
		t.db.background(func(ctx context.Context) {
			in := &txnpb.ResolveRequest{Txn: t.meta, Commit: commit, CommitTs: int64(s)}
			if _, _, err := t.db.call(ctx, p.anchor, methodResolve, in, &txnpb.ResolveResponse{}, nil, t.meta.Id); err != nil {
				t.db.opts.Logger.Debug("resolving a participant", "txn", t.ID(), "err", err)
			}
		})
	}
}

// rollbackAll releases the transaction's locks wherever it took them (or
// may have).
func (t *rwTxn) rollbackAll() {
	anchors := make([][]byte, 0, len(t.parts)+len(t.failed))
	for _, p := range t.parts {
		anchors = append(anchors, p.anchor)
	}
	for id, key := range t.failed {
		if t.parts[id] == nil {
			anchors = append(anchors, key)
		}
	}
	for _, key := range anchors {
		t.db.background(func(ctx context.Context) {
			in := &txnpb.RollbackRequest{Txn: t.meta}
			_, _, _ = t.db.call(ctx, key, methodRollback, in, &txnpb.RollbackResponse{}, nil, t.meta.Id)
		})
	}
}

// Rollback implements Txn.
func (t *rwTxn) Rollback(context.Context) error {
	if t.done {
		return nil
	}
	t.done = true
	t.rollbackAll()
	t.db.unregister(t.meta.Id)
	t.finishAdmission(false)
	return nil
}
