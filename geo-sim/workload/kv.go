package workload

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/meridiandb/meridian/geo-sim/bounds"
	"github.com/meridiandb/meridian/truetime"
	"github.com/meridiandb/meridian/txn"
)

// The kv workload's operations.
const (
	OpWrite        = "write"         // Put through the router: one range, commit-waited
	OpRead         = "read"          // Get at the leaseholder
	OpSnapshotRead = "snapshot-read" // read Staleness in the past at the nearest replica
	OpReadOnlyTxn  = "ro-txn"        // a read-only transaction reading one key (needs txn)
	OpTxnWrite     = "txn-write"     // a read-write transaction writing one key (needs txn)
)

// KVOps lists the kv workload's operation names.
var KVOps = []string{OpWrite, OpRead, OpSnapshotRead, OpReadOnlyTxn, OpTxnWrite}

// KVOptions configure the kv workload. Zero fields take the defaults.
type KVOptions struct {
	// Prefix of every key; the keys of region R are Prefix + R + "/" +
	// number. Default "\x20geosim/kv/".
	Prefix []byte
	// Keys per region. Default 1000.
	Keys int
	// ValueBytes per write. Default 32.
	ValueBytes int
	// Mix of operations. Default: writes only.
	Mix []Weighted
	// Staleness of snapshot reads. Default 1s.
	Staleness time.Duration
}

func (o KVOptions) withDefaults() KVOptions {
	if o.Prefix == nil {
		o.Prefix = []byte("\x20geosim/kv/")
	}
	if o.Keys == 0 {
		o.Keys = 1000
	}
	if o.ValueBytes == 0 {
		o.ValueBytes = 32
	}
	if o.Mix == nil {
		o.Mix = []Weighted{{Op: OpWrite, Weight: 1}}
	}
	if o.Staleness == 0 {
		o.Staleness = time.Second
	}
	return o
}

// KVWorkload writes and reads single keys of its region's span: plain
// router operations, or one-key transactions when the mix asks for them.
type KVWorkload struct {
	o KVOptions
}

// NewKV returns a kv workload.
func NewKV(o KVOptions) (*KVWorkload, error) {
	o = o.withDefaults()
	if o.Prefix[0] < 0x20 || o.Prefix[0] >= 0x74 {
		return nil, fmt.Errorf("kv workload: prefix %q must start in [0x20, 0x74)", o.Prefix)
	}
	for _, w := range o.Mix {
		if !slices.Contains(KVOps, w.Op) || w.Weight < 0 {
			return nil, fmt.Errorf("kv workload: bad mix entry %+v", w)
		}
	}
	return &KVWorkload{o: o}, nil
}

// Name implements Workload.
func (w *KVWorkload) Name() string { return "kv" }

// Span returns region's span.
func (w *KVWorkload) Span(region string) Span { return regionSpan(w.o.Prefix, region) }

// Spans implements Workload: one span per region, homed there.
func (w *KVWorkload) Spans(regions []string) []HomeSpan {
	var out []HomeSpan
	for _, r := range regions {
		out = append(out, HomeSpan{Span: w.Span(r), Home: r})
	}
	return out
}

// Ops implements Workload: the operations of the mix, in KVOps order.
func (w *KVWorkload) Ops() []OpSpec {
	kinds := map[string]bounds.Kind{OpWrite: bounds.Write, OpRead: bounds.LeaseholderRead,
		OpSnapshotRead: bounds.NearestRead, OpReadOnlyTxn: bounds.ReadOnly, OpTxnWrite: bounds.Write}
	spans := func(region string) []Span { return []Span{w.Span(region)} }
	var out []OpSpec
	for _, op := range KVOps {
		if slices.ContainsFunc(w.o.Mix, func(m Weighted) bool { return m.Op == op && m.Weight > 0 }) {
			out = append(out, OpSpec{Name: op, Kind: kinds[op], Spans: spans})
		}
	}
	return out
}

// needsTxn reports whether the mix has transactional operations.
func (w *KVWorkload) needsTxn() bool {
	return slices.ContainsFunc(w.o.Mix, func(m Weighted) bool {
		return m.Weight > 0 && (m.Op == OpReadOnlyTxn || m.Op == OpTxnWrite)
	})
}

// Setup implements Workload: nothing to prepare, but a mix with
// transactions fails early without the transaction layer.
func (w *KVWorkload) Setup(ctx context.Context, env SetupEnv) error {
	if w.needsTxn() {
		if _, err := env.Gateway.Txn(); err != nil {
			return fmt.Errorf("kv workload with %s/%s: %w", OpReadOnlyTxn, OpTxnWrite, err)
		}
	}
	return nil
}

// NewClient implements Workload.
func (w *KVWorkload) NewClient(ctx context.Context, env ClientEnv) (Client, error) {
	return &kvClient{w: w, env: env, span: w.Span(env.Region), value: make([]byte, w.o.ValueBytes)}, nil
}

type kvClient struct {
	w     *KVWorkload
	env   ClientEnv
	span  Span
	value []byte
}

func (c *kvClient) key() []byte {
	return fmt.Appendf(append([]byte(nil), c.span.Key...), "%08d", c.env.Rand.IntN(c.w.o.Keys))
}

// Step implements Client.
func (c *kvClient) Step(ctx context.Context) (Result, error) {
	op := pick(c.env.Rand, c.w.o.Mix)
	res := Result{Op: op}
	key := c.key()
	kv := c.env.Gateway.KV()
	switch op {
	case OpWrite:
		for i := range c.value {
			c.value[i] = byte('a' + c.env.Rand.IntN(26))
		}
		_, err := kv.Put(ctx, key, c.value)
		return res, err
	case OpRead:
		_, _, err := kv.Get(ctx, key)
		return res, err
	case OpSnapshotRead:
		ts := kv.Now().Earliest - truetime.Timestamp(c.w.o.Staleness)
		_, _, err := kv.ReadAt(ctx, key, ts, true)
		return res, err
	case OpReadOnlyTxn, OpTxnWrite:
		mode := txn.ReadOnly
		if op == OpTxnWrite {
			mode = txn.ReadWrite
		}
		l, err := c.oneKeyTxn(ctx, mode, key)
		res.Ledger = l
		return res, err
	}
	return res, fmt.Errorf("kv workload: unknown operation %q", op)
}

// oneKeyTxn reads key in a read-only transaction, or writes it in a
// read-write one.
func (c *kvClient) oneKeyTxn(ctx context.Context, mode txn.Mode, key []byte) (*txn.Ledger, error) {
	db, err := c.env.Gateway.Txn()
	if err != nil {
		return nil, err
	}
	tx, err := db.Begin(ctx, txn.Options{Mode: mode})
	if err != nil {
		return nil, err
	}
	if mode == txn.ReadOnly {
		_, _, err = tx.Get(ctx, key, txn.ReadOptions{})
	} else {
		err = tx.Put(ctx, key, c.value)
	}
	if err == nil {
		_, err = tx.Commit(ctx)
	}
	if err != nil {
		_ = tx.Rollback(ctx)
	}
	l := tx.Ledger()
	return &l, err
}

// Close implements Client.
func (c *kvClient) Close() error { return nil }
