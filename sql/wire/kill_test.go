package wire

import (
	"context"
	"database/sql"
	"strconv"
	"strings"
	"testing"
	"time"
)

// processRow returns the SHOW PROCESSLIST row (id, info) whose Info
// contains text, or ok=false.
func processRow(t *testing.T, db *sql.DB, text string) (id int64, ok bool) {
	t.Helper()
	rows, err := db.Query("SHOW PROCESSLIST")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			pid                    int64
			user, host, cmd, state string
			dbn, info              sql.NullString
			secs                   int64
		)
		if err := rows.Scan(&pid, &user, &host, &dbn, &cmd, &secs, &state, &info); err != nil {
			t.Fatal(err)
		}
		if strings.Contains(info.String, text) && !strings.Contains(info.String, "PROCESSLIST") {
			return pid, true
		}
	}
	return 0, false
}

// waitProcess waits until a statement containing text shows in SHOW
// PROCESSLIST and returns its connection id.
func waitProcess(t *testing.T, db *sql.DB, text string) int64 {
	t.Helper()
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	deadline := time.After(10 * time.Second)
	for {
		if id, ok := processRow(t, db, text); ok {
			return id
		}
		select {
		case <-tick.C:
		case <-deadline:
			t.Fatalf("%q never showed in SHOW PROCESSLIST", text)
		}
	}
}

func TestSleepAndKillQuery(t *testing.T) {
	s := startServer(t, TestingKnobs{})
	db := open(t, s, "test")
	var v int
	if err := db.QueryRow("SELECT SLEEP(0)").Scan(&v); err != nil || v != 0 {
		t.Fatalf("SLEEP(0) = %d, %v", v, err)
	}
	if err := db.QueryRow("SELECT SLEEP(0.01)").Scan(&v); err != nil || v != 0 {
		t.Fatalf("SLEEP(0.01) = %d, %v", v, err)
	}
	conn, err := db.Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	var myID int64
	if err := conn.QueryRowContext(context.Background(), "SELECT CONNECTION_ID()").Scan(&myID); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	start := time.Now()
	go func() {
		var r int
		done <- conn.QueryRowContext(context.Background(), "SELECT SLEEP(30) AS kill_me").Scan(&r)
	}()
	id := waitProcess(t, db, "kill_me")
	if id != myID {
		t.Fatalf("process list shows id %d, CONNECTION_ID() said %d", id, myID)
	}
	mustExec(t, db, "KILL QUERY "+itoa(id))
	err = <-done
	if code(err) != 1317 {
		t.Fatalf("killed statement: %v, want error 1317", err)
	}
	if el := time.Since(start); el > 10*time.Second {
		t.Fatalf("KILL QUERY took %v", el)
	}
	// The connection survives KILL QUERY.
	var one int
	if err := conn.QueryRowContext(context.Background(), "SELECT 1").Scan(&one); err != nil || one != 1 {
		t.Fatalf("after KILL QUERY: %d, %v", one, err)
	}
	if _, err := db.Exec("KILL QUERY 999999"); code(err) != 1094 {
		t.Fatalf("KILL of an unknown id: %v", err)
	}
	// KILL CONNECTION ends the connection.
	mustExec(t, db, "KILL "+itoa(myID))
	if err := conn.QueryRowContext(context.Background(), "SELECT 1").Scan(&one); err == nil {
		t.Fatal("the killed connection still answers")
	}
}

// TestClientGoneCancels checks that a statement whose client closes the
// connection is cancelled: the connection leaves the process list long
// before the statement would have ended.
func TestClientGoneCancels(t *testing.T) {
	s := startServer(t, TestingKnobs{})
	admin := open(t, s, "test")
	db := open(t, s, "test")
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		var r int
		// Cancelling the context makes the driver close the connection.
		done <- db.QueryRowContext(ctx, "SELECT SLEEP(60) AS client_goes").Scan(&r)
	}()
	waitProcess(t, admin, "client_goes")
	cancel()
	<-done
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	deadline := time.After(10 * time.Second)
	for {
		if _, ok := processRow(t, admin, "client_goes"); !ok {
			return
		}
		select {
		case <-tick.C:
		case <-deadline:
			t.Fatal("the statement of a closed connection still runs")
		}
	}
}

// TestAggregateColumnTypes checks the column types of a grouped query:
// a string group column must not take the type of the table's first
// column (clients parse values by their declared type).
func TestAggregateColumnTypes(t *testing.T) {
	s := startServer(t, TestingKnobs{})
	db := open(t, s, "test")
	mustExec(t, db, "CREATE TABLE items (id BIGINT PRIMARY KEY, category VARCHAR(64))")
	mustExec(t, db, "INSERT INTO items VALUES (1, 'fashion'), (2, 'toys'), (3, 'toys')")
	for _, q := range []string{
		"SELECT category, COUNT(*) AS n FROM items GROUP BY category ORDER BY n DESC LIMIT 3",
		"SELECT category, COUNT(*) AS n FROM items WHERE id > ? GROUP BY category ORDER BY n DESC LIMIT 3",
	} {
		var args []any
		if strings.Contains(q, "?") {
			args = append(args, 0) // the binary protocol
		}
		rows, err := db.Query(q, args...)
		if err != nil {
			t.Fatal(err)
		}
		cts, _ := rows.ColumnTypes()
		if got := cts[0].DatabaseTypeName(); got != "VARCHAR" {
			t.Errorf("%s: category is %s", q, got)
		}
		var got []string
		for rows.Next() {
			var c string
			var n int
			if err := rows.Scan(&c, &n); err != nil {
				t.Fatal(err)
			}
			got = append(got, c+":"+itoa(int64(n)))
		}
		rows.Close()
		if strings.Join(got, ",") != "toys:2,fashion:1" {
			t.Errorf("%s: %v", q, got)
		}
	}
}

func itoa(i int64) string { return strconv.FormatInt(i, 10) }
