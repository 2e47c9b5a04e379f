package sim

import (
	"math/rand/v2"
	"slices"

	"github.com/meridiandb/meridian/checker/history"
	"github.com/meridiandb/meridian/checker/workload"
)

// Config describes one simulated run.
type Config struct {
	Kind      workload.Kind
	Processes int
	Txns      int
	Rand      *rand.Rand
	Gen       workload.GenOptions
	// FailProb is the chance that a transaction aborts without effect;
	// InfoProb the chance that its outcome is reported as unknown (it then
	// took effect or not, at random).
	FailProb, InfoProb float64
	// CommitTS records each committed transaction's commit timestamp: the
	// instant it took effect.
	CommitTS bool
	// WriteSkewAt, if positive, injects a fault after that many transactions
	// were invoked: two concurrent transactions on two extra processes read
	// two keys from one snapshot and each writes the key the other did not
	// (a write skew, which snapshot isolation allows).
	WriteSkewAt int
}

// db is the serial database.
type db struct {
	lists map[int64][]int64
	regs  map[int64]int64
}

func (d *db) key(m history.Mop) int64 { return m.Key.Int }

// read returns m completed by a read of the current state.
func (d *db) read(m history.Mop, kind workload.Kind) history.Mop {
	k := d.key(m)
	if kind == workload.ListAppend {
		if l, ok := d.lists[k]; ok {
			m.Nil, m.List = false, slices.Clone(l)
		}
		return m
	}
	if v, ok := d.regs[k]; ok {
		m.Nil, m.Value = false, v
	}
	return m
}

func (d *db) write(m history.Mop) {
	k := d.key(m)
	if m.F == history.Append {
		d.lists[k] = append(d.lists[k], m.Value)
	} else {
		d.regs[k] = m.Value
	}
}

// apply runs t atomically; ok is false when a bank transfer lacks funds.
func (d *db) apply(t workload.Txn, kind workload.Kind) ([]history.Mop, bool) {
	out := slices.Clone(t.Mops)
	if t.Amount > 0 {
		from, to := d.read(out[0], kind), d.read(out[1], kind)
		if from.Value < t.Amount {
			return out, false
		}
		out[0], out[1] = from, to
		out[2].Nil, out[2].Value = false, from.Value-t.Amount
		out[3].Nil, out[3].Value = false, to.Value+t.Amount
		d.write(out[2])
		d.write(out[3])
		return out, true
	}
	for i, m := range out {
		if m.F == history.Read {
			out[i] = d.read(m, kind)
		} else {
			d.write(m)
		}
	}
	return out, true
}

type phase uint8

const (
	idle phase = iota
	invoked
	executed
)

type proc struct {
	id     int64
	phase  phase
	txn    workload.Txn
	result []history.Mop
	ok     bool
	ts     int64
}

// Run simulates cfg and returns the events in real-time order.
func Run(cfg Config) []history.Event {
	r := cfg.Rand
	gen := workload.NewGenerator(cfg.Kind, r, cfg.Gen)
	d := &db{lists: map[int64][]int64{}, regs: map[int64]int64{}}
	now := int64(1_700_000_000_000_000_000)
	tick := func() int64 { now += 1 + r.Int64N(1000); return now }
	var events []history.Event
	emit := func(e history.Event) { e.Time = tick(); events = append(events, e) }

	procs := make([]proc, cfg.Processes)
	for i := range procs {
		procs[i].id = int64(i)
	}
	issued, busy := 0, 0
	if cfg.Kind == workload.Bank {
		// The setup runs alone, before anything else.
		t := gen.Next()
		emit(history.Event{Type: history.Invoke, Process: 0, Value: t.Mops})
		out, _ := d.apply(t, cfg.Kind)
		ts := tick()
		emit(history.Event{Type: history.OK, Process: 0, Value: out, CommitTS: ts, HasCommitTS: cfg.CommitTS})
		issued++
	}
	for issued < cfg.Txns || busy > 0 {
		if cfg.WriteSkewAt > 0 && issued == cfg.WriteSkewAt && cfg.Kind != workload.Bank {
			writeSkew(cfg, d, int64(cfg.Processes)*1_000_000, emit, tick)
			issued++
			continue
		}
		p := &procs[r.IntN(len(procs))]
		switch p.phase {
		case idle:
			if issued >= cfg.Txns {
				continue
			}
			p.txn = gen.Next()
			emit(history.Event{Type: history.Invoke, Process: p.id, Value: p.txn.Mops})
			p.phase = invoked
			issued++
			busy++
		case invoked:
			switch x := r.Float64(); {
			case x < cfg.FailProb:
				emit(history.Event{Type: history.Fail, Process: p.id})
				p.phase = idle
				busy--
			case x < cfg.FailProb+cfg.InfoProb/2:
				emit(history.Event{Type: history.Info, Process: p.id}) // never took effect
				p.phase = idle
				p.id += int64(cfg.Processes)
				busy--
			default:
				p.result, p.ok = d.apply(p.txn, cfg.Kind)
				p.ts = tick()
				p.phase = executed
			}
		case executed:
			switch {
			case !p.ok:
				emit(history.Event{Type: history.Fail, Process: p.id})
			case r.Float64() < cfg.InfoProb/2:
				emit(history.Event{Type: history.Info, Process: p.id}) // took effect
				p.id += int64(cfg.Processes)
			default:
				emit(history.Event{Type: history.OK, Process: p.id, Value: p.result, CommitTS: p.ts, HasCommitTS: cfg.CommitTS})
			}
			p.phase = idle
			busy--
		}
	}
	return events
}

// writeSkew emits two concurrent transactions that read keys a and b from one
// snapshot and write b and a respectively, then applies both writes.
func writeSkew(cfg Config, d *db, proc int64, emit func(history.Event), tick func() int64) {
	var keys []int64
	if cfg.Kind == workload.ListAppend {
		for k := range d.lists {
			keys = append(keys, k)
		}
	} else {
		for k := range d.regs {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	a, b := int64(-1), int64(-2) // fresh keys: a phantom (G2)
	if len(keys) >= 2 {
		i := cfg.Rand.IntN(len(keys) - 1)
		a, b = keys[i], keys[i+1] // existing keys: G2-item
	}
	f := history.Write
	if cfg.Kind == workload.ListAppend {
		f = history.Append
	}
	mk := func(w int64) []history.Mop {
		return []history.Mop{
			{F: history.Read, Key: history.IntKey(a), Nil: true},
			{F: history.Read, Key: history.IntKey(b), Nil: true},
			{F: f, Key: history.IntKey(w), Value: -1 - proc}, // negative: unique, generators write positive values
		}
	}
	t1, t2 := mk(b), mk(a)
	emit(history.Event{Type: history.Invoke, Process: proc, Value: t1})
	emit(history.Event{Type: history.Invoke, Process: proc + 1, Value: t2})
	for _, t := range [][]history.Mop{t1, t2} {
		t[0], t[1] = d.read(t[0], cfg.Kind), d.read(t[1], cfg.Kind)
	}
	ts1, ts2 := tick(), tick()
	d.write(t1[2])
	d.write(t2[2])
	emit(history.Event{Type: history.OK, Process: proc, Value: t1, CommitTS: ts1, HasCommitTS: cfg.CommitTS})
	emit(history.Event{Type: history.OK, Process: proc + 1, Value: t2, CommitTS: ts2, HasCommitTS: cfg.CommitTS})
}

// Encode returns events as a history file.
func Encode(events []history.Event) []byte {
	var buf []byte
	for _, e := range events {
		buf = history.AppendEvent(buf, e)
	}
	return buf
}
