package anomaly

import "sort"

// Names of anomalies. Cycle anomalies follow Adya and Elle; each also has a
// "-process" variant (the cycle needs a process-order edge) and a "-realtime"
// variant (it needs a real-time edge), formed by appending the suffix.
const (
	// G0: a cycle of write-write dependencies (dirty write).
	G0 = "G0"
	// G1a: a committed transaction read a value written by one that failed.
	G1a = "G1a"
	// G1b: a committed transaction read a value that its writer overwrote in
	// the same transaction (intermediate read).
	G1b = "G1b"
	// G1c: a cycle of write-write and write-read dependencies.
	G1c = "G1c"
	// GSingle: a cycle with exactly one anti-dependency (read skew, lost update).
	GSingle = "G-single"
	// G2Item: a cycle with two or more item anti-dependencies (write skew).
	G2Item = "G2-item"
	// G2: a cycle with two or more anti-dependencies, at least one of them a
	// predicate anti-dependency: the reader found the key absent and a later
	// transaction created it (a phantom).
	G2 = "G2"

	// DuplicateElements: a list read holds the same element twice.
	DuplicateElements = "duplicate-elements"
	// IncompatibleOrder: reads (or inferred orders) of one key disagree about
	// the order of its versions.
	IncompatibleOrder = "incompatible-order"
	// GarbageRead: a read returned a value nobody wrote.
	GarbageRead = "garbage-read"
	// Internal: a transaction's read disagrees with its own earlier reads and
	// writes of the same key.
	Internal = "internal"

	// TimestampRealtime: T1 completed before T2 began, yet T2's commit
	// timestamp is not above T1's (equal is allowed when T2 is read-only).
	TimestampRealtime = "timestamp-realtime"
	// TimestampRead: ordering committed transactions by commit_ts does not
	// explain a read.
	TimestampRead = "timestamp-read"
	// TimestampConflict: two committed transactions wrote one key with the
	// same commit timestamp.
	TimestampConflict = "timestamp-conflict"

	// Nonlinearizable: a key's register operations have no linearization.
	Nonlinearizable = "nonlinearizable"
	// BankTotal: a bank read's balances do not add up to the total.
	BankTotal = "bank-total"

	// SuffixProcess and SuffixRealtime mark cycles needing order edges.
	SuffixProcess  = "-process"
	SuffixRealtime = "-realtime"
)

// severity lists base names in the order reports show them.
var severity = []string{
	G0, G1a, G1b, G1c, GSingle, G2Item, G2,
	DuplicateElements, IncompatibleOrder, GarbageRead, Internal,
	TimestampRealtime, TimestampRead, TimestampConflict,
	Nonlinearizable, BankTotal,
}

// Rank orders anomaly names: cycle kinds first (each base before its -process
// and -realtime variants), then the rest; unknown names last.
func Rank(name string) int {
	for i, s := range severity {
		switch name {
		case s:
			return 3 * i
		case s + SuffixProcess:
			return 3*i + 1
		case s + SuffixRealtime:
			return 3*i + 2
		}
	}
	return 3 * len(severity)
}

// SortNames sorts anomaly names by Rank, then alphabetically.
func SortNames(names []string) {
	sort.Slice(names, func(i, j int) bool {
		ri, rj := Rank(names[i]), Rank(names[j])
		if ri != rj {
			return ri < rj
		}
		return names[i] < names[j]
	})
}

// Step is one edge of a dependency cycle.
type Step struct {
	From, To int    // op indices
	Kind     string // ww, wr, rw, process or realtime
	Why      string // e.g. "T3 read x = [1 2] and did not see 3, which T5 appended"
}

// Anomaly is one finding.
type Anomaly struct {
	Type string
	// Key is the key the anomaly is about, if any (already formatted).
	Key string
	// Ops are the op indices involved; for a cycle, in cycle order.
	Ops []int
	// Cycle is the dependency cycle, for cycle anomalies.
	Cycle []Step
	// Detail explains a non-cycle anomaly in one sentence.
	Detail string
}
