package workload_test

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/go-sql-driver/mysql"

	"github.com/meridiandb/meridian/checker"
	"github.com/meridiandb/meridian/checker/history"
	"github.com/meridiandb/meridian/checker/workload"
)

// counterClock is a monotonic test clock.
func counterClock() func() int64 {
	var n atomic.Int64
	return func() int64 { return n.Add(1000) }
}

var kinds = []workload.Kind{workload.ListAppend, workload.Register, workload.Bank}

// runAndCheck sets up and runs a workload against db and checks its history.
func runAndCheck(t *testing.T, db *sql.DB, opts workload.Options) (*checker.Result, workload.Stats) {
	t.Helper()
	ctx := context.Background()
	opts.Clock = counterClock()
	if err := workload.Setup(ctx, db, opts); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	stats, err := workload.Run(ctx, db, &out, opts)
	if err != nil {
		t.Fatal(err)
	}
	h, err := history.Parse(&out)
	if err != nil {
		t.Fatalf("recorded history does not parse: %v", err)
	}
	w := map[workload.Kind]checker.Workload{workload.ListAppend: checker.ListAppend, workload.Register: checker.Register, workload.Bank: checker.Bank}[opts.Kind]
	res, err := checker.Check(h, checker.Options{Workload: w})
	if err != nil {
		t.Fatal(err)
	}
	return res, stats
}

// runOn runs a workload of kind against the fake database f.
func runOn(t *testing.T, f *fakeDB, kind workload.Kind, seed uint64) (*checker.Result, workload.Stats) {
	t.Helper()
	db := openFake(f)
	defer db.Close()
	return runAndCheck(t, db, workload.Options{
		Kind: kind, Concurrency: 4, Txns: 300,
		Rand:     rand.New(rand.NewPCG(seed, 1)),
		CommitTS: fakeCommitTS,
	})
}

func report(r *checker.Result) string {
	var b bytes.Buffer
	_ = r.WriteText(&b, 3)
	return b.String()
}

// TestRunSerialDatabase: the workloads' histories against a serial database
// pass the checker, also when commits fail or their outcome is unknown.
func TestRunSerialDatabase(t *testing.T) {
	for _, kind := range kinds {
		t.Run(kind.String(), func(t *testing.T) {
			f := newFakeDB()
			f.commitFault = func(n int) (bool, error) {
				switch {
				case n%11 == 0:
					return false, &mysql.MySQLError{Number: 1213, Message: "Deadlock found"}
				case n%13 == 0:
					return true, errors.New("connection reset after commit") // committed, outcome unknown
				case n%17 == 0:
					return false, errors.New("connection reset before commit")
				}
				return true, nil
			}
			res, stats := runOn(t, f, kind, 1)
			if !res.Valid {
				t.Fatalf("serial database flagged:\n%s", report(res))
			}
			if stats.OK < 200 || stats.Fail == 0 || stats.Info == 0 {
				t.Fatalf("stats %+v: want mostly ok, some fail and info", stats)
			}
			want := fmt.Sprintf("commit timestamps: %d committed transactions checked", stats.OK)
			if !slices.ContainsFunc(res.Notes, func(n string) bool { return strings.HasPrefix(n, want) }) {
				t.Fatalf("commit timestamps were not all recorded and checked: %q", res.Notes)
			}
			if res.OK != stats.OK || res.Fail != stats.Fail || res.Info != stats.Info {
				t.Fatalf("history counts %d/%d/%d, run counted %+v", res.OK, res.Fail, res.Info, stats)
			}
		})
	}
}

// TestRunLostWrites: a database that acknowledges commits it then loses is
// caught.
func TestRunLostWrites(t *testing.T) {
	for _, kind := range kinds {
		t.Run(kind.String(), func(t *testing.T) {
			f := newFakeDB()
			f.commitFault = func(n int) (bool, error) { return n%5 != 3, nil }
			res, _ := runOn(t, f, kind, 2)
			if res.Valid {
				t.Fatalf("lost writes not caught")
			}
		})
	}
}
