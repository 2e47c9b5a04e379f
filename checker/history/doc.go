// Package history owns the history format that Meridian's consistency checker
// reads and its workloads write: JSON Lines, one event per line, in the
// real-time order in which clients observed them.
//
// # Format
//
//		event    = {"type": type, "process": int, "time": int, "value": [mop...], "commit_ts": int}
//		type     = "invoke" | "ok" | "fail" | "info"
//		mop      = ["append", key, int]            list-append workload
//		         | ["w", key, int | null]          rw-register workload
//		         | ["r", key, null | [int...] | int]
//		key      = string | int
//
//	  - invoke starts a transaction on a process; ok (committed, reads filled in),
//	    fail (definitely not committed) or info (outcome unknown) ends it.
//	  - A process has at most one outstanding transaction and issues nothing after
//	    info. Invocations still outstanding at the end of the file are treated as
//	    info.
//	  - time is nanoseconds on one monotonic clock shared by all processes; it never
//	    decreases from one line to the next. Real-time order is the order of lines.
//	  - An ok event repeats its invocation's micro-ops (same functions, keys and
//	    written values) with reads filled in; null means "absent" (the empty list
//	    or the initial register state). fail and info may omit value.
//	  - A write's value may be null in the invocation when it depends on the
//	    transaction's own reads (bank transfers); the ok event then fills it in.
//	  - commit_ts, optional and only on ok, is the timestamp the database gave the
//	    transaction (its read timestamp if the transaction is read-only).
//	  - A history uses one workload: list-append (append and list reads) or
//	    rw-register (w and integer reads). Unknown fields are ignored.
//
// Parse reports the first malformed line as an *Error carrying its line
// number; Writer encodes events in the same format.
//
// # Concurrency
//
// A History is immutable once parsed and may be read from many goroutines.
// A Writer serializes its callers with a mutex, so the order of lines is the
// order in which Invoke and Complete were called (and their clock read).
package history
