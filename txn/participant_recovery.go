package txn

import (
	"context"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/meridiandb/meridian/kv/kvpb"
	"github.com/meridiandb/meridian/replication"
	"github.com/meridiandb/meridian/truetime"
	"github.com/meridiandb/meridian/txn/txnpb"
)

// recover resolves transactions prepared here whose outcome never came:
// it asks the coordinator range, which decides abort if it has no decision.
func (p *Participant) recover() {
	for _, r := range p.store.Replicas() {
		if r.Status().Prepared == 0 || !r.IsLeaseholder() {
			continue
		}
		recs, err := r.PreparedRecords()
		if err != nil {
			continue
		}
		for _, pr := range recs {
			p.mu.Lock()
			first, ok := p.mu.seen[string(pr.TxnID)]
			if !ok {
				first = truetime.Mono()
				p.mu.seen[string(pr.TxnID)] = first
			}
			p.mu.Unlock()
			if truetime.Mono()-first < p.opts.RecoveryAge {
				continue
			}
			rec := &txnpb.PreparedRecord{}
			if proto.Unmarshal(pr.Record, rec) != nil {
				continue
			}
			p.recoverOne(r, rec)
		}
	}
}

func (p *Participant) recoverOne(r *replication.Replica, rec *txnpb.PreparedRecord) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	payload, _ := proto.Marshal(&txnpb.StatusRequest{TxnId: rec.Txn.Id, AbortIfMissing: true})
	req := &kvpb.Request{Value: &kvpb.Request_Txn{Txn: &kvpb.TxnRequest{Method: methodStatus, Payload: payload}}}
	res, err := p.opts.Router.Send(ctx, rec.CoordinatorKey, routeOpts(), []*kvpb.Request{req})
	if err != nil {
		p.logger.Debug("asking a coordinator for a decision", "txn", txnName(rec.Txn.Id), "err", err)
		return
	}
	st := &txnpb.StatusResponse{}
	if err := proto.Unmarshal(res.Resp.Responses[0].GetTxn().GetPayload(), st); err != nil {
		return
	}
	in := &txnpb.ResolveRequest{Txn: rec.Txn, Commit: st.Decision.Committed, CommitTs: st.Decision.CommitTs}
	if _, err := p.resolve(ctx, r, in); err != nil {
		p.logger.Debug("resolving an abandoned transaction", "txn", txnName(rec.Txn.Id), "err", err)
		return
	}
	p.logger.Info("resolved an abandoned prepared transaction", "txn", txnName(rec.Txn.Id), "range", r.RangeID(), "committed", st.Decision.Committed)
}

// LeaseAcquired implements replication.Observer: locks left from an earlier
// tenure are void; prepared transactions get theirs back.
func (p *Participant) LeaseAcquired(r *replication.Replica, l *replication.Lease) {
	p.ensureRestored(r, l.GetSequence(), true)
}

// ensureRestored gives the prepared transactions of r their locks back
// once per lease sequence: at the lease's arrival (reset also voids the
// locks of an earlier tenure), or at the first request under it if that
// comes first (the lease is served as soon as it applies).
func (p *Participant) ensureRestored(r *replication.Replica, seq uint64, reset bool) {
	p.restoreMu.Lock()
	defer p.restoreMu.Unlock()
	if p.restored == nil {
		p.restored = map[replication.RangeID]uint64{}
	}
	done := p.restored[r.RangeID()] == seq
	if done && !reset {
		return
	}
	d := r.Desc()
	if d == nil {
		return
	}
	if reset {
		// Prepared locks restored already stay (ResetSpan spares them).
		p.locks.ResetSpan(d.StartKey, d.EndKey, "the lease moved")
	}
	recs, err := r.PreparedRecords()
	if err != nil {
		p.logger.Error("restoring the locks of prepared transactions", "range", r.RangeID(), "err", err)
		return
	}
	for _, pr := range recs {
		rec := &txnpb.PreparedRecord{}
		if proto.Unmarshal(pr.Record, rec) == nil && rec.Txn != nil {
			p.locks.Restore(rec, d.StartKey, d.EndKey)
		}
	}
	p.restored[r.RangeID()] = seq
}

// LeaseLost implements replication.Observer: the range's locks here are
// void; unprepared transactions holding them fail when they commit.
func (p *Participant) LeaseLost(r *replication.Replica) {
	if d := r.Desc(); d != nil {
		p.locks.ResetSpan(d.StartKey, d.EndKey, "the lease moved")
	}
}

// RangeSplit implements replication.Observer: locks are per store, keyed by
// key, so a split changes nothing.
func (p *Participant) RangeSplit(_, _ *replication.Replica) {}

// ReplicaRemoved implements replication.Observer.
func (p *Participant) ReplicaRemoved(r *replication.Replica) { p.LeaseLost(r) }
