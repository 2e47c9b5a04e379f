package wire

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
	"go.uber.org/goleak"

	"github.com/meridiandb/meridian/sql/sqltest"
	"github.com/meridiandb/meridian/truetime"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m, goleak.IgnoreTopFunction("database/sql.(*DB).connectionOpener"))
}

// startServer starts a server on 127.0.0.1:0 over a MemDB.
func startServer(t testing.TB, knobs TestingKnobs) *Server {
	t.Helper()
	clock := truetime.NewLocal(truetime.LocalOptions{Epsilon: 50 * time.Microsecond})
	db := sqltest.NewMemDB(sqltest.MemDBOptions{Clock: clock, LockTimeout: 2 * time.Second})
	s := NewServer(Options{Addr: "127.0.0.1:0", DB: db, Cluster: sqltest.NewSingleNode(clock), Knobs: knobs})
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Error(err)
		}
	})
	return s
}

func open(t testing.TB, s *Server, dbname string) *sql.DB {
	t.Helper()
	db, err := sql.Open("mysql", fmt.Sprintf("root@tcp(%s)/%s?interpolateParams=false", s.Addr(), dbname))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func mustExec(t testing.TB, db *sql.DB, q string, args ...any) sql.Result {
	t.Helper()
	r, err := db.Exec(q, args...)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return r
}

func code(err error) uint16 {
	var me *mysql.MySQLError
	if errors.As(err, &me) {
		return me.Number
	}
	return 0
}

func TestDriverBasics(t *testing.T) {
	s := startServer(t, TestingKnobs{})
	db := open(t, s, "test")
	mustExec(t, db, "CREATE TABLE kv (id INT PRIMARY KEY AUTO_INCREMENT, k INT NOT NULL DEFAULT 0, v VARCHAR(20), KEY k_idx (k))")
	r := mustExec(t, db, "INSERT INTO kv (k, v) VALUES (?, ?), (?, ?)", 1, "a", 2, "b")
	if n, _ := r.RowsAffected(); n != 2 {
		t.Fatalf("affected %d", n)
	}
	if id, _ := r.LastInsertId(); id != 1 {
		t.Fatalf("last insert id %d", id)
	}
	// Prepared statement reused with new arguments.
	st, err := db.Prepare("SELECT v FROM kv WHERE id = ?")
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	for id, want := range map[int]string{1: "a", 2: "b"} {
		var v string
		if err := st.QueryRow(id).Scan(&v); err != nil || v != want {
			t.Fatalf("id %d: %q %v", id, v, err)
		}
	}
	var v string
	if err := st.QueryRow(3).Scan(&v); err != sql.ErrNoRows {
		t.Fatalf("missing row: %v", err)
	}
	// Errors with codes.
	cases := []struct {
		q    string
		code uint16
	}{
		{"SELEC 1", 1064},
		{"SELECT * FROM nope", 1146},
		{"SELECT nope FROM kv", 1054},
		{"INSERT INTO kv (id, k) VALUES (1, 5)", 1062},
		{"USE nodb", 1049},
	}
	for _, c := range cases {
		_, err := db.Exec(c.q)
		if code(err) != c.code {
			t.Errorf("%s: got %v, want code %d", c.q, err, c.code)
		}
	}
	// Transactions: rollback discards, commit keeps, last_commit_ts moves.
	tx, err := db.Begin()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec("UPDATE kv SET v = 'x' WHERE id = 1"); err != nil {
		t.Fatal(err)
	}
	if err := tx.Rollback(); err != nil {
		t.Fatal(err)
	}
	if err := db.QueryRow("SELECT v FROM kv WHERE id = 1").Scan(&v); err != nil || v != "a" {
		t.Fatalf("after rollback: %q %v", v, err)
	}
	conn, err := db.Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ctx := context.Background()
	for _, q := range []string{"BEGIN", "UPDATE kv SET v = 'y' WHERE id = 2", "COMMIT"} {
		if _, err := conn.ExecContext(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	var ts int64
	if err := conn.QueryRowContext(ctx, "SELECT @@last_commit_ts").Scan(&ts); err != nil || ts <= 0 {
		t.Fatalf("last_commit_ts %d %v", ts, err)
	}
	var sum float64
	if err := db.QueryRow("SELECT SUM(k) FROM kv WHERE k >= 1").Scan(&sum); err != nil || sum != 3 {
		t.Fatalf("sum %v %v", sum, err)
	}
}

func TestConcurrentClients(t *testing.T) {
	s := startServer(t, TestingKnobs{})
	db := open(t, s, "test")
	db.SetMaxOpenConns(8)
	mustExec(t, db, "CREATE TABLE acct (id INT PRIMARY KEY, bal INT NOT NULL)")
	for i := 0; i < 4; i++ {
		mustExec(t, db, "INSERT INTO acct VALUES (?, 100)", i)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 100)
	for w := 0; w < 6; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; i < 20; i++ {
				from, to := (w+i)%4, (w+i+1)%4
				for attempt := 0; ; attempt++ {
					err := transfer(db, from, to)
					if err == nil {
						break
					}
					if c := code(err); (c == 1213 || c == 1205) && attempt < 50 {
						continue
					}
					errs <- err
					return
				}
			}
		}(w)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	var total int
	if err := db.QueryRow("SELECT SUM(bal) FROM acct").Scan(&total); err != nil || total != 400 {
		t.Fatalf("total %d %v", total, err)
	}
}

func transfer(db *sql.DB, from, to int) error {
	tx, err := db.Begin()
	if err != nil {
		return err
	}
	defer tx.Rollback()
	var bal int
	if err := tx.QueryRow("SELECT bal FROM acct WHERE id = ? FOR UPDATE", from).Scan(&bal); err != nil {
		return err
	}
	if _, err := tx.Exec("UPDATE acct SET bal = bal - 1 WHERE id = ?", from); err != nil {
		return err
	}
	if _, err := tx.Exec("UPDATE acct SET bal = bal + 1 WHERE id = ?", to); err != nil {
		return err
	}
	return tx.Commit()
}

func TestUsersAndPasswords(t *testing.T) {
	s := startServer(t, TestingKnobs{})
	root := open(t, s, "")
	mustExec(t, root, "CREATE USER 'alice' IDENTIFIED BY 's3cret'")
	try := func(user, pw string) error {
		db, err := sql.Open("mysql", fmt.Sprintf("%s:%s@tcp(%s)/", user, pw, s.Addr()))
		if err != nil {
			return err
		}
		defer db.Close()
		return db.Ping()
	}
	if err := try("alice", "s3cret"); err != nil {
		t.Fatalf("alice with the right password: %v", err)
	}
	if err := try("alice", "wrong"); code(err) != 1045 {
		t.Fatalf("wrong password: got %v, want 1045", err)
	}
	if err := try("mallory", ""); err == nil {
		t.Fatalf("unknown user connected")
	}
	mustExec(t, root, "ALTER USER 'root' IDENTIFIED BY 'rootpw'")
	if err := try("root", ""); code(err) != 1045 {
		t.Fatalf("root without password after ALTER USER: %v", err)
	}
	if err := try("root", "rootpw"); err != nil {
		t.Fatalf("root with new password: %v", err)
	}
}

func TestMeridianStatements(t *testing.T) {
	s := startServer(t, TestingKnobs{})
	db := open(t, s, "test")
	db.SetMaxOpenConns(1)
	mustExec(t, db, "CREATE TABLE t (id INT PRIMARY KEY)")
	mustExec(t, db, "INSERT INTO t VALUES (1)")
	rs, err := db.Query("SHOW LATENCY")
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for rs.Next() {
		var comp, val string
		var us int64
		if err := rs.Scan(&comp, &us, &val); err != nil {
			t.Fatal(err)
		}
		seen[comp] = true
	}
	rs.Close()
	for _, c := range []string{"total", "lock_wait", "commit_wait", "raft", "retries"} {
		if !seen[c] {
			t.Errorf("SHOW LATENCY lacks %s: %v", c, seen)
		}
	}
	var node int
	var region, source string
	var rest [6]string
	row := db.QueryRow("SHOW CLOCK")
	if err := row.Scan(&node, &region, &source, &rest[0], &rest[1], &rest[2], &rest[3], &rest[4], &rest[5]); err != nil || source != "local" {
		t.Fatalf("SHOW CLOCK: %v %q", err, source)
	}
}

// Autocommit statements that conflict are retried inside the server: the
// clients see no errors and no update is lost.
func TestAutocommitRetries(t *testing.T) {
	s := startServer(t, TestingKnobs{})
	db := open(t, s, "test")
	db.SetMaxOpenConns(8)
	mustExec(t, db, "CREATE TABLE c (id INT PRIMARY KEY, n INT)")
	mustExec(t, db, "INSERT INTO c VALUES (1, 0)")
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 25; i++ {
				if _, err := db.Exec("UPDATE c SET n = n + 1 WHERE id = 1"); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	var n int
	if err := db.QueryRow("SELECT n FROM c WHERE id = 1").Scan(&n); err != nil || n != 200 {
		t.Fatalf("n = %d, %v", n, err)
	}
}

func TestPreparedTypes(t *testing.T) {
	s := startServer(t, TestingKnobs{})
	db := open(t, s, "test")
	mustExec(t, db, "CREATE TABLE ty (id BIGINT PRIMARY KEY, d DECIMAL(10,3), f DOUBLE, s VARCHAR(10), b BLOB, dt DATETIME, n INT)")
	when := time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC)
	mustExec(t, db, "INSERT INTO ty VALUES (?, ?, ?, ?, ?, ?, ?)", int64(1)<<40, "12.345", 2.5, "héllo", []byte{0, 1, 2}, when, nil)
	var (
		id  int64
		d   string
		f   float64
		str string
		b   []byte
		dt  string
		n   sql.NullInt64
	)
	err := db.QueryRow("SELECT id, d, f, s, b, dt, n FROM ty WHERE id = ?", int64(1)<<40).Scan(&id, &d, &f, &str, &b, &dt, &n)
	if err != nil {
		t.Fatal(err)
	}
	if id != 1<<40 || d != "12.345" || f != 2.5 || str != "héllo" || string(b) != "\x00\x01\x02" || dt != "2024-05-06 07:08:09" || n.Valid {
		t.Fatalf("got %v %q %v %q %q %q %v", id, d, f, str, b, dt, n)
	}
	// Text protocol too (no placeholders).
	if err := db.QueryRow("SELECT d, dt FROM ty").Scan(&d, &dt); err != nil || d != "12.345" || dt != "2024-05-06 07:08:09" {
		t.Fatalf("text: %q %q %v", d, dt, err)
	}
}
