package workload

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/meridiandb/meridian/geo-sim/bounds"
	"github.com/meridiandb/meridian/truetime"
	"github.com/meridiandb/meridian/txn"
)

// ErrNeedsTxnLayer: the operation needs transactions (txn.DB), which the
// runner was not given a way to reach.
var ErrNeedsTxnLayer = errors.New("needs the transaction layer: geo-sim was given no txn.DB (runner.Layers.TxnDB)")

// ErrNeedsSQL: the operation needs the SQL layer, which the runner was not
// given a way to reach.
var ErrNeedsSQL = errors.New("needs the SQL layer: geo-sim was given no *sql.DB (runner.Layers.SQLDB)")

// Span is the key interval [Key, EndKey).
type Span struct {
	Key, EndKey []byte
}

// HomeSpan is a span and the region whose clients use it most ("" if none).
type HomeSpan struct {
	Span
	Home string
}

// OpSpec describes one kind of operation a workload performs.
type OpSpec struct {
	// Name identifies the operation in results ("write", "transfer", …).
	Name string
	// Kind decides its physical lower bound.
	Kind bounds.Kind
	// Spans returns, for a client of region, the spans whose first ranges
	// the operation touches (the coordinator first, for Commit2PC).
	Spans func(region string) []Span
	// Reads are the reads a read-write operation makes, one after the
	// other, before it commits: indexes into Spans (bounds.Input.Reads).
	Reads []int
}

// Workload is a kind of load. Its methods are safe for concurrent use.
type Workload interface {
	// Name is the workload's name ("kv", "bank", "marketplace").
	Name() string
	// Spans lists the key spans the workload uses, for placement.
	Spans(regions []string) []HomeSpan
	// Ops describes the operations, in report order.
	Ops() []OpSpec
	// Setup prepares the database (schema, initial data) through any
	// gateway. It runs once per cluster, before any client.
	Setup(ctx context.Context, env SetupEnv) error
	// NewClient returns a client of env.Region.
	NewClient(ctx context.Context, env ClientEnv) (Client, error)
}

// Verifier is an optional Workload capability: a check of the workload's
// invariants (e.g. the bank's total) after a run.
type Verifier interface {
	Verify(ctx context.Context, gw Gateway) error
}

// SetupEnv is given to Setup.
type SetupEnv struct {
	Regions []string
	Gateway Gateway
	Rand    *rand.Rand
}

// ClientEnv is given to NewClient.
type ClientEnv struct {
	Region string
	// Index numbers the clients of a region from 0.
	Index int
	// Rand is the client's own seeded source.
	Rand    *rand.Rand
	Gateway Gateway
}

// Client performs operations, one per Step, on one goroutine.
type Client interface {
	// Step performs one operation and returns its result; Op is set even
	// when err is not nil.
	Step(ctx context.Context) (Result, error)
	// Close releases what the client holds.
	Close() error
}

// Result is what one operation reports besides its latency.
type Result struct {
	Op string
	// Ledger is where a transaction's time went; nil if the operation has
	// none (plain KV operations).
	Ledger *txn.Ledger
}

// Gateway is a client's access to the database through one node of its
// region. Every call pays the region's client↔gateway round trip.
type Gateway interface {
	// Region is the client's region; Node the gateway node serving it now.
	Region() string
	Node() int
	// KV is the plain key-value API of the router.
	KV() KV
	// Txn returns the transaction API, or ErrNeedsTxnLayer.
	Txn() (txn.DB, error)
	// SQL returns a connection pool to the gateway, or ErrNeedsSQL.
	SQL() (*sql.DB, error)
}

// KV is the router's plain, linearizable key-value API.
type KV interface {
	Put(ctx context.Context, key, value []byte) (truetime.Timestamp, error)
	// Get reads at the leaseholder: it sees every acknowledged write.
	Get(ctx context.Context, key []byte) ([]byte, bool, error)
	// ReadAt reads key as of ts; with nearest, the nearest replica whose
	// safe time passed ts serves it (else the leaseholder).
	ReadAt(ctx context.Context, key []byte, ts truetime.Timestamp, nearest bool) ([]byte, bool, error)
	// Now is the gateway's TrueTime.
	Now() truetime.Interval
}

// Weighted is an operation's share of a mix.
type Weighted struct {
	Op     string
	Weight int
}

// ParseMix parses "write=3,read=1" against the known operation names.
func ParseMix(s string, known []string) ([]Weighted, error) {
	var out []Weighted
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		name, w, ok := strings.Cut(part, "=")
		weight := 1
		if ok {
			n, err := strconv.Atoi(w)
			if err != nil || n < 0 {
				return nil, fmt.Errorf("mix %q: weight of %s is %q; want a whole number ≥ 0", s, name, w)
			}
			weight = n
		}
		if !slices.Contains(known, name) {
			return nil, fmt.Errorf("mix %q: unknown operation %q (known: %s)", s, name, strings.Join(known, ", "))
		}
		if weight > 0 {
			out = append(out, Weighted{Op: name, Weight: weight})
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("mix %q has no operation with a weight", s)
	}
	return out, nil
}

// pick draws an operation from mix.
func pick(rng *rand.Rand, mix []Weighted) string {
	total := 0
	for _, w := range mix {
		total += w.Weight
	}
	r := rng.IntN(total)
	for _, w := range mix {
		if r < w.Weight {
			return w.Op
		}
		r -= w.Weight
	}
	return mix[len(mix)-1].Op
}

// Factory builds a workload from options.
type Factory func(Options) (Workload, error)

// Options configure the workloads (each reads its own part).
type Options struct {
	KV   KVOptions
	Bank BankOptions
}

var factories = map[string]Factory{
	"kv":          func(o Options) (Workload, error) { return NewKV(o.KV) },
	"bank":        func(o Options) (Workload, error) { return NewBank(o.Bank) },
	"marketplace": func(Options) (Workload, error) { return NewMarketplace(MarketplaceOptions{}), nil },
}

// Names lists the workloads New knows.
func Names() []string {
	out := make([]string, 0, len(factories))
	for n := range factories {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// New returns the named workload.
func New(name string, o Options) (Workload, error) {
	f, ok := factories[name]
	if !ok {
		return nil, fmt.Errorf("no workload %q (workloads: %s)", name, strings.Join(Names(), ", "))
	}
	return f(o)
}

// prefixEnd returns the first key after every key starting with p.
func prefixEnd(p []byte) []byte {
	end := append([]byte(nil), p...)
	for i := len(end) - 1; i >= 0; i-- {
		end[i]++
		if end[i] != 0 {
			return end[:i+1]
		}
	}
	panic(fmt.Sprintf("workload: prefix %q has no end", p))
}

// regionSpan returns the span of keys prefix + region + "/".
func regionSpan(prefix []byte, region string) Span {
	k := append(append(append([]byte(nil), prefix...), region...), '/')
	return Span{Key: k, EndKey: prefixEnd(k)}
}
