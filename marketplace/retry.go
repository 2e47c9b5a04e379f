package marketplace

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/go-sql-driver/mysql"
)

// RetryPolicy bounds RunTx's retries. The zero value of a field is its
// default.
type RetryPolicy struct {
	// MaxAttempts, the first included. Default 10.
	MaxAttempts int
	// MinBackoff is the wait before the second attempt; it doubles with
	// each attempt up to MaxBackoff. Defaults 5ms and 500ms.
	MinBackoff, MaxBackoff time.Duration
	// Jitter returns a random wait in [0, d); the backoff is d/2 plus
	// Jitter(d/2). Default: no jitter.
	Jitter func(d time.Duration) time.Duration
	// OnRetry, if set, is called before each retry with the error.
	OnRetry func(err error)
}

// IsRetryable reports whether err aborted a transaction that may simply be
// run again: a deadlock (MySQL 1213), a lock-wait timeout (1205) or a
// serialization failure (SQLSTATE 40001, which Meridian returns with 1213
// when wound-wait aborts a transaction).
func IsRetryable(err error) bool {
	if errors.Is(err, errRetry) {
		return true
	}
	var me *mysql.MySQLError
	if !errors.As(err, &me) {
		return false
	}
	return me.Number == 1213 || me.Number == 1205 || string(me.SQLState[:]) == "40001"
}

// errRetry is returned inside a transaction that lost a race the database
// did not report as a conflict (a duplicate key on insert-if-absent).
var errRetry = errors.New("marketplace: lost a race; retry")

// RunTx runs fn in a transaction on db and commits it, running it again
// (in a new transaction, after a backoff) while it fails with a retryable
// error, up to p.MaxAttempts. Any other error from fn rolls back and is
// returned as is. fn must not keep anything from a failed attempt.
func RunTx(ctx context.Context, db *sql.DB, p RetryPolicy, fn func(*sql.Tx) error) error {
	return retry(ctx, p, func() error {
		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		if err := fn(tx); err != nil {
			tx.Rollback()
			return err
		}
		return tx.Commit()
	})
}

// retry runs f until it succeeds, fails with an error that is not
// retryable, or p.MaxAttempts is reached.
func retry(ctx context.Context, p RetryPolicy, f func() error) error {
	maxAttempts := p.MaxAttempts
	if maxAttempts <= 0 {
		maxAttempts = 10
	}
	backoff, maxBackoff := p.MinBackoff, p.MaxBackoff
	if backoff <= 0 {
		backoff = 5 * time.Millisecond
	}
	if maxBackoff <= 0 {
		maxBackoff = 500 * time.Millisecond
	}
	for attempt := 1; ; attempt++ {
		err := f()
		if err == nil || !IsRetryable(err) {
			return err
		}
		if attempt >= maxAttempts {
			return fmt.Errorf("marketplace: gave up after %d attempts: %w", attempt, err)
		}
		if p.OnRetry != nil {
			p.OnRetry(err)
		}
		wait := backoff / 2
		if p.Jitter != nil {
			wait += p.Jitter(backoff / 2)
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return errors.Join(ctx.Err(), err)
		case <-t.C:
		}
		backoff = min(2*backoff, maxBackoff)
	}
}

// tx runs fn in a retried transaction with the store's policy, naming op
// in errors that come from the database.
func (s *Store) tx(ctx context.Context, fn func(*sql.Tx) error) error {
	return RunTx(ctx, s.db, s.opts.Retry, fn)
}

// do runs one autocommit operation with the store's retry policy.
func (s *Store) do(ctx context.Context, f func() error) error {
	return retry(ctx, s.opts.Retry, f)
}
