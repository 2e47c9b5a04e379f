package workload

import (
	"math/rand/v2"

	"github.com/meridiandb/meridian/checker/history"
)

// Kind is a workload.
type Kind uint8

const (
	// ListAppend transactions append unique integers to lists and read them.
	ListAppend Kind = iota
	// Register transactions write unique integers to registers and read them.
	Register
	// Bank transactions move money between accounts or read every balance.
	Bank
)

func (k Kind) String() string {
	switch k {
	case ListAppend:
		return "list-append"
	case Register:
		return "rw-register"
	case Bank:
		return "bank"
	}
	return "unknown"
}

// Txn is one transaction for a client to run.
type Txn struct {
	// Mops is the invocation: reads are Nil; a bank transfer's writes are
	// Nil too, their values computed from its reads.
	Mops []history.Mop
	// Amount is set for bank transfers, whose Mops are
	// [r from, r to, w from, w to]: move Amount from one account to the other,
	// or abort (fail) if from holds less.
	Amount int64
}

// GenOptions shapes generated transactions. Zero values mean the defaults.
type GenOptions struct {
	// ActiveKeys is how many keys transactions choose from at a time
	// (list-append and rw-register). Default 8.
	ActiveKeys int
	// MaxTxnLen bounds micro-ops per transaction. Default 4.
	MaxTxnLen int
	// MaxWritesPerKey retires a key after this many writes, replacing it with
	// a fresh one, so lists stay short. Default 32.
	MaxWritesPerKey int
	// Accounts and Balance (per account) set up the bank. Defaults 5 and 100.
	Accounts int
	Balance  int64
	// MaxTransfer bounds a bank transfer's amount. Default 5.
	MaxTransfer int64
}

func (o GenOptions) withDefaults() GenOptions {
	if o.ActiveKeys == 0 {
		o.ActiveKeys = 8
	}
	if o.MaxTxnLen == 0 {
		o.MaxTxnLen = 4
	}
	if o.MaxWritesPerKey == 0 {
		o.MaxWritesPerKey = 32
	}
	if o.Accounts == 0 {
		o.Accounts = 5
	}
	if o.Balance == 0 {
		o.Balance = 100
	}
	if o.MaxTransfer == 0 {
		o.MaxTransfer = 5
	}
	return o
}

// Generator produces transactions. It is not safe for concurrent use.
type Generator interface {
	Next() Txn
}

// NewGenerator returns a generator of kind k drawing from r.
func NewGenerator(k Kind, r *rand.Rand, o GenOptions) Generator {
	o = o.withDefaults()
	switch k {
	case Bank:
		return &bankGen{r: r, o: o}
	default:
		g := &keyGen{r: r, o: o, write: history.Append, written: map[int64]int{}}
		if k == Register {
			g.write = history.Write
		}
		for range o.ActiveKeys {
			g.active = append(g.active, g.nextKey)
			g.nextKey++
		}
		return g
	}
}

// keyGen generates list-append or rw-register transactions in the style of
// Elle's generators: random reads and writes over a pool of active keys,
// each write a fresh value for its key, keys retired after enough writes.
type keyGen struct {
	r       *rand.Rand
	o       GenOptions
	write   history.Func
	active  []int64
	nextKey int64
	written map[int64]int // key -> writes so far (the last value written)
}

func (g *keyGen) Next() Txn {
	n := 1 + g.r.IntN(g.o.MaxTxnLen)
	mops := make([]history.Mop, 0, n)
	for range n {
		i := g.r.IntN(len(g.active))
		k := g.active[i]
		if g.r.IntN(2) == 0 {
			mops = append(mops, history.Mop{F: history.Read, Key: history.IntKey(k), Nil: true})
			continue
		}
		g.written[k]++
		mops = append(mops, history.Mop{F: g.write, Key: history.IntKey(k), Value: int64(g.written[k])})
		if g.written[k] >= g.o.MaxWritesPerKey {
			delete(g.written, k)
			g.active[i] = g.nextKey
			g.nextKey++
		}
	}
	return Txn{Mops: mops}
}

// bankGen's first transaction sets up the accounts; then half the
// transactions read every balance and half transfer.
type bankGen struct {
	r     *rand.Rand
	o     GenOptions
	setup bool
}

func (g *bankGen) Next() Txn {
	n := g.o.Accounts
	if !g.setup {
		g.setup = true
		mops := make([]history.Mop, n)
		for i := range mops {
			mops[i] = history.Mop{F: history.Write, Key: history.IntKey(int64(i)), Value: g.o.Balance}
		}
		return Txn{Mops: mops}
	}
	if g.r.IntN(2) == 0 {
		mops := make([]history.Mop, n)
		for i := range mops {
			mops[i] = history.Mop{F: history.Read, Key: history.IntKey(int64(i)), Nil: true}
		}
		return Txn{Mops: mops}
	}
	from := int64(g.r.IntN(n))
	to := int64(g.r.IntN(n - 1))
	if to >= from {
		to++
	}
	return Txn{
		Amount: 1 + g.r.Int64N(g.o.MaxTransfer),
		Mops: []history.Mop{
			{F: history.Read, Key: history.IntKey(from), Nil: true},
			{F: history.Read, Key: history.IntKey(to), Nil: true},
			{F: history.Write, Key: history.IntKey(from), Nil: true},
			{F: history.Write, Key: history.IntKey(to), Nil: true},
		},
	}
}
