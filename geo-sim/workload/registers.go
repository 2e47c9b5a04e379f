package workload

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/meridiandb/meridian/checker/history"
	"github.com/meridiandb/meridian/geo-sim/bounds"
)

// OpRegisterWrite is the registers workload's only operation.
const OpRegisterWrite = "register-write"

// Registers writes unique integers to a few keys with plain Puts and
// records every write, with its commit timestamp, as an rw-register
// history the checker reads (checker.Check). Each client writes its keys
// in turn, one after the other, so consecutive writes are ordered in real
// time: if a leaseholder's clock lies, a later write can get a lower
// timestamp, which the checker reports.
//
// Its spans are one per home region given to NewRegisters (so a placement
// can put each key's lease in a chosen region); each span holds one key.
type Registers struct {
	prefix []byte
	homes  []string
	hist   *history.Writer
	next   atomic.Int64 // the last value written, for uniqueness

	mu    sync.Mutex
	procs int64 // process ids handed out
}

// NewRegisters returns a registers workload with one key homed in each of
// homes, recording to hist.
func NewRegisters(prefix []byte, homes []string, hist *history.Writer) *Registers {
	return &Registers{prefix: prefix, homes: homes, hist: hist}
}

// Name implements Workload.
func (r *Registers) Name() string { return "registers" }

func (r *Registers) key(i int) []byte {
	return fmt.Appendf(regionSpan(r.prefix, r.homes[i]).Key, "reg")
}

// Spans implements Workload: one span per home.
func (r *Registers) Spans([]string) []HomeSpan {
	var out []HomeSpan
	for _, h := range r.homes {
		out = append(out, HomeSpan{Span: regionSpan(r.prefix, h), Home: h})
	}
	return out
}

// Ops implements Workload. The bound is that of a write to the first key.
func (r *Registers) Ops() []OpSpec {
	return []OpSpec{{Name: OpRegisterWrite, Kind: bounds.Write, Spans: func(string) []Span {
		return []Span{regionSpan(r.prefix, r.homes[0])}
	}}}
}

// Setup implements Workload.
func (r *Registers) Setup(context.Context, SetupEnv) error { return nil }

func (r *Registers) process() int64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.procs++
	return r.procs
}

// NewClient implements Workload.
func (r *Registers) NewClient(_ context.Context, env ClientEnv) (Client, error) {
	return &registerClient{r: r, env: env, proc: r.process(), turn: env.Index % len(r.homes)}, nil
}

type registerClient struct {
	r    *Registers
	env  ClientEnv
	proc int64
	turn int
}

func (c *registerClient) Close() error { return nil }

// Step implements Client: the next key in turn gets a fresh value.
func (c *registerClient) Step(ctx context.Context) (Result, error) {
	i := c.turn
	c.turn = (c.turn + 1) % len(c.r.homes)
	key := c.r.key(i)
	v := c.r.next.Add(1)
	mops := []history.Mop{{F: history.Write, Key: history.StrKey(string(key)), Value: v}}
	c.r.hist.Invoke(c.proc, mops)
	ts, err := c.env.Gateway.KV().Put(ctx, key, fmt.Appendf(nil, "%d", v))
	if err != nil {
		// The write may or may not have happened; this process is done
		// (a history's process issues nothing after info).
		c.r.hist.Complete(history.Info, c.proc, mops, 0, false)
		c.proc = c.r.process()
		return Result{Op: OpRegisterWrite}, err
	}
	c.r.hist.Complete(history.OK, c.proc, mops, int64(ts), true)
	return Result{Op: OpRegisterWrite}, nil
}
