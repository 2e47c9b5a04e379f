package shell

import (
	"bytes"
	"context"
	"errors"
	"os"
	"strings"
	"testing"
	"time"
)

// TestCancelFallsBackToDroppingTheConnection covers servers on which KILL
// QUERY does nothing: the statement is cancelled by dropping the
// connection after KillGrace, or at once on a second interrupt, and the
// user is told the session was reset.
func TestCancelFallsBackToDroppingTheConnection(t *testing.T) {
	for _, tc := range []struct {
		name       string
		interrupts int
	}{{"grace", 1}, {"second interrupt", 2}} {
		t.Run(tc.name, func(t *testing.T) {
			ts := newTestServer(t)
			if !requireSleep(t, ts.db) {
				return
			}
			interrupts := make(chan os.Signal, 2)
			var out, errb bytes.Buffer
			opts := ts.options()
			opts.Out, opts.Err, opts.Interrupts = &out, &errb, interrupts
			opts.KillGrace = 300 * time.Millisecond
			opts.Knobs.KillStatement = func(int64) string { return "DO 0" } // a KILL without effect
			// Unique: the statement of a dropped connection may still run.
			marker := "cancel_" + ts.database
			opts.Scripts = []string{"SELECT SLEEP(10) AS " + marker}
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			done := make(chan error, 1)
			go func() { done <- Run(ctx, opts) }()
			waitRunning(t, ts.db, marker, 20*time.Second)
			start := time.Now()
			for range tc.interrupts {
				interrupts <- os.Interrupt
			}
			err := <-done
			if took := time.Since(start); took > 5*time.Second {
				t.Errorf("Run returned %v after the interrupt", took)
			}
			if !errors.Is(err, errInterrupted) && !errors.Is(err, ErrStatementFailed) {
				t.Errorf("Run = %v, want an interrupted statement", err)
			}
			if s := errb.String(); !strings.Contains(s, "cancelled by the user") || !strings.Contains(s, "connection was reset") {
				t.Errorf("stderr %q", s)
			}
		})
	}
}
