package replication

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.etcd.io/raft/v3/raftpb"

	"github.com/meridiandb/meridian/truetime"
)

// ErrAmbiguousResult: the caller stopped waiting for a proposal that may
// still apply.
var ErrAmbiguousResult = errors.New("replication: proposal outcome unknown")

// proposal is a command on its way through raft. Its outcome is delivered
// exactly once on done.
type proposal struct {
	id         uint64
	data       []byte
	confChange *raftpb.ConfChangeV2
	// term is the raft term in which the leader accepted the proposal; once
	// an entry of a later term applies, the proposal can no longer apply.
	term uint64
	// tracked: the proposal carries a write whose timestamp is in
	// Replica.mu.inflight under id.
	tracked bool
	start   time.Duration
	done    chan error
}

func (p *proposal) finish(err error) {
	select {
	case p.done <- err:
	default:
		panic(fmt.Sprintf("proposal %d finished twice (second: %v)", p.id, err))
	}
}

// submit queues a proposal for the worker and waits for its outcome.
func (r *Replica) submit(ctx context.Context, p *proposal) error {
	p.done = make(chan error, 1)
	p.start = truetime.Mono()
	r.mu.Lock()
	if r.mu.destroyed != nil {
		err := r.mu.destroyed
		r.mu.Unlock()
		return err
	}
	r.mu.pending = append(r.mu.pending, p)
	r.unquiesceLocked()
	r.mu.Unlock()
	r.store.scheduler.enqueue(r.rangeID)
	select {
	case err := <-p.done:
		return err
	case <-ctx.Done():
		return fmt.Errorf("%w: r%d proposal %d: %v", ErrAmbiguousResult, r.rangeID, p.id, ctx.Err())
	case <-r.store.stopper:
		return ErrStopped
	}
}

// proposeCommand encodes and proposes cmd, waiting until it applies.
func (r *Replica) proposeCommand(ctx context.Context, cmd *Command, tracked bool) error {
	if cmd.Id == 0 {
		cmd.Id = r.store.nextID()
	}
	data, err := encodeCommand(cmd)
	if err != nil {
		return err
	}
	return r.submit(ctx, &proposal{id: cmd.Id, data: data, tracked: tracked})
}

// finishProposalLocked delivers a proposal's outcome and stops tracking its
// write. Called with mu held.
func (r *Replica) finishProposalLocked(p *proposal, err error) {
	delete(r.mu.proposals, p.id)
	if p.tracked {
		delete(r.mu.inflight, p.id)
	}
	if err == nil {
		r.store.metrics.observeProposal(truetime.Mono() - p.start)
	}
	p.finish(err)
}
