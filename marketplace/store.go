package marketplace

import (
	"crypto/rand"
	"database/sql"
	"errors"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"strings"
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
	// Region, with the regional schema (CreateRegionalSchema), is the
	// region of the buyers and sellers the store acts for: their accounts,
	// listings, carts, purchases and feedback are rows of that region, and
	// every statement on them names it, so that it reads and writes only
	// that region's partition. A buyer buys only items of its region
	// (AddToCart does not find the others). In returns a store of another
	// region, for browsing its items and sellers. Empty: the plain schema.
	Region string
	// BrowseStaleness, if positive, makes the browsing reads — Search,
	// GetItem, SellerItems, SellerRating — read the data as of that long
	// ago (AS OF TIMESTAMP NOW(6) - INTERVAL …, TiDB's and Meridian's
	// stale reads), which the nearest replica can serve. Everything else
	// stays strictly serializable. MySQL and MariaDB have no AS OF.
	BrowseStaleness time.Duration
}

// Stats are counters of a Store since New.
type Stats struct {
	// Retries is the number of transaction attempts retried.
	Retries int64
}

// Store runs the marketplace's operations on a database holding its
// schema. It is safe for concurrent use; its only state besides the
// *sql.DB is the counters and the retry jitter source (shared with the
// stores In returns).
type Store struct {
	db    *sql.DB
	opts  Options
	state *storeState
}

// storeState is what a Store and the stores In derives from it share.
type storeState struct {
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
	s := &Store{db: db, opts: opts, state: &storeState{}}
	s.state.mu.rnd = mrand.New(mrand.NewPCG(opts.Seed, opts.Seed^0x9e3779b97f4a7c15))
	s.opts.Retry.Jitter = s.jitter
	s.opts.Retry.OnRetry = func(error) { s.state.retries.Add(1) }
	return s
}

// In returns a store on the same database acting in region (regional
// schema): for browsing that region's items and sellers. It shares s's
// counters. In(s's region) is s.
func (s *Store) In(region string) *Store {
	if region == s.opts.Region {
		return s
	}
	c := *s
	c.opts.Region = region
	return &c
}

// Region returns the store's region ("" for the plain schema).
func (s *Store) Region() string { return s.opts.Region }

// DB returns the database the store runs on.
func (s *Store) DB() *sql.DB { return s.db }

// Stats returns the store's counters.
func (s *Store) Stats() Stats { return Stats{Retries: s.state.retries.Load()} }

func (s *Store) jitter(d time.Duration) time.Duration {
	if d <= 0 {
		return 0
	}
	s.state.mu.Lock()
	defer s.state.mu.Unlock()
	return time.Duration(s.state.mu.rnd.Int64N(int64(d)))
}

// q adapts a statement and its arguments to the store's schema. Statements
// are written for both schemas:
//
//   - text in [[…]] belongs to the regional schema only: with a region it
//     is kept, and each @ in it becomes a ? bound to the store's region
//     (inserted among args at its position); without one it is dropped.
//     "WHERE [[region = @ AND ]]id = ?", "INSERT INTO t ([[region, ]]a)
//     VALUES ([[@, ]]?)", "ON i.id = c.item_id[[ AND i.region = c.region]]".
//   - {asof} marks where a browsing read's table takes its AS OF
//     TIMESTAMP clause (BrowseStaleness), or nothing.
//
// Placeholders are counted as every ? outside string literals; the
// statements here put none in literals.
func (s *Store) q(stmt string, args ...any) (string, []any) {
	asOf := ""
	if d := s.opts.BrowseStaleness; d > 0 {
		asOf = fmt.Sprintf(" AS OF TIMESTAMP NOW(6) - INTERVAL %d MICROSECOND", d.Microseconds())
	}
	stmt = strings.ReplaceAll(stmt, "{asof}", asOf)
	if !strings.Contains(stmt, "[[") {
		return stmt, args
	}
	var sb strings.Builder
	out := make([]any, 0, len(args)+2)
	n := 0 // arguments of args consumed
	for rest := stmt; rest != ""; {
		i := strings.Index(rest, "[[")
		if i < 0 {
			i = len(rest)
		}
		plain := rest[:i]
		k := strings.Count(plain, "?")
		if n+k > len(args) {
			panic(fmt.Sprintf("marketplace: %q has more placeholders than its %d arguments", stmt, len(args)))
		}
		sb.WriteString(plain)
		out = append(out, args[n:n+k]...)
		n += k
		rest = rest[i:]
		if rest == "" {
			break
		}
		j := strings.Index(rest, "]]")
		if j < 0 {
			panic(fmt.Sprintf("marketplace: unclosed [[ in %q", stmt))
		}
		inner := rest[2:j]
		rest = rest[j+2:]
		if s.opts.Region == "" {
			continue
		}
		for _, c := range inner {
			switch c {
			case '@':
				sb.WriteByte('?')
				out = append(out, s.opts.Region)
			case '?':
				if n >= len(args) {
					panic(fmt.Sprintf("marketplace: %q has more placeholders than its %d arguments", stmt, len(args)))
				}
				sb.WriteByte('?')
				out = append(out, args[n])
				n++
			default:
				sb.WriteRune(c)
			}
		}
	}
	if n != len(args) {
		panic(fmt.Sprintf("marketplace: %q has %d placeholders for %d arguments", stmt, n, len(args)))
	}
	return sb.String(), out
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
