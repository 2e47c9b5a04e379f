package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// runCheck runs `meridian check` with args and returns stdout and the exit
// code main would use.
func runCheck(t *testing.T, args ...string) (string, int) {
	t.Helper()
	root := newRootCmd()
	var out bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&out)
	root.SetArgs(append([]string{"check"}, args...))
	err := root.Execute()
	code := 0
	if err != nil {
		code = exitCode(err)
		out.WriteString("error: " + err.Error() + "\n")
	}
	return out.String(), code
}

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

const validHistory = `{"type":"invoke","process":1,"time":1,"value":[["append","x",1]]}
{"type":"ok","process":1,"time":2,"value":[["append","x",1]]}
{"type":"invoke","process":2,"time":3,"value":[["r","x",null]]}
{"type":"ok","process":2,"time":4,"value":[["r","x",[1]]]}
`

const staleRegister = `{"type":"invoke","process":1,"time":1,"value":[["w","x",1]]}
{"type":"ok","process":1,"time":2,"value":[["w","x",1]]}
{"type":"invoke","process":2,"time":3,"value":[["r","x",null]]}
{"type":"ok","process":2,"time":4,"value":[["r","x",null]]}
`

func TestCheckCmdValid(t *testing.T) {
	out, code := runCheck(t, "--history", writeFile(t, "h.jsonl", validHistory))
	if code != 0 || !strings.Contains(out, "valid: no anomalies found") {
		t.Fatalf("exit %d, output:\n%s", code, out)
	}
}

func TestCheckCmdAnomalies(t *testing.T) {
	out, code := runCheck(t, "--history", writeFile(t, "h.jsonl", staleRegister))
	if code != 1 {
		t.Fatalf("exit %d, want 1; output:\n%s", code, out)
	}
	for _, want := range []string{"G-single-realtime", "T2 -rw-> T1", "T1 -realtime-> T2", "lines 1-2", "lines 3-4", "nonlinearizable"} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q:\n%s", want, out)
		}
	}
}

func TestCheckCmdMalformed(t *testing.T) {
	bad := validHistory + `{"type":"ok","process":7,"time":5,"value":[]}` + "\n"
	path := writeFile(t, "bad.jsonl", bad)
	out, code := runCheck(t, "--history", path)
	if code != 2 {
		t.Fatalf("exit %d, want 2; output:\n%s", code, out)
	}
	if !strings.Contains(out, path+": line 5: ") {
		t.Fatalf("error does not name the file and line 5:\n%s", out)
	}
	_, code = runCheck(t, "--history", filepath.Join(t.TempDir(), "missing.jsonl"))
	if code != 2 {
		t.Fatalf("missing file: exit %d, want 2", code)
	}
	_, code = runCheck(t)
	if code != 2 {
		t.Fatalf("no --history: exit %d, want 2", code)
	}
}

func TestCheckCmdJSON(t *testing.T) {
	out, code := runCheck(t, "--json", "--history", writeFile(t, "h.jsonl", staleRegister))
	if code != 1 {
		t.Fatalf("exit %d, want 1", code)
	}
	out = out[:strings.LastIndex(out, "error:")]
	var rep struct {
		Valid     bool           `json:"valid"`
		Counts    map[string]int `json:"counts"`
		Anomalies []struct {
			Type         string `json:"type"`
			Transactions []struct {
				ID         string `json:"id"`
				InvokeLine int    `json:"invoke_line"`
			} `json:"transactions"`
			Cycle []struct {
				From, To, Kind string
			} `json:"cycle"`
		} `json:"anomalies"`
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("%v:\n%s", err, out)
	}
	if rep.Valid || rep.Counts["G-single-realtime"] != 1 || len(rep.Anomalies) == 0 {
		t.Fatalf("unexpected report: %+v", rep)
	}
	a := rep.Anomalies[0]
	if a.Type != "G-single-realtime" || len(a.Cycle) != 2 || a.Cycle[0].Kind != "rw" || a.Transactions[0].InvokeLine != 3 {
		t.Fatalf("unexpected first anomaly: %+v", a)
	}
}

func TestCheckCmdHTML(t *testing.T) {
	html := filepath.Join(t.TempDir(), "out.html")
	out, code := runCheck(t, "--html", html, "--history", writeFile(t, "h.jsonl", staleRegister))
	if code != 1 {
		t.Fatalf("exit %d, want 1:\n%s", code, out)
	}
	b, err := os.ReadFile(html)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(b, []byte("<html")) {
		t.Fatalf("not HTML: %.200s", b)
	}
	// List-append histories have nothing to visualize: said, not fatal.
	html2 := filepath.Join(t.TempDir(), "none.html")
	out, code = runCheck(t, "--html", html2, "--history", writeFile(t, "h.jsonl", validHistory))
	if code != 0 || !strings.Contains(out, "no linearizability check to visualize") {
		t.Fatalf("exit %d:\n%s", code, out)
	}
	if _, err := os.Stat(html2); !os.IsNotExist(err) {
		t.Fatalf("%s written for a list-append history", html2)
	}
}

func TestCheckCmdStdin(t *testing.T) {
	root := newRootCmd()
	var out bytes.Buffer
	root.SetOut(&out)
	root.SetIn(strings.NewReader(validHistory))
	root.SetArgs([]string{"check", "--history", "-"})
	if err := root.Execute(); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
}
