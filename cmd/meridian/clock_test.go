package main

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/meridiandb/meridian/truetime/ntptest"
)

// runMeridian runs the root command in-process with args.
func runMeridian(t *testing.T, args ...string) (stdout string, err error) {
	t.Helper()
	var out, errOut bytes.Buffer
	root := newRootCmd()
	root.SetArgs(args)
	root.SetOut(&out)
	root.SetErr(&errOut)
	err = root.Execute()
	if errOut.Len() > 0 {
		t.Errorf("meridian %s wrote to stderr: %q", strings.Join(args, " "), errOut.String())
	}
	return out.String(), err
}

func startNTPServer(t *testing.T, opts ntptest.Options) *ntptest.Server {
	t.Helper()
	s, err := ntptest.Start(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func TestDebugClockNTPJSON(t *testing.T) {
	t.Cleanup(func() { goleak.VerifyNone(t) }) // registered first, so it runs after the other cleanups
	a := startNTPServer(t, ntptest.Options{RootDispersion: time.Millisecond})
	b := startNTPServer(t, ntptest.Options{RootDispersion: time.Millisecond})
	before := time.Now().UnixNano()
	out, err := runMeridian(t, "debug", "clock", "--ntp", a.Addr()+", "+b.Addr(), "--json", "--timeout", "1s")
	after := time.Now().UnixNano()
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		Source      string  `json:"source"`
		EarliestNS  *int64  `json:"earliest_ns"`
		LatestNS    *int64  `json:"latest_ns"`
		EpsilonNS   *int64  `json:"epsilon_ns"`
		OffsetNS    *int64  `json:"offset_ns"`
		SinceSyncNS *int64  `json:"since_sync_ns"`
		Unsafe      *string `json:"unsafe"`
		Servers     []struct {
			Address string `json:"address"`
			Error   string `json:"error"`
			Liar    bool   `json:"liar"`
		} `json:"servers"`
	}
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("output is not JSON: %v\n%s", err, out)
	}
	if got.EarliestNS == nil || got.LatestNS == nil || got.EpsilonNS == nil || got.OffsetNS == nil ||
		got.SinceSyncNS == nil || got.Unsafe == nil {
		t.Fatalf("missing fields in %s", out)
	}
	if got.Source != "ntp" || *got.Unsafe != "" {
		t.Errorf("source %q, unsafe %q", got.Source, *got.Unsafe)
	}
	if *got.EarliestNS > after || *got.LatestNS < before {
		t.Errorf("[%d, %d] does not contain the real time, in [%d, %d]", *got.EarliestNS, *got.LatestNS, before, after)
	}
	if eps := time.Duration(*got.EpsilonNS); eps < time.Millisecond || eps > time.Second {
		t.Errorf("epsilon %s, want about 1ms", eps)
	}
	if len(got.Servers) != 2 || got.Servers[0].Address != a.Addr() || got.Servers[1].Address != b.Addr() ||
		got.Servers[0].Error != "" || got.Servers[1].Liar {
		t.Errorf("servers: %+v", got.Servers)
	}
}

func TestDebugClockText(t *testing.T) {
	t.Cleanup(func() { goleak.VerifyNone(t) }) // registered first, so it runs after the other cleanups
	srv := startNTPServer(t, ntptest.Options{})
	out, err := runMeridian(t, "debug", "clock", "--ntp", srv.Addr())
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"source      ntp\n", "earliest", "latest", "epsilon", "offset", "since sync", "status      ok\n", srv.Addr()} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}

	out, err = runMeridian(t, "debug", "clock", "--local-epsilon", "5ms", "--json")
	if err != nil {
		t.Fatal(err)
	}
	var local map[string]any
	if err := json.Unmarshal([]byte(out), &local); err != nil {
		t.Fatal(err)
	}
	if local["source"] != "local" || local["epsilon_ns"] != 5e6 {
		t.Errorf("local clock JSON: %s", out)
	}
}

func TestDebugClockErrors(t *testing.T) {
	t.Cleanup(func() { goleak.VerifyNone(t) }) // registered first, so it runs after the other cleanups
	silent := startNTPServer(t, ntptest.Options{Silent: true})
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--ntp", "127.0.0.1:1"}, "127.0.0.1:1"},
		{[]string{"--ntp", silent.Addr(), "--timeout", "100ms"}, silent.Addr()},
		{[]string{"--ntp", "nohost"}, `"nohost"`},
		{[]string{"--ntp", "127.0.0.1:99999"}, `"127.0.0.1:99999"`},
		{[]string{"--ntp", "127.0.0.1:123,"}, "empty server address"},
		{[]string{}, "pick a clock source"},
		{[]string{"--ntp", "127.0.0.1:1", "--local-epsilon", "1ms"}, "mutually exclusive"},
		{[]string{"--local-epsilon", "0s"}, "must be positive"},
		{[]string{"--ntp", "127.0.0.1:123", "--timeout", "0s"}, "must be positive"},
	} {
		args := append([]string{"debug", "clock"}, tc.args...)
		_, err := runMeridian(t, args...)
		if err == nil {
			t.Errorf("meridian %s succeeded", strings.Join(args, " "))
			continue
		}
		if msg := err.Error(); !strings.Contains(msg, tc.want) || strings.Contains(msg, "\n") {
			t.Errorf("meridian %s: error %q, want one line containing %q", strings.Join(args, " "), msg, tc.want)
		}
		if code := exitCode(err); code == 0 {
			t.Errorf("meridian %s: exit code 0", strings.Join(args, " "))
		}
	}
}
