package history

import (
	"cmp"
	"fmt"
	"strconv"
	"strings"
)

// Type is the type of an event, and of a transaction's outcome.
type Type uint8

const (
	// Invoke starts a transaction.
	Invoke Type = iota
	// OK: the transaction committed.
	OK
	// Fail: the transaction definitely did not commit.
	Fail
	// Info: the outcome is unknown.
	Info
)

func (t Type) String() string {
	switch t {
	case Invoke:
		return "invoke"
	case OK:
		return "ok"
	case Fail:
		return "fail"
	case Info:
		return "info"
	}
	return fmt.Sprintf("Type(%d)", uint8(t))
}

// Func is the function of a micro-operation.
type Func uint8

const (
	// Append appends Value to the list at Key.
	Append Func = iota + 1
	// Write sets the register at Key to Value.
	Write
	// Read reads Key: into List (list-append) or Value (rw-register).
	Read
)

func (f Func) String() string {
	switch f {
	case Append:
		return "append"
	case Write:
		return "w"
	case Read:
		return "r"
	}
	return fmt.Sprintf("Func(%d)", uint8(f))
}

// Workload names the kind of micro-operations a history uses.
type Workload uint8

const (
	// UnknownWorkload: the history has no writes and no non-null reads.
	UnknownWorkload Workload = iota
	// ListAppend: append and list reads.
	ListAppend
	// Register: writes and integer reads.
	Register
)

func (w Workload) String() string {
	switch w {
	case ListAppend:
		return "list-append"
	case Register:
		return "rw-register"
	}
	return "unknown"
}

// Key is a string or integer key. Keys of different kinds never compare equal.
type Key struct {
	Str   string
	Int   int64
	IsInt bool
}

// IntKey returns the integer key i.
func IntKey(i int64) Key { return Key{Int: i, IsInt: true} }

// StrKey returns the string key s.
func StrKey(s string) Key { return Key{Str: s} }

func (k Key) String() string {
	if k.IsInt {
		return strconv.FormatInt(k.Int, 10)
	}
	return k.Str
}

// MarshalJSON encodes the key as a JSON string or number.
func (k Key) MarshalJSON() ([]byte, error) {
	if k.IsInt {
		return strconv.AppendInt(nil, k.Int, 10), nil
	}
	return strconv.AppendQuote(nil, k.Str), nil
}

// Mop is a micro-operation of a transaction.
//
// For Append and Write, Value is the value written (Nil: not known yet, in an
// invocation). For Read, Nil means the read returned null (or has not
// happened yet); otherwise a list read's result is List and a register
// read's is Value.
type Mop struct {
	F     Func
	Key   Key
	Value int64
	Nil   bool
	List  []int64
}

// IsListRead reports whether m is a read with a list result.
func (m Mop) IsListRead() bool { return m.F == Read && !m.Nil && m.List != nil }

func (m Mop) String() string {
	var b strings.Builder
	b.WriteString(m.F.String())
	b.WriteByte(' ')
	b.WriteString(m.Key.String())
	b.WriteByte(' ')
	switch {
	case m.Nil:
		b.WriteString("nil")
	case m.List != nil:
		b.WriteString(FormatList(m.List))
	default:
		b.WriteString(strconv.FormatInt(m.Value, 10))
	}
	return b.String()
}

// FormatList formats a list read as [1 2 3].
func FormatList(l []int64) string {
	var b strings.Builder
	b.WriteByte('[')
	for i, v := range l {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(strconv.FormatInt(v, 10))
	}
	b.WriteByte(']')
	return b.String()
}

// FormatMops formats a transaction's micro-ops as [append x 1, r y [1 2]].
func FormatMops(mops []Mop) string {
	parts := make([]string, len(mops))
	for i, m := range mops {
		parts[i] = m.String()
	}
	return "[" + strings.Join(parts, ", ") + "]"
}

// Op is one transaction: an invocation and its completion.
type Op struct {
	// Index is the position of the op in History.Ops, which is invocation order.
	Index   int
	Process int64
	// Type is OK, Fail or Info. An invocation that never completed is Info
	// with CompleteLine 0.
	Type Type
	// Mops are the completion's micro-ops for OK, the invocation's otherwise
	// (or the completion's when a fail or info event carries a value).
	Mops []Mop

	InvokeTime, CompleteTime int64
	// InvokeLine and CompleteLine are 1-based line numbers in the input.
	InvokeLine, CompleteLine int
	// InvokeEvent and CompleteEvent are 0-based positions in History.Events;
	// CompleteEvent is -1 when the op never completed.
	InvokeEvent, CompleteEvent int

	CommitTS    int64
	HasCommitTS bool
}

// Completed reports whether the op has a completion event.
func (o *Op) Completed() bool { return o.CompleteEvent >= 0 }

// ReadOnly reports whether the op writes nothing.
func (o *Op) ReadOnly() bool {
	for _, m := range o.Mops {
		if m.F != Read {
			return false
		}
	}
	return true
}

// Overwritten reports whether the op writes (appends or w) the key of its
// j-th micro-op again after it: the j-th write is then intermediate, never
// visible to other transactions.
func (o *Op) Overwritten(j int) bool {
	k := o.Mops[j].Key
	for _, m := range o.Mops[j+1:] {
		if m.F != Read && m.Key == k {
			return true
		}
	}
	return false
}

// Compare orders keys: integers (numerically) before strings.
func (k Key) Compare(o Key) int {
	switch {
	case k.IsInt != o.IsInt:
		if k.IsInt {
			return -1
		}
		return 1
	case k.IsInt:
		return cmp.Compare(k.Int, o.Int)
	}
	return strings.Compare(k.Str, o.Str)
}

// EventRef names one event of a history: an op's invocation or completion.
type EventRef struct {
	Op       int32
	Complete bool
}

// History is a parsed history.
type History struct {
	Workload Workload
	// Ops in invocation order.
	Ops []Op
	// Events in file order (which is real-time order).
	Events []EventRef
}

// Counts returns the number of ops of each outcome.
func (h *History) Counts() (ok, fail, info int) {
	for i := range h.Ops {
		switch h.Ops[i].Type {
		case OK:
			ok++
		case Fail:
			fail++
		case Info:
			info++
		}
	}
	return ok, fail, info
}

// Error is a problem with the input that makes a history unusable. Line is
// 1-based, or 0 when the problem is not tied to one line.
type Error struct {
	Line int
	Msg  string
}

func (e *Error) Error() string {
	if e.Line == 0 {
		return e.Msg
	}
	return fmt.Sprintf("line %d: %s", e.Line, e.Msg)
}

// Errorf returns an *Error for line.
func Errorf(line int, format string, args ...any) error {
	return &Error{Line: line, Msg: fmt.Sprintf(format, args...)}
}

// OpName is how reports name the op at index i: T1 is the first invoked.
func OpName(i int) string { return "T" + strconv.Itoa(i+1) }
