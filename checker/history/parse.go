package history

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
)

// rawEvent is one line as decoded by encoding/json; pointers detect absence.
type rawEvent struct {
	Type     *string           `json:"type"`
	Process  *int64            `json:"process"`
	Time     *int64            `json:"time"`
	Value    []json.RawMessage `json:"value"`
	CommitTS *int64            `json:"commit_ts"`
}

type parser struct {
	h         *History
	line      int
	lastTime  int64
	open      map[int64]int32 // process -> outstanding op
	retired   map[int64]int   // process -> line of its info event
	workLine  int
	workload  Workload
	workErr   error
	haveEvent bool
}

// Parse reads a history. Any malformed or inconsistent line makes the whole
// history unusable: the error is an *Error naming the line.
func Parse(r io.Reader) (*History, error) {
	p := &parser{
		h:       &History{},
		open:    make(map[int64]int32),
		retired: make(map[int64]int),
	}
	br := bufio.NewReaderSize(r, 1<<20)
	for {
		line, err := br.ReadBytes('\n')
		if len(line) > 0 {
			p.line++
			if perr := p.parseLine(line); perr != nil {
				return nil, perr
			}
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("reading history after line %d: %w", p.line, err)
		}
	}
	if !p.haveEvent {
		return nil, &Error{Msg: "history has no events"}
	}
	// Invocations never completed have an unknown outcome.
	for _, idx := range p.open {
		p.h.Ops[idx].Type = Info
	}
	p.h.Workload = p.workload
	return p.h, nil
}

func (p *parser) parseLine(line []byte) error {
	line = bytes.TrimSpace(line)
	if len(line) == 0 {
		return nil
	}
	var ev rawEvent
	if err := json.Unmarshal(line, &ev); err != nil {
		var se *json.SyntaxError
		if errors.As(err, &se) {
			return Errorf(p.line, "malformed JSON at byte %d: %v", se.Offset, err)
		}
		return Errorf(p.line, "%v", err)
	}
	if ev.Type == nil {
		return Errorf(p.line, `missing "type"`)
	}
	if ev.Process == nil {
		return Errorf(p.line, `missing "process"`)
	}
	if ev.Time == nil {
		return Errorf(p.line, `missing "time"`)
	}
	var typ Type
	switch *ev.Type {
	case "invoke":
		typ = Invoke
	case "ok":
		typ = OK
	case "fail":
		typ = Fail
	case "info":
		typ = Info
	default:
		return Errorf(p.line, "unknown type %q (want invoke, ok, fail or info)", *ev.Type)
	}
	if p.haveEvent && *ev.Time < p.lastTime {
		return Errorf(p.line, "time %d is before the previous line's %d: events must be in real-time order", *ev.Time, p.lastTime)
	}
	p.haveEvent = true
	p.lastTime = *ev.Time
	if ev.CommitTS != nil && typ != OK {
		return Errorf(p.line, "commit_ts on a %s event (only ok events carry one)", typ)
	}
	var mops []Mop
	if ev.Value != nil {
		var err error
		if mops, err = p.parseMops(ev.Value, typ); err != nil {
			return err
		}
	}
	proc := *ev.Process
	evIdx := len(p.h.Events)
	if typ == Invoke {
		if l, ok := p.retired[proc]; ok {
			return Errorf(p.line, "process %d invokes after its info event on line %d", proc, l)
		}
		if idx, ok := p.open[proc]; ok {
			return Errorf(p.line, "process %d invokes while its transaction from line %d is outstanding", proc, p.h.Ops[idx].InvokeLine)
		}
		if ev.Value == nil {
			return Errorf(p.line, `invoke without "value"`)
		}
		idx := int32(len(p.h.Ops))
		p.h.Ops = append(p.h.Ops, Op{
			Index: int(idx), Process: proc, Type: Info, Mops: mops,
			InvokeTime: *ev.Time, InvokeLine: p.line, InvokeEvent: evIdx, CompleteEvent: -1,
		})
		p.open[proc] = idx
		p.h.Events = append(p.h.Events, EventRef{Op: idx})
		return nil
	}
	idx, ok := p.open[proc]
	if !ok {
		return Errorf(p.line, "%s for process %d, which has no outstanding invocation", typ, proc)
	}
	op := &p.h.Ops[idx]
	if typ == OK && ev.Value == nil {
		return Errorf(p.line, `ok without "value"`)
	}
	if ev.Value != nil {
		if err := p.matchInvocation(op, mops, typ); err != nil {
			return err
		}
		op.Mops = mops
	}
	op.Type = typ
	op.CompleteTime = *ev.Time
	op.CompleteLine = p.line
	op.CompleteEvent = evIdx
	if ev.CommitTS != nil {
		op.CommitTS, op.HasCommitTS = *ev.CommitTS, true
	}
	delete(p.open, proc)
	if typ == Info {
		p.retired[proc] = p.line
	}
	p.h.Events = append(p.h.Events, EventRef{Op: idx, Complete: true})
	return nil
}

// matchInvocation checks that a completion repeats its invocation's micro-ops.
func (p *parser) matchInvocation(op *Op, mops []Mop, typ Type) error {
	if len(mops) != len(op.Mops) {
		return Errorf(p.line, "%s has %d micro-ops but its invocation on line %d has %d", typ, len(mops), op.InvokeLine, len(op.Mops))
	}
	for i, m := range mops {
		inv := op.Mops[i]
		if m.F != inv.F || m.Key != inv.Key {
			return Errorf(p.line, "micro-op %d is %s %s but the invocation on line %d has %s %s", i, m.F, m.Key, op.InvokeLine, inv.F, inv.Key)
		}
		if m.F != Read && !inv.Nil && (m.Nil || m.Value != inv.Value) {
			return Errorf(p.line, "micro-op %d writes %s but the invocation on line %d wrote %s", i, m, op.InvokeLine, inv)
		}
		if m.F != Read && m.Nil && typ == OK {
			return Errorf(p.line, "micro-op %d: ok leaves the written value null", i)
		}
	}
	return nil
}

func (p *parser) parseMops(raw []json.RawMessage, typ Type) ([]Mop, error) {
	mops := make([]Mop, len(raw))
	for i, r := range raw {
		var parts []json.RawMessage
		if err := json.Unmarshal(r, &parts); err != nil || len(parts) != 3 {
			return nil, Errorf(p.line, "micro-op %d: want [f, key, value], got %s", i, r)
		}
		var f string
		if err := json.Unmarshal(parts[0], &f); err != nil {
			return nil, Errorf(p.line, "micro-op %d: function %s is not a string", i, parts[0])
		}
		m := &mops[i]
		switch f {
		case "append":
			m.F = Append
		case "w":
			m.F = Write
		case "r":
			m.F = Read
		default:
			return nil, Errorf(p.line, "micro-op %d: unknown function %q (want append, w or r)", i, f)
		}
		k, err := parseKey(parts[1])
		if err != nil {
			return nil, Errorf(p.line, "micro-op %d: %v", i, err)
		}
		m.Key = k
		if err := p.parseValue(m, parts[2], typ, i); err != nil {
			return nil, err
		}
	}
	return mops, nil
}

func parseKey(raw json.RawMessage) (Key, error) {
	if len(raw) > 0 && raw[0] == '"' {
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return Key{}, fmt.Errorf("bad key %s", raw)
		}
		return StrKey(s), nil
	}
	i, err := strconv.ParseInt(string(raw), 10, 64)
	if err != nil {
		return Key{}, fmt.Errorf("key %s is neither a string nor an integer", raw)
	}
	return IntKey(i), nil
}

func (p *parser) parseValue(m *Mop, raw json.RawMessage, typ Type, i int) error {
	isNull := string(raw) == "null"
	switch m.F {
	case Append, Write:
		if m.F == Append {
			p.noteWorkload(ListAppend, i)
		} else {
			p.noteWorkload(Register, i)
		}
		if isNull {
			if m.F == Append {
				return Errorf(p.line, "micro-op %d: append of null", i)
			}
			m.Nil = true
			return nil
		}
		v, err := strconv.ParseInt(string(raw), 10, 64)
		if err != nil {
			return Errorf(p.line, "micro-op %d: written value %s is not an integer", i, raw)
		}
		m.Value = v
	case Read:
		if isNull {
			m.Nil = true
			return nil
		}
		if typ == Invoke {
			// Reads have not happened yet; their value means nothing.
			m.Nil = true
			return nil
		}
		if len(raw) > 0 && raw[0] == '[' {
			var l []int64
			if err := json.Unmarshal(raw, &l); err != nil {
				return Errorf(p.line, "micro-op %d: read value %s is not a list of integers", i, raw)
			}
			if l == nil {
				l = []int64{}
			}
			m.List = l
			p.noteWorkload(ListAppend, i)
			return nil
		}
		v, err := strconv.ParseInt(string(raw), 10, 64)
		if err != nil {
			return Errorf(p.line, "micro-op %d: read value %s is neither null, an integer nor a list of integers", i, raw)
		}
		m.Value = v
		p.noteWorkload(Register, i)
	}
	return p.workErr
}

// noteWorkload records the workload a micro-op implies and remembers a
// conflict as an error for the caller to return.
func (p *parser) noteWorkload(w Workload, i int) {
	if p.workErr != nil {
		return
	}
	if p.workload == UnknownWorkload {
		p.workload, p.workLine = w, p.line
		return
	}
	if p.workload != w {
		p.workErr = Errorf(p.line, "micro-op %d is %s but line %d made this a %s history; a history uses one workload", i, w, p.workLine, p.workload)
	}
}
