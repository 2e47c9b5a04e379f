package linear

import (
	"fmt"
	"io"
	"math"
	"slices"
	"time"

	"github.com/anishathalye/porcupine"

	"github.com/meridiandb/meridian/checker/anomaly"
	"github.com/meridiandb/meridian/checker/history"
)

// Options configures Check.
type Options struct {
	// Timeout bounds the search for each key; 0 means no limit.
	Timeout time.Duration
}

// Result is what Check found.
type Result struct {
	// Anomalies has one Nonlinearizable anomaly per violating key.
	Anomalies []anomaly.Anomaly
	// Unknown lists keys whose search timed out.
	Unknown []string
	// Keys is the number of keys checked.
	Keys int

	ops     map[history.Key][]porcupine.Operation
	keys    []history.Key
	bad     []history.Key
	timeout time.Duration
}

// input is one op's micro-ops on one key.
type input struct {
	mops []history.Mop
	info bool // outcome unknown: reads unchecked
}

// state is a register: nil, a value, or unknown (after an indeterminate
// write whose value the client never learned).
type state struct {
	isNil   bool
	unknown bool
	v       int64
}

var model = porcupine.Model{
	Init: func() any { return state{isNil: true} },
	Step: func(st, in, _ any) (bool, any) {
		s := st.(state)
		inp := in.(input)
		for _, m := range inp.mops {
			switch m.F {
			case history.Write:
				s = state{v: m.Value, unknown: m.Nil}
			case history.Read:
				if !inp.info && !s.unknown && (m.Nil != s.isNil || (!m.Nil && m.Value != s.v)) {
					return false, st
				}
			}
		}
		return true, s
	},
	DescribeOperation: func(in, _ any) string {
		inp := in.(input)
		s := history.FormatMops(inp.mops)
		if inp.info {
			s += " (info)"
		}
		return s
	},
	DescribeState: func(st any) string {
		s := st.(state)
		if s.isNil {
			return "nil"
		}
		if s.unknown {
			return "?"
		}
		return fmt.Sprint(s.v)
	},
}

// Check checks every key of h.
func Check(h *history.History, opts Options) *Result {
	r := &Result{ops: map[history.Key][]porcupine.Operation{}, timeout: opts.Timeout}
	clients := map[int64]int{}
	for i := range h.Ops {
		op := &h.Ops[i]
		if op.Type == history.Fail {
			continue
		}
		client, ok := clients[op.Process]
		if !ok {
			client = len(clients)
			clients[op.Process] = client
		}
		var byKey []history.Key
		for _, m := range op.Mops {
			if !slices.Contains(byKey, m.Key) {
				byKey = append(byKey, m.Key)
			}
		}
		for _, k := range byKey {
			in := input{info: op.Type == history.Info}
			for _, m := range op.Mops {
				if m.Key == k {
					in.mops = append(in.mops, m)
				}
			}
			ret := int64(math.MaxInt64)
			if op.Type == history.OK {
				ret = int64(op.CompleteEvent)
			}
			if _, seen := r.ops[k]; !seen {
				r.keys = append(r.keys, k)
			}
			r.ops[k] = append(r.ops[k], porcupine.Operation{
				ClientId: client, Input: in, Call: int64(op.InvokeEvent), Return: ret,
				Metadata: fmt.Sprintf("%s lines %d-%d", history.OpName(i), op.InvokeLine, op.CompleteLine),
			})
		}
	}
	r.Keys = len(r.keys)
	for _, k := range r.keys {
		switch porcupine.CheckOperationsTimeout(model, r.ops[k], opts.Timeout) {
		case porcupine.Illegal:
			r.bad = append(r.bad, k)
			a := anomaly.Anomaly{Type: anomaly.Nonlinearizable, Key: k.String(),
				Detail: fmt.Sprintf("porcupine finds no linearization of %s's operations (%d transactions); --html shows its longest partial linearizations", k, len(r.ops[k]))}
			r.Anomalies = append(r.Anomalies, a)
		case porcupine.Unknown:
			r.Unknown = append(r.Unknown, k.String())
		}
	}
	return r
}

// WriteHTML writes porcupine's visualization of the violating keys, or of
// every key when none violates.
func (r *Result) WriteHTML(w io.Writer) error {
	keys := r.bad
	if len(keys) == 0 {
		keys = r.keys
	}
	var all []porcupine.Operation
	var parts [][]porcupine.Operation
	for _, k := range keys {
		parts = append(parts, r.ops[k])
		all = append(all, r.ops[k]...)
	}
	m := model
	m.Partition = func([]porcupine.Operation) [][]porcupine.Operation { return parts }
	_, info := porcupine.CheckOperationsVerbose(m, all, r.timeout)
	return porcupine.Visualize(m, info, w)
}
