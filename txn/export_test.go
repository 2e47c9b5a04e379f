package txn

import (
	"context"
	"fmt"

	"github.com/meridiandb/meridian/replication"
	"github.com/meridiandb/meridian/truetime"
	"github.com/meridiandb/meridian/txn/txnpb"
)

// Stepper drives a read-write transaction's commit one step at a time, so
// that tests can crash nodes between the steps of two-phase commit.
type Stepper struct{ t *rwTxn }

// Step returns a Stepper for a read-write transaction.
func Step(t Txn) *Stepper { return &Stepper{t: t.(*rwTxn)} }

// TxnID returns the transaction's id.
func (s *Stepper) TxnID() []byte { return s.t.meta.Id }

// Group assigns the buffered writes to their ranges.
func (s *Stepper) Group(ctx context.Context) error { return s.t.groupWrites(ctx) }

func (s *Stepper) part(ctx context.Context, key []byte) (*participant, error) {
	e, err := s.t.db.opts.Router.Lookup(ctx, key)
	if err != nil {
		return nil, err
	}
	p := s.t.parts[replication.RangeID(e.Desc.RangeId)]
	if p == nil {
		return nil, fmt.Errorf("no participant holds %q", key)
	}
	return p, nil
}

// Prepare prepares the participant holding key, with coordKey's range as
// coordinator.
func (s *Stepper) Prepare(ctx context.Context, key, coordKey []byte) (truetime.Timestamp, error) {
	p, err := s.part(ctx, key)
	if err != nil {
		return 0, err
	}
	in := &txnpb.PrepareRequest{Txn: s.t.meta, Writes: p.writes, Epoch: p.epoch, CoordinatorKey: coordKey, Reads: p.reads,
		LockTimeoutNanos: int64(s.t.opts.LockTimeout)}
	out := &txnpb.PrepareResponse{}
	_, _, err = s.t.db.call(ctx, p.anchor, methodPrepare, in, out, &s.t.ledger, s.t.meta.Id)
	return truetime.Timestamp(out.PrepareTs), err
}

// Decide commits at the coordinator holding key, above minTS.
func (s *Stepper) Decide(ctx context.Context, key []byte, minTS truetime.Timestamp) (truetime.Timestamp, error) {
	p, err := s.part(ctx, key)
	if err != nil {
		return 0, err
	}
	return s.t.commitOne(ctx, p, true, minTS)
}

// Resolve tells the participant holding key the outcome.
func (s *Stepper) Resolve(ctx context.Context, key []byte, commit bool, ts truetime.Timestamp) error {
	p, err := s.part(ctx, key)
	if err != nil {
		return err
	}
	in := &txnpb.ResolveRequest{Txn: s.t.meta, Commit: commit, CommitTs: int64(ts)}
	_, _, err = s.t.db.call(ctx, p.anchor, methodResolve, in, &txnpb.ResolveResponse{}, nil, s.t.meta.Id)
	return err
}

// Status asks the coordinator holding key for the decision, without
// deciding.
func (s *Stepper) Status(ctx context.Context, key []byte) (*txnpb.Decision, error) {
	out := &txnpb.StatusResponse{}
	in := &txnpb.StatusRequest{TxnId: s.t.meta.Id}
	_, _, err := s.t.db.call(ctx, key, methodStatus, in, out, nil, s.t.meta.Id)
	return out.Decision, err
}
