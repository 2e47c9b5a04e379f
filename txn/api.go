package txn

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/meridiandb/meridian/truetime"
)

// Mode is the kind of a transaction.
type Mode int

const (
	// ReadWrite transactions lock what they read (shared) and write
	// (exclusive), buffer writes at the gateway, and commit with two-phase
	// commit and commit wait.
	ReadWrite Mode = iota
	// ReadOnly transactions read at s_read = TT.now().latest without locks,
	// at the nearest replica whose safe time has passed s_read.
	ReadOnly
	// Stale transactions are read-only at an exact past timestamp or at a
	// bounded staleness.
	Stale
)

// Options configure a transaction. The zero value is a read-write
// transaction.
type Options struct {
	Mode Mode
	// ReadTimestamp is the exact read timestamp of a Stale transaction.
	ReadTimestamp truetime.Timestamp
	// MaxStaleness, for a Stale transaction without ReadTimestamp, lets the
	// transaction read at any timestamp no older than now minus it that the
	// nearest replica can serve without waiting.
	MaxStaleness time.Duration
	// LockTimeout bounds each wait for a lock. Default: 5s (as MySQL's
	// innodb_lock_wait_timeout, scaled down).
	LockTimeout time.Duration
	// Priority is a read-write transaction's age for wound-wait (lower is
	// older and wins). Zero: the gateway's clock now. A client retrying an
	// aborted transaction passes the first attempt's (Prioritized), so
	// that it ages instead of being wounded again and again.
	Priority int64
	// LoadControl makes a read-write transaction wait, before its first
	// request, for a slot of the gateway's load control (package
	// admission), which limits concurrent transactions only while they
	// abort each other. For clients' transactions; internal ones, which a
	// client's transaction may be waiting for, leave it off.
	LoadControl bool
}

// Prioritized is implemented by read-write transactions: Priority returns
// the wound-wait age to pass to a retry.
type Prioritized interface {
	Priority() int64
}

// Deadliner is implemented by read-write transactions: SetDeadline bounds
// the commit timestamp. A commit that would take a later one fails with a
// retryable error and no effects (SQL's schema leases use it).
type Deadliner interface {
	SetDeadline(ts truetime.Timestamp)
}

// KeyValue is a key and its value as read by a transaction.
type KeyValue struct {
	Key   []byte
	Value []byte
}

// Span is the key interval [Key, EndKey).
type Span struct {
	Key, EndKey []byte
}

// ReadOptions modify a read in a read-write transaction.
type ReadOptions struct {
	// ForUpdate takes exclusive locks instead of shared ones
	// (SELECT … FOR UPDATE).
	ForUpdate bool
}

// ScanOptions modify a scan.
type ScanOptions struct {
	ReadOptions
	// Reverse scans from the end of the span towards its start.
	Reverse bool
	// MaxRows stops the scan after this many rows; 0 means no limit. Only
	// the part of the span actually scanned is locked.
	MaxRows int
}

// ScanResult is a page of a scan.
type ScanResult struct {
	Rows []KeyValue
	// Resume is the part of the span not yet scanned because MaxRows was
	// reached, or nil.
	Resume *Span
}

// DB starts transactions; it is the API the SQL layer uses. Every method is
// safe for concurrent use.
type DB interface {
	// Begin starts a transaction. The caller must end it with Commit or
	// Rollback.
	Begin(ctx context.Context, opts Options) (Txn, error)
	// Clock is the gateway's TrueTime clock.
	Clock() truetime.Clock
}

// Txn is one transaction. It is used by one goroutine at a time.
type Txn interface {
	// ID identifies the transaction in errors and in SHOW statements.
	ID() string
	// Mode returns the kind of the transaction.
	Mode() Mode
	// Get reads key. In a read-write transaction it sees the transaction's
	// own writes and takes a lock on key.
	Get(ctx context.Context, key []byte, opts ReadOptions) (value []byte, found bool, err error)
	// Scan reads [span.Key, span.EndKey) in key order (or reverse). In a
	// read-write transaction it sees the transaction's own writes and locks
	// the span scanned (so rows inserted into it by others conflict).
	Scan(ctx context.Context, span Span, opts ScanOptions) (ScanResult, error)
	// Put buffers a write of key; it is an error in read-only transactions.
	Put(ctx context.Context, key, value []byte) error
	// Delete buffers a deletion of key.
	Delete(ctx context.Context, key []byte) error
	// Commit commits the transaction and returns its commit timestamp (the
	// read timestamp for read-only transactions). When Commit returns, the
	// commit timestamp has passed everywhere (commit wait is over).
	Commit(ctx context.Context) (truetime.Timestamp, error)
	// Rollback abandons the transaction, releasing its locks. It is a no-op
	// after Commit or Rollback.
	Rollback(ctx context.Context) error
	// ReadTimestamp returns the timestamp a read-only or stale transaction
	// reads at (zero for read-write transactions).
	ReadTimestamp() truetime.Timestamp
	// Ledger returns where the transaction's time went so far.
	Ledger() Ledger
}

// Ledger records where a transaction's time went.
type Ledger struct {
	Total         time.Duration
	Network       time.Duration // waiting for other nodes, outside the items below
	LockWait      time.Duration // waiting for locks held by other transactions
	Raft          time.Duration // replicating writes, prepare and commit records
	Prepare       time.Duration // two-phase commit prepare round, beyond its raft time
	CommitWait    time.Duration // waiting out the clock uncertainty
	SafeTimeWait  time.Duration // waiting for a replica's safe time to pass the read timestamp
	AdmissionWait time.Duration // waiting for a slot of the gateway's load control
	Retries       int           // attempts that failed and were retried
	RetryTime     time.Duration // time spent in attempts that were retried
	Ranges        int           // ranges the transaction touched
}

// ErrReadOnly is returned by writes in read-only transactions.
var ErrReadOnly = errors.New("txn: write in a read-only transaction")

// ErrFinished is returned when a committed or rolled back transaction is
// used.
var ErrFinished = errors.New("txn: transaction already finished")

// RetryableError reports a transaction aborted by a conflict (wound-wait) or
// a lock wait timeout; the client may retry it from the start. It maps to
// MySQL error 1213 (SQLSTATE 40001), or 1205 for lock wait timeouts.
type RetryableError struct {
	Txn      string // the transaction that failed
	OtherTxn string // the transaction it conflicted with, if known
	Key      []byte // the key of the conflict, if any
	Reason   string // e.g. "wounded by an older transaction", "lock wait timeout"
	Timeout  bool   // a lock wait timeout rather than a wound
	// wire: Reason is already the full message of a remote error.
	wire bool
}

func (e *RetryableError) Error() string {
	if e.wire {
		return e.Reason
	}
	msg := fmt.Sprintf("txn %s aborted: %s", e.Txn, e.Reason)
	if e.OtherTxn != "" {
		msg += " (conflicting txn " + e.OtherTxn + ")"
	}
	if e.Key != nil {
		msg += fmt.Sprintf(" on key %q", e.Key)
	}
	return msg + "; retry the transaction"
}

// IsRetryable reports whether err (or an error it wraps) is a RetryableError.
func IsRetryable(err error) bool {
	var re *RetryableError
	return errors.As(err, &re)
}
