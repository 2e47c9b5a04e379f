package shell

import (
	"context"
	"database/sql"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/creack/pty"
)

// term is the shell running as `meridian sql` in a subprocess on a
// pseudo-terminal, driven as a person would: keys in, screen text out.
type term struct {
	t    *testing.T
	cmd  *exec.Cmd
	ptmx *os.File

	mu      sync.Mutex
	buf     strings.Builder // everything the shell wrote, escape sequences removed
	cursor  int             // expect searches from here
	changed chan struct{}   // signalled (without blocking) when buf grows
	readErr error
	done    chan struct{} // closed when the reader stops
}

var ansiRE = regexp.MustCompile(`\x1b\[[0-9;?]*[A-Za-z]|\x1b[=>]|\r`)

func startTerm(t *testing.T, env []string, args ...string) *term {
	t.Helper()
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), append([]string{helperEnv + "=1", "TERM=xterm"}, env...)...)
	ptmx, err := pty.StartWithSize(cmd, &pty.Winsize{Rows: 50, Cols: 200})
	if err != nil {
		t.Fatalf("starting the shell on a pty: %v", err)
	}
	tm := &term{t: t, cmd: cmd, ptmx: ptmx, changed: make(chan struct{}, 1), done: make(chan struct{})}
	go tm.read()
	t.Cleanup(func() {
		if testing.Verbose() {
			tm.mu.Lock()
			t.Logf("the shell's output:\n%s", tm.buf.String())
			tm.mu.Unlock()
		}
		if tm.cmd.ProcessState == nil {
			tm.cmd.Process.Kill()
			tm.cmd.Wait()
		}
		ptmx.Close()
		<-tm.done
	})
	return tm
}

func (tm *term) read() {
	defer close(tm.done)
	b := make([]byte, 4096)
	var pending string // a partial escape sequence at the end of a read
	for {
		n, err := tm.ptmx.Read(b)
		if n > 0 {
			s := pending + string(b[:n])
			pending = ""
			if i := strings.LastIndexByte(s, 0x1b); i >= 0 && !ansiRE.MatchString(s[i:]) && len(s)-i < 16 {
				s, pending = s[:i], s[i:]
			}
			tm.mu.Lock()
			tm.buf.WriteString(ansiRE.ReplaceAllString(s, ""))
			tm.mu.Unlock()
			select {
			case tm.changed <- struct{}{}:
			default:
			}
		}
		if err != nil {
			tm.mu.Lock()
			tm.readErr = err
			tm.mu.Unlock()
			select {
			case tm.changed <- struct{}{}:
			default:
			}
			return
		}
	}
}

// send types keys.
func (tm *term) send(keys string) {
	tm.t.Helper()
	if _, err := tm.ptmx.Write([]byte(keys)); err != nil {
		tm.t.Fatalf("typing %q: %v", keys, err)
	}
}

// expect waits until the output after the cursor matches re, moves the
// cursor past the match and returns the output up to the match's end.
func (tm *term) expect(re string, within time.Duration) string {
	tm.t.Helper()
	rx := regexp.MustCompile(re)
	deadline := time.NewTimer(within)
	defer deadline.Stop()
	for {
		tm.mu.Lock()
		out := tm.buf.String()[tm.cursor:]
		loc := rx.FindStringIndex(out)
		readErr := tm.readErr
		if loc != nil {
			tm.cursor += loc[1]
			tm.mu.Unlock()
			return out[:loc[1]]
		}
		tm.mu.Unlock()
		if readErr != nil {
			tm.t.Fatalf("the shell's output ended (%v) without %q; it wrote:\n%s", readErr, re, out)
		}
		select {
		case <-tm.changed:
		case <-deadline.C:
			tm.t.Fatalf("no %q within %v; the shell wrote:\n%s", re, within, out)
		}
	}
}

// waitExit waits for the shell to exit and returns its exit code.
func (tm *term) waitExit(within time.Duration) int {
	tm.t.Helper()
	exited := make(chan error, 1)
	go func() { exited <- tm.cmd.Wait() }()
	select {
	case err := <-exited:
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return ee.ExitCode()
		}
		if err != nil {
			tm.t.Fatal(err)
		}
		return 0
	case <-time.After(within):
		tm.cmd.Process.Kill()
		<-exited
		tm.t.Fatalf("the shell did not exit within %v", within)
		return -1
	}
}

// waitRunning waits until the server lists a running statement containing
// text (SHOW PROCESSLIST), so that Ctrl-C lands while it runs. A server
// without a process list (an error, or one that does not even list the
// connection asking) is not waited on: the shell then falls back to
// dropping the connection if the interrupt came too early, which the tests
// accept as well.
func waitRunning(t *testing.T, db *sql.DB, text string, within time.Duration) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), within)
	defer cancel()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		found, listed, err := processListed(ctx, db, text)
		switch {
		case err != nil:
			t.Logf("SHOW PROCESSLIST: %v; not waiting for the statement to start", err)
			return
		case listed == 0:
			t.Logf("SHOW PROCESSLIST lists nothing; not waiting for the statement to start")
			return
		case found:
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("%q never showed in SHOW PROCESSLIST", text)
		case <-tick.C:
		}
	}
}

// processListed reports whether SHOW PROCESSLIST shows a statement
// containing text, and how many rows it listed.
func processListed(ctx context.Context, db *sql.DB, text string) (found bool, listed int, err error) {
	rows, err := db.QueryContext(ctx, "SHOW PROCESSLIST")
	if err != nil {
		return false, 0, err
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	vals := make([]sql.NullString, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return false, listed, err
		}
		listed++
		for _, v := range vals {
			if strings.Contains(v.String, text) && !strings.Contains(v.String, "PROCESSLIST") {
				found = true
			}
		}
	}
	return found, listed, rows.Err()
}

// requireSleep fails t (without stopping it) if the server has no SLEEP(),
// the long-running statement the cancellation tests interrupt.
func requireSleep(t *testing.T, db *sql.DB) bool {
	t.Helper()
	if _, err := db.Exec("SELECT SLEEP(0)"); err != nil {
		t.Errorf("cannot test cancelling a running statement: the server has no SLEEP(): %v", err)
		return false
	}
	return true
}

// serverHasLatency reports whether the server answers SHOW LATENCY.
func serverHasLatency(t *testing.T, db *sql.DB) bool {
	conn, err := db.Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.ExecContext(context.Background(), "SELECT 1")
	rows, err := conn.QueryContext(context.Background(), "SHOW LATENCY")
	if err != nil {
		return false
	}
	rows.Close()
	return true
}

// TestInteractive drives the shell through a pseudo-terminal: a statement
// over several lines, history recall with the up arrow, \x, \timing (with
// the server's latency ledger where it has one), an error with its MySQL
// code, Ctrl-C cancelling a running statement and clearing the prompt's
// line, and \q.
func TestInteractive(t *testing.T) {
	ts := newTestServer(t)
	ts.exec(t, "CREATE TABLE items (id INT PRIMARY KEY, title VARCHAR(40))",
		"INSERT INTO items VALUES (1, 'lamp'), (2, 'desk')")
	history := filepath.Join(t.TempDir(), "history")
	tm := startTerm(t, []string{"HOME=" + t.TempDir(), "MERIDIAN_HISTORY=" + history}, ts.args()...)
	const wait = 20 * time.Second
	prompt := regexp.QuoteMeta("meridian:" + ts.database + "> ")
	tm.expect(`Type \\\? for help`, wait)
	tm.expect(prompt, wait)

	// A statement spread over lines, with the continuation prompt.
	tm.send("SELECT id, title\r")
	tm.expect(` +-> `, wait)
	tm.send("FROM items\r")
	tm.expect(` +-> `, wait)
	tm.send("ORDER BY id;\r")
	tm.expect(` id \| title\n----\+-------\n  1 \| lamp\n  2 \| desk\n\(2 rows\)\n`, wait)
	tm.expect(prompt, wait)

	// History: the up arrow brings the whole statement back as one line.
	tm.send("\x1b[A")
	tm.expect(regexp.QuoteMeta("SELECT id, title FROM items ORDER BY id;"), wait)
	tm.send("\r")
	tm.expect(`\(2 rows\)\n`, wait)
	tm.expect(prompt, wait)

	// Expanded display.
	tm.send("\\x\r")
	tm.expect(`Expanded display is on\.`, wait)
	tm.send("SELECT id, title FROM items WHERE id = 2;\r")
	tm.expect(`-\[ RECORD 1 \]-*\nid    \| 2\ntitle \| desk\n`, wait)
	tm.send("\\x\r")
	tm.expect(`Expanded display is off\.`, wait)

	// Timing, and the latency ledger if the server keeps one.
	tm.send("\\timing\r")
	tm.expect(`Timing is on\.`, wait)
	tm.send("SELECT COUNT(*) AS n FROM items;\r")
	tm.expect(` n\n---\n 2\n\(1 row\)\nTime: [0-9]+\.[0-9]{3} ms\n`, wait)
	if serverHasLatency(t, ts.db) {
		tm.expect(`Latency: \S+=\S+`, wait)
	}
	tm.send("\\timing off\r")
	tm.expect(`Timing is off\.`, wait)

	// An error shows its MySQL code, and the shell goes on.
	tm.send("SELECT * FROM no_such_table;\r")
	tm.expect(regexp.QuoteMeta("ERROR 1146 (42S02): Table '"+ts.tableRef("no_such_table")+"' doesn't exist"), wait)
	tm.expect(prompt, wait)

	// Ctrl-C cancels a running statement and leaves the shell usable.
	if requireSleep(t, ts.db) {
		marker := "sleep_" + ts.database // unique: a cancelled statement may still run on the server
		tm.send("SELECT SLEEP(10) AS " + marker + ";\r")
		waitRunning(t, ts.db, marker, wait)
		sent := time.Now()
		tm.send("\x03")
		tm.expect(`ERROR [^\n]*(interrupted|cancelled)`, wait)
		tm.expect(prompt, wait)
		if took := time.Since(sent); took > 8*time.Second {
			t.Errorf("the shell came back %v after Ctrl-C: the statement was not cancelled", took)
		}
		tm.send("SELECT 'still here' AS s;\r")
		tm.expect(` still here\n\(1 row\)\n`, wait)
		tm.expect(prompt, wait)
	}

	// Ctrl-C at the prompt clears the line being typed. (The echo shows the
	// line editor has the terminal: before that, Ctrl-C would be a signal.)
	tm.send("SELECT garbage")
	tm.expect("SELECT garbage", wait)
	tm.send("\x03")
	tm.expect(prompt, wait)
	tm.send("SELECT 40 + 2 AS answer;\r")
	out := tm.expect(`answer\n--------\n +42\n\(1 row\)\n`, wait)
	if strings.Contains(out, "ERROR") {
		t.Errorf("the cleared line was run:\n%s", out)
	}
	tm.expect(prompt, wait)

	tm.send("\\q\r")
	if code := tm.waitExit(wait); code != 0 {
		t.Errorf("\\q: exit status %d", code)
	}
	h, err := os.ReadFile(history)
	if err != nil {
		t.Fatalf("history file: %v", err)
	}
	for _, want := range []string{"SELECT id, title FROM items ORDER BY id;", `\x`, `\timing off`, "SELECT 40 + 2 AS answer;"} {
		if !strings.Contains(string(h), want+"\n") {
			t.Errorf("history lacks %q:\n%s", want, h)
		}
	}
}

// TestInteractiveCtrlD checks that Ctrl-D at the prompt exits cleanly, and
// that history from the last session is recalled.
func TestInteractiveCtrlD(t *testing.T) {
	ts := newTestServer(t)
	history := filepath.Join(t.TempDir(), "history")
	os.WriteFile(history, []byte("SELECT 'from last time' AS h;\n"), 0o600)
	tm := startTerm(t, []string{"MERIDIAN_HISTORY=" + history}, ts.args()...)
	prompt := regexp.QuoteMeta("meridian:" + ts.database + "> ")
	tm.expect(prompt, 20*time.Second)
	tm.send("\x1b[A\r")
	tm.expect(` from last time\n\(1 row\)\n`, 20*time.Second)
	tm.expect(prompt, 20*time.Second)
	tm.send("\x04")
	if code := tm.waitExit(20 * time.Second); code != 0 {
		t.Errorf("Ctrl-D: exit status %d", code)
	}
}
