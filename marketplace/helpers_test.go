package marketplace

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/meridiandb/meridian/server"
)

// AddrEnv names the environment variable holding the MySQL-protocol server
// (host:port; user root without password unless MERIDIAN_TEST_MYSQL_USER
// and MERIDIAN_TEST_MYSQL_PASSWORD say otherwise) that the tests needing a
// database run against. Unset, TestMain starts an in-process 3-node
// Meridian cluster for them; scripts/ci/mariadb-clients.sh sets it to a
// throwaway MariaDB.
const AddrEnv = "MERIDIAN_TEST_MYSQL_ADDR"

var dbSeq atomic.Int64

// testDB returns a connection to a new database holding the schema, on the
// server in AddrEnv (dropped when t ends), or skips t.
func testDB(t testing.TB) *sql.DB {
	t.Helper()
	db := emptyTestDB(t)
	if err := CreateSchema(ctxT(t), db); err != nil {
		t.Fatal(err)
	}
	return db
}

// emptyTestDB returns a connection to a new, empty database on the server
// in AddrEnv (dropped when t ends).
func emptyTestDB(t testing.TB) *sql.DB {
	t.Helper()
	addr := os.Getenv(AddrEnv)
	if addr == "" {
		t.Fatalf("%s is not set", AddrEnv)
	}
	user, password := os.Getenv("MERIDIAN_TEST_MYSQL_USER"), os.Getenv("MERIDIAN_TEST_MYSQL_PASSWORD")
	if user == "" {
		user = "root"
	}
	name := fmt.Sprintf("mkttest_%d_%d", os.Getpid(), dbSeq.Add(1))
	admin, err := sql.Open("mysql", DSN(addr, user, password, ""))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := admin.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatalf("creating the test database on %s: %v", addr, err)
	}
	db, err := sql.Open("mysql", DSN(addr, user, password, name))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		db.Close()
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if _, err := admin.ExecContext(ctx, "DROP DATABASE "+name); err != nil {
			t.Errorf("dropping %s: %v", name, err)
		}
		admin.Close()
	})
	return db
}

// stepClock starts at a fixed time and moves one second per reading.
type stepClock struct {
	mu sync.Mutex
	t  time.Time
}

func newStepClock() *stepClock {
	return &stepClock{t: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
}

func (c *stepClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(time.Second)
	return c.t
}

// testStore is a Store on a new test database, with cheap password hashing.
func testStore(t testing.TB) *Store {
	return New(testDB(t), Options{Clock: newStepClock(), PasswordIterations: 1000})
}

func ctxT(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

func must[T any](t testing.TB) func(T, error) T {
	return func(v T, err error) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

func TestMain(m *testing.M) {
	if os.Getenv(AddrEnv) == "" {
		addrs, stop, err := server.StartSQLTestCluster(3)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Setenv(AddrEnv, addrs[0])
		code := m.Run()
		stop()
		os.Exit(leakCheck(code))
	}
	// Every goroutine a Store or a Workload starts must be gone at the end.
	goleak.VerifyTestMain(m)
}

// leakCheck turns a passing run into a failing one if goroutines leaked.
func leakCheck(code int) int {
	if code != 0 {
		return code
	}
	if err := goleak.Find(); err != nil {
		fmt.Fprintln(os.Stderr, "goroutines left behind:", err)
		return 1
	}
	return 0
}
