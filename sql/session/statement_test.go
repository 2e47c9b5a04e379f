package session_test

import (
	"context"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/meridiandb/meridian/sql/session"
)

// latency returns SHOW LATENCY as component → value text.
func latency(t *testing.T, s *session.Session) map[string]string {
	t.Helper()
	res, err := s.Execute(context.Background(), "SHOW LATENCY")
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, r := range res.Rows {
		out[r[0].S] = r[2].S
	}
	return out
}

// TestShowLatencyIsPerStatement checks that SHOW LATENCY reports the last
// statement's ledger, also for statements that ran no transaction.
func TestShowLatencyIsPerStatement(t *testing.T) {
	e, _ := newEngine(t)
	s := e.NewSession("root")
	ctx := context.Background()
	for _, q := range []string{"USE test", "CREATE TABLE t (id INT PRIMARY KEY)", "INSERT INTO t VALUES (1)"} {
		if _, err := s.Execute(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	if l := latency(t, s); l["ranges"] != "1" {
		t.Fatalf("after INSERT: %v", l)
	}
	if _, err := s.Execute(ctx, "SELECT SLEEP(0.02)"); err != nil {
		t.Fatal(err)
	}
	l := latency(t, s)
	if l["ranges"] != "0" {
		t.Fatalf("after SELECT SLEEP: the previous statement's ledger is still shown: %v", l)
	}
	if d, err := time.ParseDuration(l["total"]); err != nil || d < 20*time.Millisecond {
		t.Fatalf("after SELECT SLEEP(0.02): total %q", l["total"])
	}
	// SHOW LATENCY itself does not replace the ledger.
	if l2 := latency(t, s); l2["total"] != l["total"] {
		t.Fatalf("SHOW LATENCY twice: %v then %v", l, l2)
	}
	// Inside an explicit transaction: the statement's share, then the
	// whole transaction at COMMIT.
	for _, q := range []string{"BEGIN", "SELECT * FROM t WHERE id = 1"} {
		if _, err := s.Execute(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	if l := latency(t, s); l["ranges"] != "1" {
		t.Fatalf("in a transaction: %v", l)
	}
	if _, err := s.Execute(ctx, "COMMIT"); err != nil {
		t.Fatal(err)
	}
	if l := latency(t, s); l["ranges"] != "1" {
		t.Fatalf("after COMMIT: %v", l)
	}
}

// TestKillQuery kills a session's running statement from another session,
// and checks SHOW PROCESSLIST on the way.
func TestKillQuery(t *testing.T) {
	e, _ := newEngine(t)
	victim, killer := e.NewSession("root"), e.NewSession("root")
	victim.Register("client:1", nil)
	killer.Register("client:2", nil)
	defer victim.Close(context.Background())
	defer killer.Close(context.Background())
	ctx := context.Background()
	var wg sync.WaitGroup
	wg.Add(1)
	var err error
	go func() {
		defer wg.Done()
		_, err = victim.Execute(ctx, "SELECT SLEEP(60) AS victim")
	}()
	deadline := time.After(10 * time.Second)
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	for found := false; !found; {
		res, perr := killer.Execute(ctx, "SHOW PROCESSLIST")
		if perr != nil {
			t.Fatal(perr)
		}
		if len(res.Rows) != 2 {
			t.Fatalf("SHOW PROCESSLIST: %d rows", len(res.Rows))
		}
		for _, r := range res.Rows {
			if r[7].S == "SELECT SLEEP(60) AS victim" && r[4].S == "Query" && r[2].S == "client:1" {
				found = true
			}
		}
		select {
		case <-tick.C:
		case <-deadline:
			t.Fatal("the statement never showed in SHOW PROCESSLIST")
		}
	}
	if _, kerr := killer.Execute(ctx, "KILL QUERY "+itoa(victim.ConnectionID())); kerr != nil {
		t.Fatal(kerr)
	}
	wg.Wait()
	if m := session.ToMySQL(err); err == nil || m.Code != 1317 {
		t.Fatalf("killed statement: %v", err)
	}
	if _, err := victim.Execute(ctx, "SELECT 1"); err != nil {
		t.Fatalf("after KILL QUERY: %v", err)
	}
	if _, err := killer.Execute(ctx, "KILL 4242"); session.ToMySQL(err).Code != 1094 {
		t.Fatalf("KILL of an unknown connection: %v", err)
	}
}

func itoa(u uint32) string { return strconv.FormatUint(uint64(u), 10) }
