package history

import (
	"bufio"
	"io"
	"strconv"
	"sync"
)

// Event is one line of a history, as a Writer encodes it.
type Event struct {
	Type    Type
	Process int64
	Time    int64
	// Value is the transaction's micro-ops; nil is encoded as an absent value
	// (allowed for fail and info).
	Value []Mop
	// CommitTS is encoded when HasCommitTS (ok only).
	CommitTS    int64
	HasCommitTS bool
}

// AppendEvent appends the JSON line for e (with its newline) to buf.
func AppendEvent(buf []byte, e Event) []byte {
	buf = append(buf, `{"type":"`...)
	buf = append(buf, e.Type.String()...)
	buf = append(buf, `","process":`...)
	buf = strconv.AppendInt(buf, e.Process, 10)
	buf = append(buf, `,"time":`...)
	buf = strconv.AppendInt(buf, e.Time, 10)
	if e.Value != nil {
		buf = append(buf, `,"value":`...)
		buf = AppendMops(buf, e.Value)
	}
	if e.HasCommitTS {
		buf = append(buf, `,"commit_ts":`...)
		buf = strconv.AppendInt(buf, e.CommitTS, 10)
	}
	return append(buf, "}\n"...)
}

// AppendMops appends the JSON array of mops to buf.
func AppendMops(buf []byte, mops []Mop) []byte {
	buf = append(buf, '[')
	for i, m := range mops {
		if i > 0 {
			buf = append(buf, ',')
		}
		buf = appendMop(buf, m)
	}
	return append(buf, ']')
}

func appendMop(buf []byte, m Mop) []byte {
	buf = append(buf, `["`...)
	buf = append(buf, m.F.String()...)
	buf = append(buf, `",`...)
	if m.Key.IsInt {
		buf = strconv.AppendInt(buf, m.Key.Int, 10)
	} else {
		buf = strconv.AppendQuote(buf, m.Key.Str)
	}
	buf = append(buf, ',')
	switch {
	case m.Nil:
		buf = append(buf, "null"...)
	case m.List != nil:
		buf = append(buf, '[')
		for i, v := range m.List {
			if i > 0 {
				buf = append(buf, ',')
			}
			buf = strconv.AppendInt(buf, v, 10)
		}
		buf = append(buf, ']')
	default:
		buf = strconv.AppendInt(buf, m.Value, 10)
	}
	return append(buf, ']')
}

// Writer writes events to an io.Writer in history format. It is safe for
// concurrent use: each call reads the clock and writes its line under one
// mutex, so line order matches clock order.
type Writer struct {
	clock func() int64

	mu struct {
		sync.Mutex
		w   *bufio.Writer
		buf []byte
		err error
	}
}

// NewWriter returns a Writer stamping events with clock, which must be
// monotonic (nanoseconds). Call Flush when done.
func NewWriter(w io.Writer, clock func() int64) *Writer {
	hw := &Writer{clock: clock}
	hw.mu.w = bufio.NewWriter(w)
	return hw
}

// Invoke records the invocation of mops by process and returns its time.
func (w *Writer) Invoke(process int64, mops []Mop) int64 {
	return w.write(Event{Type: Invoke, Process: process, Value: mops})
}

// Complete records a completion (OK, Fail or Info). commitTS is recorded when
// hasTS is true and typ is OK.
func (w *Writer) Complete(typ Type, process int64, mops []Mop, commitTS int64, hasTS bool) int64 {
	return w.write(Event{Type: typ, Process: process, Value: mops, CommitTS: commitTS, HasCommitTS: hasTS && typ == OK})
}

func (w *Writer) write(e Event) int64 {
	w.mu.Lock()
	defer w.mu.Unlock()
	e.Time = w.clock()
	w.mu.buf = AppendEvent(w.mu.buf[:0], e)
	if _, err := w.mu.w.Write(w.mu.buf); err != nil && w.mu.err == nil {
		w.mu.err = err
	}
	return e.Time
}

// Flush flushes buffered lines and returns the first write error, if any.
func (w *Writer) Flush() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if err := w.mu.w.Flush(); err != nil && w.mu.err == nil {
		w.mu.err = err
	}
	return w.mu.err
}
