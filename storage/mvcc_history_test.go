package storage

import (
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/cockroachdb/datadriven"
	"github.com/cockroachdb/pebble/v2/vfs"
)

// TestMVCCHistories replays the scripts in testdata/mvcc_histories. Commands:
//
//	put k=KEY ts=TS v=VALUE          write a version
//	del k=KEY ts=TS                  write a tombstone
//	batch [sync]                     the input lines (put/del) commit as one batch
//	get k=KEY ts=TS                  read the newest version at or below TS
//	scan k=START end=END ts=TS [reverse] [max-rows=N] [max-bytes=N]
//	clear k=START end=END            remove every version in the span
//	gc k=START end=END threshold=TS  collect versions invisible at or above TS
//	checksum k=START end=END ts=TS
//	dump                             every version in the store
//
// Regenerate the expected output with -rewrite and review the diff.
func TestMVCCHistories(t *testing.T) {
	datadriven.Walk(t, "testdata/mvcc_histories", func(t *testing.T, path string) {
		e, err := Open(Options{Dir: "db", FS: vfs.NewMem()})
		if err != nil {
			t.Fatal(err)
		}
		defer e.Close()
		datadriven.RunTest(t, path, func(t *testing.T, d *datadriven.TestData) string {
			return runMVCCCommand(t, e, d)
		})
	})
}

func runMVCCCommand(t *testing.T, e *Engine, d *datadriven.TestData) string {
	str := func(key string) string {
		var s string
		d.ScanArgs(t, key, &s)
		return unescape(t, s)
	}
	num := func(key string) int64 {
		var n int64
		d.ScanArgs(t, key, &n)
		return n
	}
	errOr := func(err error, ok string) string {
		if err != nil {
			return "error: " + err.Error()
		}
		return ok
	}
	switch d.Cmd {
	case "put", "del":
		b := e.NewBatch()
		defer b.Close()
		var err error
		if d.Cmd == "del" {
			err = b.DeleteMVCC([]byte(str("k")), num("ts"))
		} else {
			err = b.PutMVCC([]byte(str("k")), num("ts"), []byte(str("v")))
		}
		if err != nil {
			return "error: " + err.Error()
		}
		return errOr(b.Commit(false), "ok")
	case "batch":
		b := e.NewBatch()
		defer b.Close()
		for _, line := range strings.Split(strings.TrimSpace(d.Input), "\n") {
			var op, k, v string
			var ts int64
			f := strings.Fields(line)
			op = f[0]
			for _, kv := range f[1:] {
				name, val, _ := strings.Cut(kv, "=")
				switch name {
				case "k":
					k = unescape(t, val)
				case "v":
					v = val
				case "ts":
					fmt.Sscan(val, &ts)
				}
			}
			var err error
			if op == "put" {
				err = b.PutMVCC([]byte(k), ts, []byte(v))
			} else {
				err = b.DeleteMVCC([]byte(k), ts)
			}
			if err != nil {
				return "error: " + err.Error()
			}
		}
		return errOr(b.Commit(d.HasArg("sync")), fmt.Sprintf("ok: %d writes", b.Count()))
	case "get":
		kv, found, err := e.MVCCGet([]byte(str("k")), num("ts"))
		if err != nil {
			return "error: " + err.Error()
		}
		if !found {
			return "<not found>"
		}
		return fmt.Sprintf("%s@%d = %s", PrettyKey(kv.Key), kv.Timestamp, kv.Value)
	case "scan":
		opts := ScanOptions{Reverse: d.HasArg("reverse")}
		if d.HasArg("max-rows") {
			opts.MaxRows = int(num("max-rows"))
		}
		if d.HasArg("max-bytes") {
			opts.MaxBytes = int(num("max-bytes"))
		}
		res, err := e.MVCCScan([]byte(str("k")), []byte(str("end")), num("ts"), opts)
		if err != nil {
			return "error: " + err.Error()
		}
		var sb strings.Builder
		for _, kv := range res.Rows {
			fmt.Fprintf(&sb, "%s@%d = %s\n", PrettyKey(kv.Key), kv.Timestamp, kv.Value)
		}
		if len(res.Rows) == 0 {
			sb.WriteString("<no rows>\n")
		}
		if res.ResumeSpan != nil {
			fmt.Fprintf(&sb, "resume: [%s, %s)\n", PrettyKey(res.ResumeSpan.Key), PrettyKey(res.ResumeSpan.EndKey))
		}
		return sb.String()
	case "clear":
		b := e.NewBatch()
		defer b.Close()
		if err := b.ClearMVCCRange([]byte(str("k")), []byte(str("end"))); err != nil {
			return "error: " + err.Error()
		}
		return errOr(b.Commit(false), "ok")
	case "gc":
		b := e.NewBatch()
		defer b.Close()
		st, err := GC(e, b, []byte(str("k")), []byte(str("end")), num("threshold"))
		if err != nil {
			return "error: " + err.Error()
		}
		return errOr(b.Commit(false), fmt.Sprintf("gc: keys=%d versions=%d deleted=%d",
			st.KeysScanned, st.VersionsScanned, st.VersionsDeleted))
	case "checksum":
		c, err := MVCCChecksum(e, []byte(str("k")), []byte(str("end")), num("ts"))
		if err != nil {
			return "error: " + err.Error()
		}
		return fmt.Sprintf("rows=%d sum=%x", c.Rows, c.Sum[:8])
	case "dump":
		var sb strings.Builder
		err := e.IterateRaw(EncodeBareKey(nil, GlobalKeyMin), EncodeBareKey(nil, GlobalKeyMax), func(ek, v []byte) error {
			key, ts, err := DecodeEngineKey(ek)
			if err != nil {
				return err
			}
			data, tomb, err := decodeValue(v)
			if err != nil {
				return err
			}
			if tomb {
				fmt.Fprintf(&sb, "%s@%d <tombstone>\n", PrettyKey(key), ts)
			} else {
				fmt.Fprintf(&sb, "%s@%d = %s\n", PrettyKey(key), ts, data)
			}
			return nil
		})
		if err != nil {
			return "error: " + err.Error()
		}
		if sb.Len() == 0 {
			return "<empty>"
		}
		return sb.String()
	default:
		t.Fatalf("%s: unknown command %q", d.Pos, d.Cmd)
		return ""
	}
}

// unescape turns \xNN sequences in a script argument into bytes.
func unescape(t *testing.T, s string) string {
	u, err := strconv.Unquote(`"` + s + `"`)
	if err != nil {
		t.Fatalf("bad key %q: %v", s, err)
	}
	return u
}
