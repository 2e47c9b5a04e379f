package workload

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"

	"github.com/meridiandb/meridian/geo-sim/bounds"
	"github.com/meridiandb/meridian/txn"
)

// The bank workload's operations.
const (
	OpTransfer       = "transfer"        // between two accounts of the client's region: one range
	OpTransferRemote = "transfer-remote" // to an account of the next region: two ranges, 2PC
	OpAudit          = "audit"           // a read-only transaction summing every balance
)

// BankOps lists the bank workload's operation names.
var BankOps = []string{OpTransfer, OpTransferRemote, OpAudit}

// BankOptions configure the bank workload. Zero fields take the defaults.
type BankOptions struct {
	// Prefix of the account keys; region R's accounts are Prefix + R + "/"
	// + number. Default "\x20geosim/bank/".
	Prefix []byte
	// Accounts per region. Default 100.
	Accounts int
	// Initial balance of each account. Default 1000.
	Initial int64
	// Mix of operations. Default transfer=8, transfer-remote=1, audit=1.
	Mix []Weighted
	// MaxAttempts of a transaction aborted by a conflict. Default 10.
	MaxAttempts int
}

func (o BankOptions) withDefaults() BankOptions {
	if o.Prefix == nil {
		o.Prefix = []byte("\x20geosim/bank/")
	}
	if o.Accounts == 0 {
		o.Accounts = 100
	}
	if o.Initial == 0 {
		o.Initial = 1000
	}
	if o.Mix == nil {
		o.Mix = []Weighted{{OpTransfer, 8}, {OpTransferRemote, 1}, {OpAudit, 1}}
	}
	if o.MaxAttempts == 0 {
		o.MaxAttempts = 10
	}
	return o
}

// Bank moves money between accounts in transactions; the total never
// changes (Verify checks it). Every operation needs txn.DB.
type Bank struct {
	o BankOptions
	// regions is set by Spans, before clients start, and only read after.
	regions []string
}

// NewBank returns a bank workload.
func NewBank(o BankOptions) (*Bank, error) {
	o = o.withDefaults()
	for _, w := range o.Mix {
		if !slices.Contains(BankOps, w.Op) {
			return nil, fmt.Errorf("bank workload: unknown operation %q", w.Op)
		}
	}
	return &Bank{o: o}, nil
}

// Name implements Workload.
func (b *Bank) Name() string { return "bank" }

func (b *Bank) span(region string) Span { return regionSpan(b.o.Prefix, region) }

func (b *Bank) account(region string, i int) []byte {
	return fmt.Appendf(b.span(region).Key, "%06d", i)
}

// partner is the region whose accounts region's remote transfers credit.
func (b *Bank) partner(region string) string {
	i := slices.Index(b.regions, region)
	return b.regions[(i+1)%len(b.regions)]
}

// Spans implements Workload.
func (b *Bank) Spans(regions []string) []HomeSpan {
	b.regions = append([]string(nil), regions...)
	var out []HomeSpan
	for _, r := range regions {
		out = append(out, HomeSpan{Span: b.span(r), Home: r})
	}
	return out
}

// Ops implements Workload. Remote transfers need two regions.
func (b *Bank) Ops() []OpSpec {
	var out []OpSpec
	for _, w := range b.o.Mix {
		switch {
		case w.Weight == 0:
		case w.Op == OpTransfer:
			out = append(out, OpSpec{Name: w.Op, Kind: bounds.Write, Reads: []int{0, 0}, Spans: func(r string) []Span { return []Span{b.span(r)} }})
		case w.Op == OpTransferRemote && len(b.regions) > 1:
			out = append(out, OpSpec{Name: w.Op, Kind: bounds.Commit2PC, Reads: []int{0, 1}, Spans: func(r string) []Span {
				return []Span{b.span(r), b.span(b.partner(r))}
			}})
		case w.Op == OpAudit:
			out = append(out, OpSpec{Name: w.Op, Kind: bounds.ReadOnly, Spans: func(r string) []Span {
				spans := []Span{b.span(r)}
				for _, o := range b.regions {
					if o != r {
						spans = append(spans, b.span(o))
					}
				}
				return spans
			}})
		}
	}
	return out
}

// Setup implements Workload: it opens every account, one transaction per
// region.
func (b *Bank) Setup(ctx context.Context, env SetupEnv) error {
	db, err := env.Gateway.Txn()
	if err != nil {
		return fmt.Errorf("bank workload: %w", err)
	}
	for _, r := range env.Regions {
		err := b.retry(ctx, db, txn.Options{}, func(tx txn.Txn) error {
			for i := range b.o.Accounts {
				if err := tx.Put(ctx, b.account(r, i), []byte(strconv.FormatInt(b.o.Initial, 10))); err != nil {
					return err
				}
			}
			return nil
		}, nil)
		if err != nil {
			return fmt.Errorf("bank workload: opening the accounts of %s: %w", r, err)
		}
	}
	return nil
}

// retry runs fn in a transaction until it commits, fails for good or
// MaxAttempts conflicts; led (if not nil) receives the ledger, with the
// failed attempts added to Retries and RetryTime.
func (b *Bank) retry(ctx context.Context, db txn.DB, opts txn.Options, fn func(txn.Txn) error, led *txn.Ledger) error {
	var retries txn.Ledger
	for attempt := 1; ; attempt++ {
		tx, err := db.Begin(ctx, opts)
		if err != nil {
			return err
		}
		err = fn(tx)
		if err == nil {
			_, err = tx.Commit(ctx)
		}
		if err != nil {
			_ = tx.Rollback(ctx)
		}
		l := tx.Ledger()
		if err == nil || !txn.IsRetryable(err) || attempt >= b.o.MaxAttempts {
			if led != nil {
				*led = l
				led.Retries += retries.Retries
				led.RetryTime += retries.RetryTime
			}
			return err
		}
		retries.Retries += 1 + l.Retries
		retries.RetryTime += l.Total + l.RetryTime
	}
}

// NewClient implements Workload.
func (b *Bank) NewClient(ctx context.Context, env ClientEnv) (Client, error) {
	db, err := env.Gateway.Txn()
	if err != nil {
		return nil, fmt.Errorf("bank workload: %w", err)
	}
	return &bankClient{b: b, env: env, db: db}, nil
}

type bankClient struct {
	b   *Bank
	env ClientEnv
	db  txn.DB
}

func (c *bankClient) Close() error { return nil }

func balance(v []byte, found bool, key []byte) (int64, error) {
	if !found {
		return 0, fmt.Errorf("bank: account %q does not exist", key)
	}
	n, err := strconv.ParseInt(string(v), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("bank: account %q holds %q, not a balance", key, v)
	}
	return n, nil
}

// Step implements Client.
func (c *bankClient) Step(ctx context.Context) (Result, error) {
	b := c.b
	op := pick(c.env.Rand, b.o.Mix)
	if op == OpTransferRemote && len(b.regions) < 2 {
		op = OpTransfer
	}
	res := Result{Op: op, Ledger: &txn.Ledger{}}
	switch op {
	case OpAudit:
		_, err := b.total(ctx, c.db, res.Ledger)
		return res, err
	default:
		from := b.account(c.env.Region, c.env.Rand.IntN(b.o.Accounts))
		toRegion := c.env.Region
		if op == OpTransferRemote {
			toRegion = b.partner(c.env.Region)
		}
		to := b.account(toRegion, c.env.Rand.IntN(b.o.Accounts))
		if string(to) == string(from) {
			to = b.account(toRegion, (c.env.Rand.IntN(b.o.Accounts-1)+1+c.env.Rand.IntN(1))%b.o.Accounts)
		}
		amount := 1 + c.env.Rand.Int64N(10)
		err := b.retry(ctx, c.db, txn.Options{}, func(tx txn.Txn) error {
			v, found, err := tx.Get(ctx, from, txn.ReadOptions{ForUpdate: true})
			if err != nil {
				return err
			}
			fb, err := balance(v, found, from)
			if err != nil {
				return err
			}
			if v, found, err = tx.Get(ctx, to, txn.ReadOptions{ForUpdate: true}); err != nil {
				return err
			}
			tb, err := balance(v, found, to)
			if err != nil {
				return err
			}
			amt := min(amount, fb)
			if err := tx.Put(ctx, from, []byte(strconv.FormatInt(fb-amt, 10))); err != nil {
				return err
			}
			return tx.Put(ctx, to, []byte(strconv.FormatInt(tb+amt, 10)))
		}, res.Ledger)
		return res, err
	}
}

// total sums every balance in one read-only transaction.
func (b *Bank) total(ctx context.Context, db txn.DB, led *txn.Ledger) (int64, error) {
	var sum int64
	err := b.retry(ctx, db, txn.Options{Mode: txn.ReadOnly}, func(tx txn.Txn) error {
		sum = 0
		for _, r := range b.regions {
			sp := b.span(r)
			span := txn.Span{Key: sp.Key, EndKey: sp.EndKey}
			for {
				page, err := tx.Scan(ctx, span, txn.ScanOptions{})
				if err != nil {
					return err
				}
				for _, kv := range page.Rows {
					n, err := balance(kv.Value, true, kv.Key)
					if err != nil {
						return err
					}
					sum += n
				}
				if page.Resume == nil {
					break
				}
				span = *page.Resume
			}
		}
		return nil
	}, led)
	return sum, err
}

// ErrBankTotal reports money created or destroyed.
var ErrBankTotal = errors.New("bank: the total balance changed")

// Verify implements Verifier: the total is what the accounts opened with.
func (b *Bank) Verify(ctx context.Context, gw Gateway) error {
	db, err := gw.Txn()
	if err != nil {
		return err
	}
	sum, err := b.total(ctx, db, nil)
	if err != nil {
		return err
	}
	if want := int64(len(b.regions)*b.o.Accounts) * b.o.Initial; sum != want {
		return fmt.Errorf("%w: %d, want %d", ErrBankTotal, sum, want)
	}
	return nil
}
