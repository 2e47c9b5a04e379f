package shell

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
	"go.uber.org/goleak"

	"github.com/meridiandb/meridian/server"
)

// AddrEnv names the environment variable holding the MySQL-protocol server
// (host:port, user root without password unless MERIDIAN_TEST_MYSQL_USER
// and MERIDIAN_TEST_MYSQL_PASSWORD say otherwise) that the end-to-end tests
// run against. Unset, TestMain starts an in-process 3-node Meridian
// cluster for them; scripts/ci/mariadb-clients.sh sets it to a throwaway
// MariaDB.
const AddrEnv = "MERIDIAN_TEST_MYSQL_ADDR"

// helperEnv makes the test binary behave as `meridian sql` (see TestMain),
// so that tests can run the real command in a subprocess and a pty.
const helperEnv = "MERIDIAN_SHELL_TEST_AS_COMMAND"

func TestMain(m *testing.M) {
	if os.Getenv(helperEnv) == "1" {
		cmd := NewCommand()
		cmd.SilenceUsage = true
		cmd.SilenceErrors = true
		cmd.SetArgs(os.Args[1:])
		if err := cmd.Execute(); err != nil {
			fmt.Fprintln(os.Stderr, "meridian:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	if os.Getenv(AddrEnv) == "" {
		addrs, stop, err := server.StartSQLTestCluster(3)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Setenv(AddrEnv, addrs[0])
		code := m.Run()
		stop()
		if code == 0 {
			if err := goleak.Find(); err != nil {
				fmt.Fprintln(os.Stderr, "goroutines left behind:", err)
				code = 1
			}
		}
		os.Exit(code)
	}
	// Every goroutine the shell starts (statements, KILL QUERY) must be gone.
	goleak.VerifyTestMain(m)
}

// testServer is a database of its own on the server in AddrEnv.
type testServer struct {
	addr, user, password string
	database             string
	db                   *sql.DB // connected to database
}

var dbSeq atomic.Int64

// newTestServer creates an empty database for t on the server in AddrEnv
// (dropped when t ends), or skips t.
func newTestServer(t *testing.T) *testServer {
	t.Helper()
	addr := os.Getenv(AddrEnv)
	if addr == "" {
		t.Fatalf("%s is not set", AddrEnv)
	}
	ts := &testServer{addr: addr, user: os.Getenv("MERIDIAN_TEST_MYSQL_USER"), password: os.Getenv("MERIDIAN_TEST_MYSQL_PASSWORD")}
	if ts.user == "" {
		ts.user = "root"
	}
	ts.database = fmt.Sprintf("shelltest_%d_%d", os.Getpid(), dbSeq.Add(1))
	admin := ts.open(t, "")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := admin.ExecContext(ctx, "CREATE DATABASE "+ts.database); err != nil {
		t.Fatalf("creating the test database on %s: %v", addr, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if _, err := admin.ExecContext(ctx, "DROP DATABASE "+ts.database); err != nil {
			t.Errorf("dropping %s: %v", ts.database, err)
		}
	})
	ts.db = ts.open(t, ts.database)
	return ts
}

func (ts *testServer) open(t *testing.T, database string) *sql.DB {
	t.Helper()
	cfg := mysql.NewConfig()
	cfg.User, cfg.Passwd, cfg.Net, cfg.Addr, cfg.DBName = ts.user, ts.password, "tcp", ts.addr, database
	c, err := mysql.NewConnector(cfg)
	if err != nil {
		t.Fatal(err)
	}
	db := sql.OpenDB(c)
	t.Cleanup(func() { db.Close() })
	return db
}

// exec runs setup statements.
func (ts *testServer) exec(t *testing.T, stmts ...string) {
	t.Helper()
	for _, s := range stmts {
		if _, err := ts.db.Exec(s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
}

// args are the command-line flags that connect to ts.
func (ts *testServer) args() []string {
	a := []string{"--host", ts.addr, "-u", ts.user, "-d", ts.database}
	if ts.password != "" {
		a = append(a, "--password="+ts.password)
	}
	return a
}

// options are Run's options to connect to ts.
func (ts *testServer) options() Options {
	return Options{Addr: ts.addr, User: ts.user, Password: ts.password, Database: ts.database}
}

// tableRef is how the server names table in its messages.
func (ts *testServer) tableRef(table string) string {
	return ts.database + "." + table
}

func lines(s ...string) string { return strings.Join(s, "\n") + "\n" }
