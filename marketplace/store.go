package marketplace

import (
	"crypto/rand"
	"database/sql"
	"errors"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-sql-driver/mysql"
)

// Identifiers of the marketplace's rows.
type (
	SellerID   int64
	BuyerID    int64
	ItemID     int64
	PurchaseID int64
	FeedbackID int64
)

// Clock is the marketplace's only source of the current time (for
// created_at, listed_at, purchased_at, and the workload's latencies).
type Clock interface {
	Now() time.Time
}

// ClockFunc adapts a function, such as time.Now in a command, to Clock.
type ClockFunc func() time.Time

// Now calls f.
func (f ClockFunc) Now() time.Time { return f() }

// Errors the operations return for callers to branch on (errors.Is); each
// is wrapped with the identifiers involved.
var (
	// ErrNotFound: no such seller, buyer, item or purchase.
	ErrNotFound = errors.New("marketplace: not found")
	// ErrInvalid: an argument is out of range (empty name, price ≤ 0,
	// quantity ≤ 0, rating outside 1–5, …).
	ErrInvalid = errors.New("marketplace: invalid argument")
	// ErrUsernameTaken: an account with this username exists.
	ErrUsernameTaken = errors.New("marketplace: username taken")
	// ErrBadCredentials: unknown username or wrong password (which one is
	// not told).
	ErrBadCredentials = errors.New("marketplace: unknown username or wrong password")
	// ErrNotOwner: a seller acted on another seller's item.
	ErrNotOwner = errors.New("marketplace: item belongs to another seller")
	// ErrEmptyCart: Purchase with nothing in the cart.
	ErrEmptyCart = errors.New("marketplace: cart is empty")
	// ErrNotYourPurchase: feedback on a purchase of another buyer, or for a
	// seller who sold nothing in it.
	ErrNotYourPurchase = errors.New("marketplace: not a purchase of this buyer from this seller")
	// ErrFeedbackExists: the buyer already rated this seller for this
	// purchase.
	ErrFeedbackExists = errors.New("marketplace: feedback already given")
)

// ErrOutOfStock is returned by Purchase when an item in the cart has fewer
// units left than the cart asks for. Nothing was bought; the cart is as it
// was.
type ErrOutOfStock struct {
	Item      ItemID
	Title     string
	Requested int // units in the cart
	Available int // units in stock
}

func (e *ErrOutOfStock) Error() string {
	return fmt.Sprintf("marketplace: item %d (%q) is out of stock: %d wanted, %d left", e.Item, e.Title, e.Requested, e.Available)
}

// ErrItemUnavailable is returned when an item was removed by its seller
// (or never existed) and so cannot be added to a cart or bought.
type ErrItemUnavailable struct {
	Item ItemID
}

func (e *ErrItemUnavailable) Error() string {
	return fmt.Sprintf("marketplace: item %d is not for sale", e.Item)
}

// Options configure a Store. The zero value of a field is its default,
// except Clock, which is required.
type Options struct {
	// Clock stamps rows. Required.
	Clock Clock
	// Entropy supplies password salts. Default crypto/rand.Reader.
	Entropy io.Reader
	// PasswordIterations of PBKDF2-SHA256 for new passwords. Default
	// 100,000. Stored in each hash, so it can change without breaking
	// existing accounts; workloads and sample data use fewer.
	PasswordIterations int
	// Retry bounds the retries of transactions that hit a deadlock, a
	// serialization failure or a lock-wait timeout.
	Retry RetryPolicy
	// Seed seeds the jitter of retry backoff. Default 1.
	Seed uint64
}

// Stats are counters of a Store since New.
type Stats struct {
	// Retries is the number of transaction attempts retried.
	Retries int64
}

// Store runs the marketplace's operations on a database holding its
// schema. It is safe for concurrent use; its only state besides the
// *sql.DB is the counters and the retry jitter source.
type Store struct {
	db      *sql.DB
	opts    Options
	retries atomic.Int64
	mu      struct {
		sync.Mutex
		rnd *mrand.Rand // jitter of retry backoff
	}
}

// New returns a Store on db, whose current database holds the schema
// (CreateSchema). It panics if opts.Clock is nil.
func New(db *sql.DB, opts Options) *Store {
	if opts.Clock == nil {
		panic("marketplace.New: Options.Clock is required")
	}
	if opts.Entropy == nil {
		opts.Entropy = rand.Reader
	}
	if opts.PasswordIterations <= 0 {
		opts.PasswordIterations = 100_000
	}
	if opts.Seed == 0 {
		opts.Seed = 1
	}
	s := &Store{db: db, opts: opts}
	s.mu.rnd = mrand.New(mrand.NewPCG(opts.Seed, opts.Seed^0x9e3779b97f4a7c15))
	s.opts.Retry.Jitter = s.jitter
	s.opts.Retry.OnRetry = func(error) { s.retries.Add(1) }
	return s
}

// DB returns the database the store runs on.
func (s *Store) DB() *sql.DB { return s.db }

// Stats returns the store's counters.
func (s *Store) Stats() Stats { return Stats{Retries: s.retries.Load()} }

func (s *Store) jitter(d time.Duration) time.Duration {
	if d <= 0 {
		return 0
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return time.Duration(s.mu.rnd.Int64N(int64(d)))
}

// now is the current time as stored: UTC, whole seconds (DATETIME).
func (s *Store) now() time.Time { return s.opts.Clock.Now().UTC().Truncate(time.Second) }

// DSN returns a go-sql-driver/mysql DSN for the marketplace: TCP to addr,
// client-side interpolation of arguments (one round trip per statement
// instead of prepare/execute/close), and times left as text (the
// marketplace parses them itself).
func DSN(addr, user, password, database string) string {
	cfg := mysql.NewConfig()
	cfg.Net, cfg.Addr, cfg.User, cfg.Passwd, cfg.DBName = "tcp", addr, user, password, database
	cfg.InterpolateParams = true
	return cfg.FormatDSN()
}

// isDuplicate reports whether err is MySQL's duplicate-key error (1062).
func isDuplicate(err error) bool {
	var me *mysql.MySQLError
	return errors.As(err, &me) && me.Number == 1062
}
