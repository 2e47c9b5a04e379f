package shell

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// runBatch runs the shell on scripts and files against ts and returns what
// it wrote to Out and Err.
func runBatch(t *testing.T, ts *testServer, mod func(*Options)) (stdout, stderr string, err error) {
	t.Helper()
	var out, errb bytes.Buffer
	opts := ts.options()
	opts.Out, opts.Err = &out, &errb
	opts.In = strings.NewReader("")
	opts.Interrupts = make(chan os.Signal) // never
	mod(&opts)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	err = Run(ctx, opts)
	return out.String(), errb.String(), err
}

func TestExecuteScripts(t *testing.T) {
	ts := newTestServer(t)
	out, errOut, err := runBatch(t, ts, func(o *Options) {
		o.Scripts = []string{
			"CREATE TABLE t (id INT PRIMARY KEY, name VARCHAR(20), price DECIMAL(12,2)); " +
				"INSERT INTO t VALUES (1, 'lamp', 12.5), (2, NULL, 3)",
			"SELECT id, name, price FROM t ORDER BY id; SELECT COUNT(*) AS n FROM t WHERE name IS NULL",
		}
	})
	if err != nil {
		t.Fatalf("Run: %v (stderr %q)", err, errOut)
	}
	want := lines(
		"Query OK, 0 rows affected",
		"Query OK, 2 rows affected",
		" id | name | price",
		"----+------+-------",
		"  1 | lamp | 12.50",
		"  2 | NULL |  3.00",
		"(2 rows)",
		" n",
		"---",
		" 1",
		"(1 row)",
	)
	if out != want {
		t.Errorf("output:\n%s\nwant:\n%s", out, want)
	}
	if errOut != "" {
		t.Errorf("stderr: %q", errOut)
	}
}

func TestExecuteStopsAtFirstError(t *testing.T) {
	ts := newTestServer(t)
	script := "SELECT 'before' AS a; SELECT * FROM no_such_table; SELECT 'after' AS a"
	out, errOut, err := runBatch(t, ts, func(o *Options) { o.Scripts = []string{script} })
	if !errors.Is(err, ErrStatementFailed) {
		t.Fatalf("Run = %v, want ErrStatementFailed", err)
	}
	want := "ERROR 1146 (42S02): Table '" + ts.tableRef("no_such_table") + "' doesn't exist\n"
	if errOut != want {
		t.Errorf("stderr %q, want %q", errOut, want)
	}
	if !strings.Contains(out, "before") || strings.Contains(out, "after") {
		t.Errorf("output %q: want the first statement's result only", out)
	}

	out, _, err = runBatch(t, ts, func(o *Options) {
		o.Scripts = []string{script}
		o.ContinueOnError = true
	})
	if !errors.Is(err, ErrStatementFailed) {
		t.Fatalf("Run with ContinueOnError = %v, want ErrStatementFailed", err)
	}
	if !strings.Contains(out, "after") {
		t.Errorf("ContinueOnError output %q lacks the last statement", out)
	}
}

func TestFileWithCommands(t *testing.T) {
	ts := newTestServer(t)
	dir := t.TempDir()
	inc := filepath.Join(dir, "inc.sql")
	os.WriteFile(inc, []byte("INSERT INTO items (title) VALUES ('from include');\n"), 0o644)
	file := filepath.Join(dir, "script.sql")
	script := `-- a script with comments, statements over several lines and commands
CREATE TABLE items (
  id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  title VARCHAR(100) NOT NULL, -- the name; shown to buyers
  category VARCHAR(20) NOT NULL DEFAULT 'misc',
  UNIQUE INDEX uq_title (title),
  INDEX idx_cat (category, id)
);
INSERT INTO items (title, category) VALUES
  ('lamp; brass', 'home'),
  ('desk', 'home');
\i ` + inc + `
\dt
\x
SELECT id, title FROM items WHERE id = 1;
\x off
SELECT title FROM items ORDER BY id\G
`
	os.WriteFile(file, []byte(script), 0o644)
	out, errOut, err := runBatch(t, ts, func(o *Options) { o.Files = []string{file} })
	if err != nil {
		t.Fatalf("Run: %v (stderr %q)", err, errOut)
	}
	want := lines(
		"Query OK, 0 rows affected",
		"Query OK, 2 rows affected",
		"Query OK, 1 row affected",
		" Name  | Type",
		"-------+-------",
		" items | table",
		"(1 row)",
		"Expanded display is on.",
		"-[ RECORD 1 ]------",
		"id    | 1",
		"title | lamp; brass",
		"Expanded display is off.",
		"-[ RECORD 1 ]-------",
		"title | lamp; brass",
		"-[ RECORD 2 ]-------",
		"title | desk",
		"-[ RECORD 3 ]-------",
		"title | from include",
	)
	if out != want {
		t.Errorf("output:\n%s\nwant:\n%s", out, want)
	}
}

// TestDescribe checks \d TABLE loosely: servers differ in how they spell
// types (bigint(20) or bigint) and so in column widths.
func TestDescribe(t *testing.T) {
	ts := newTestServer(t)
	ts.exec(t, `CREATE TABLE items (
  id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  title VARCHAR(100) NOT NULL,
  category VARCHAR(20) NOT NULL DEFAULT 'misc',
  note TEXT,
  UNIQUE INDEX uq_title (title),
  INDEX idx_cat (category, id))`)
	out, errOut, err := runBatch(t, ts, func(o *Options) { o.Scripts = []string{`\d items`} })
	if err != nil {
		t.Fatalf("%v (%s)", err, errOut)
	}
	for _, re := range []string{
		`^Table "` + ts.database + `.items"\n`,
		`\n Column +\| Type +\| Nullable +\| Key +\| Default +\| Extra\n`,
		`\n id +\| bigint(\(20\))? +\| NO +\| PRI +\| NULL +\| auto_increment\n`,
		`\n title +\| varchar\(100\) +\| NO +\| UNI +\| NULL +\|\n`,
		`\n category +\| varchar\(20\) +\| NO +\| MUL +\| '?misc'? +\|\n`,
		`\n note +\| text +\| YES +\| +\| NULL +\|\n`,
		`\n\(4 rows\)\nIndexes:\n    PRIMARY PRIMARY KEY \(id\)\n    uq_title UNIQUE \(title\)\n    idx_cat INDEX \(category, id\)\n$`,
	} {
		if !regexp.MustCompile(re).MatchString(out) {
			t.Errorf("\\d items output does not match %s:\n%s", re, out)
		}
	}
	_, errOut, err = runBatch(t, ts, func(o *Options) { o.Scripts = []string{`\d nope`} })
	if err == nil || !strings.Contains(errOut, "ERROR 1146 (42S02)") {
		t.Errorf("\\d nope: %v, stderr %q", err, errOut)
	}
}

func TestFormatsAgainstServer(t *testing.T) {
	ts := newTestServer(t)
	ts.exec(t, "CREATE TABLE t (id INT PRIMARY KEY, name VARCHAR(20), price DECIMAL(12,2))",
		"INSERT INTO t VALUES (1, 'a,b', 1.5), (2, NULL, 2)")
	for format, want := range map[Format]string{
		FormatCSV:  lines("id,name,price", `1,"a,b",1.50`, "2,,2.00"),
		FormatTSV:  lines("id\tname\tprice", "1\ta,b\t1.50", "2\t\\N\t2.00"),
		FormatJSON: lines("[", `{"id":1,"name":"a,b","price":1.50},`, `{"id":2,"name":null,"price":2.00}`, "]"),
	} {
		out, errOut, err := runBatch(t, ts, func(o *Options) {
			o.Format = format
			o.Scripts = []string{"UPDATE t SET price = price WHERE id = 0; SELECT * FROM t ORDER BY id"}
		})
		if err != nil {
			t.Fatalf("%s: %v (%s)", format, err, errOut)
		}
		if out != want {
			t.Errorf("%s output:\n%s\nwant:\n%s", format, out, want)
		}
	}
}

func TestStdinScript(t *testing.T) {
	ts := newTestServer(t)
	out, _, err := runBatch(t, ts, func(o *Options) {
		o.In = strings.NewReader("SELECT 1 + 1 AS two;\nSELECT 'no terminator' AS x")
	})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, " 2\n") || !strings.Contains(out, "no terminator") {
		t.Errorf("output %q", out)
	}
}

// TestCommandExitStatus runs the real command in a subprocess: a script
// error gives exit status 1 with the MySQL error on stderr.
func TestCommandExitStatus(t *testing.T) {
	ts := newTestServer(t)
	run := func(args ...string) (string, string, int) {
		cmd := exec.Command(os.Args[0], append(ts.args(), args...)...)
		cmd.Env = append(os.Environ(), helperEnv+"=1")
		var out, errb bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errb
		err := cmd.Run()
		code := 0
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			code = ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		return out.String(), errb.String(), code
	}
	if out, errOut, code := run("-e", "SELECT 6 * 7 AS answer", "--format", "csv"); code != 0 || out != "answer\n42\n" {
		t.Errorf("-e ok: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	_, errOut, code := run("-e", "SELECT 1; SELEC 2")
	if code != 1 || !regexp.MustCompile(`(?m)^ERROR 1064 \(42000\): `).MatchString(errOut) {
		t.Errorf("-e syntax error: exit %d, stderr %q", code, errOut)
	}
	file := filepath.Join(t.TempDir(), "bad.sql")
	os.WriteFile(file, []byte("SELECT 1;\n\nSELECT * FROM missing;\n"), 0o644)
	_, errOut, code = run("-f", file)
	if code != 1 || !strings.Contains(errOut, "ERROR 1146 (42S02)") || !strings.Contains(errOut, file+", line 3") {
		t.Errorf("-f error: exit %d, stderr %q", code, errOut)
	}
	if _, errOut, code := run("-e", `\nonsense`); code != 1 || !strings.Contains(errOut, "invalid command") {
		t.Errorf("bad command: exit %d, stderr %q", code, errOut)
	}
}

func TestOutputRedirectAndHelp(t *testing.T) {
	ts := newTestServer(t)
	file := filepath.Join(t.TempDir(), "out.txt")
	out, errOut, err := runBatch(t, ts, func(o *Options) {
		o.Scripts = []string{`\o ` + file + "\nSELECT 'to the file' AS a;\n\\o\nSELECT 'to stdout' AS b;\n\\?"}
	})
	if err != nil {
		t.Fatalf("%v (%s)", err, errOut)
	}
	got, _ := os.ReadFile(file)
	if string(got) != lines(" a", "-------------", " to the file", "(1 row)") {
		t.Errorf("file:\n%s", got)
	}
	if strings.Contains(out, "to the file") || !strings.Contains(out, " to stdout\n") || !strings.Contains(out, `\d NAME`) {
		t.Errorf("stdout:\n%s", out)
	}
}
