package session

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/meridiandb/meridian/txn"
)

// janitor deletes the data of dropped tables and indexes. Their schema
// change is done before their spans come here, so no transaction writes
// there any more and their IDs are never reused: the data is unreachable,
// and deleting it is housekeeping that must not hold up (or fail) the
// DROP. A span whose deletion fails (e.g. a lock nobody releases) is
// retried later in the background; a node that stops forgets its pending
// spans (the data stays, unreachable).
type janitor struct {
	db     txn.DB
	logger *slog.Logger
	// lockTimeout bounds each batch's lock waits.
	lockTimeout time.Duration
	retryEvery  time.Duration

	mu struct {
		sync.Mutex
		pending []txn.Span
		started bool
	}
	wake      chan struct{}
	stop      chan struct{}
	closeOnce sync.Once
	wg        sync.WaitGroup
}

func newJanitor(db txn.DB, logger *slog.Logger) *janitor {
	return &janitor{db: db, logger: logger, lockTimeout: time.Second, retryEvery: 5 * time.Second,
		wake: make(chan struct{}, 1), stop: make(chan struct{})}
}

// clear deletes span now if it can, else leaves it to the background loop
// (if the engine is started).
func (j *janitor) clear(ctx context.Context, span txn.Span) {
	rest, err := j.clearSpan(ctx, span)
	if err == nil {
		return
	}
	j.logger.Warn("deleting dropped data failed; retrying in the background", "span", span, "err", err)
	j.mu.Lock()
	j.mu.pending = append(j.mu.pending, rest)
	j.mu.Unlock()
}

// clearSpan deletes span a batch per transaction and returns what is left
// when it fails.
func (j *janitor) clearSpan(ctx context.Context, span txn.Span) (txn.Span, error) {
	for {
		var resume *txn.Span
		err := retryTxnOpts(ctx, j.db, txn.Options{LockTimeout: j.lockTimeout}, 3, func(tx txn.Txn) error {
			res, err := tx.Scan(ctx, span, txn.ScanOptions{MaxRows: 1000})
			if err != nil {
				return err
			}
			for _, kv := range res.Rows {
				if err := tx.Delete(ctx, kv.Key); err != nil {
					return err
				}
			}
			resume = res.Resume
			return nil
		})
		if err != nil {
			return span, err
		}
		if resume == nil {
			return txn.Span{}, nil
		}
		span = *resume
	}
}

func (j *janitor) start() {
	j.wg.Add(1)
	go func() {
		defer j.wg.Done()
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		t := time.NewTicker(j.retryEvery)
		defer t.Stop()
		for {
			select {
			case <-j.stop:
				return
			case <-t.C:
			}
			j.mu.Lock()
			pending := j.mu.pending
			j.mu.pending = nil
			j.mu.Unlock()
			for _, s := range pending {
				rest, err := j.clearSpan(ctx, s)
				if err != nil {
					j.mu.Lock()
					j.mu.pending = append(j.mu.pending, rest)
					j.mu.Unlock()
				}
			}
		}
	}()
}

func (j *janitor) close() {
	j.closeOnce.Do(func() { close(j.stop) })
	j.wg.Wait()
}

// retryTxnOpts runs fn in a read-write transaction with options o,
// retrying retryable errors up to attempts times. Retries keep the first
// attempt's wound-wait age.
func retryTxnOpts(ctx context.Context, db txn.DB, o txn.Options, attempts int, fn func(tx txn.Txn) error) error {
	var err error
	for attempt := 0; attempt < attempts; attempt++ {
		var tx txn.Txn
		if tx, err = db.Begin(ctx, o); err != nil {
			return err
		}
		if p, ok := tx.(txn.Prioritized); ok && o.Priority == 0 {
			o.Priority = p.Priority()
		}
		if err = fn(tx); err == nil {
			_, err = tx.Commit(ctx)
		}
		if err != nil {
			_ = tx.Rollback(ctx)
		}
		if err == nil || !txn.IsRetryable(err) {
			return err
		}
	}
	return err
}
