package checker

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/cockroachdb/datadriven"

	"github.com/meridiandb/meridian/checker/history"
)

// compactToJSONL converts the test notation to a history file. Each line is
//
//	<type> <process> <f>:<key>[:<value>]... [ts=<commit_ts>]
//
// with value nil (or absent), an integer, or a list [1,2,3]; keys that parse
// as integers are integer keys. Times are 10 × the line number.
func compactToJSONL(t testing.TB, input string) []byte {
	var buf []byte
	for i, line := range strings.Split(strings.TrimSpace(input), "\n") {
		fields := strings.Fields(line)
		if len(fields) < 2 {
			t.Fatalf("line %d: want <type> <process> ...: %q", i+1, line)
		}
		ev := history.Event{Time: int64(10 * (i + 1))}
		switch fields[0] {
		case "invoke":
			ev.Type = history.Invoke
		case "ok":
			ev.Type = history.OK
		case "fail":
			ev.Type = history.Fail
		case "info":
			ev.Type = history.Info
		default:
			t.Fatalf("line %d: unknown type %q", i+1, fields[0])
		}
		p, err := strconv.ParseInt(fields[1], 10, 64)
		if err != nil {
			t.Fatalf("line %d: process: %v", i+1, err)
		}
		ev.Process = p
		ev.Value = []history.Mop{}
		for _, f := range fields[2:] {
			if ts, ok := strings.CutPrefix(f, "ts="); ok {
				ev.CommitTS, _ = strconv.ParseInt(ts, 10, 64)
				ev.HasCommitTS = true
				continue
			}
			ev.Value = append(ev.Value, parseCompactMop(t, i+1, f))
		}
		buf = history.AppendEvent(buf, ev)
	}
	return buf
}

func parseCompactMop(t testing.TB, line int, s string) history.Mop {
	parts := strings.SplitN(s, ":", 3)
	if len(parts) < 2 {
		t.Fatalf("line %d: bad micro-op %q", line, s)
	}
	var m history.Mop
	switch parts[0] {
	case "append":
		m.F = history.Append
	case "w":
		m.F = history.Write
	case "r":
		m.F = history.Read
	default:
		t.Fatalf("line %d: bad function in %q", line, s)
	}
	if i, err := strconv.ParseInt(parts[1], 10, 64); err == nil {
		m.Key = history.IntKey(i)
	} else {
		m.Key = history.StrKey(parts[1])
	}
	v := "nil"
	if len(parts) == 3 {
		v = parts[2]
	}
	switch {
	case v == "nil":
		m.Nil = true
	case strings.HasPrefix(v, "["):
		m.List = []int64{}
		for _, e := range strings.Split(strings.Trim(v, "[]"), ",") {
			if e == "" {
				continue
			}
			n, err := strconv.ParseInt(e, 10, 64)
			if err != nil {
				t.Fatalf("line %d: bad list %q", line, v)
			}
			m.List = append(m.List, n)
		}
	default:
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			t.Fatalf("line %d: bad value %q", line, v)
		}
		m.Value = n
	}
	return m
}

func TestDataDriven(t *testing.T) {
	datadriven.Walk(t, "testdata", func(t *testing.T, path string) {
		datadriven.RunTest(t, path, func(t *testing.T, d *datadriven.TestData) string {
			var input []byte
			switch d.Cmd {
			case "check":
				input = compactToJSONL(t, d.Input)
			case "check-raw":
				input = []byte(d.Input + "\n")
			default:
				t.Fatalf("unknown command %q", d.Cmd)
			}
			h, err := history.Parse(bytes.NewReader(input))
			if err != nil {
				return fmt.Sprintf("error: %v\n", err)
			}
			var opts Options
			if d.HasArg("workload") {
				var w string
				d.ScanArgs(t, "workload", &w)
				if opts.Workload, err = ParseWorkload(w); err != nil {
					t.Fatal(err)
				}
			}
			res, err := Check(h, opts)
			if err != nil {
				return fmt.Sprintf("error: %v\n", err)
			}
			if !d.HasArg("notes") {
				res.Notes = nil
			}
			var out strings.Builder
			if err := res.WriteText(&out, 0); err != nil {
				t.Fatal(err)
			}
			return out.String()
		})
	})
}
