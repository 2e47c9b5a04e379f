package marketplace

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"testing/quick"
	"time"

	"github.com/go-sql-driver/mysql"
)

func TestCents(t *testing.T) {
	for in, want := range map[string]Cents{"12.50": 1250, "12.5": 1250, "12": 1200, "0.05": 5, "-3.10": -310, "1234567890.99": 123456789099, "7.000": 700} {
		got, err := ParseCents(in)
		if err != nil || got != want {
			t.Errorf("ParseCents(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "x", "1.234", "1.2.3", ".5", "+1"} {
		if _, err := ParseCents(bad); err == nil {
			t.Errorf("ParseCents(%q) succeeded", bad)
		}
	}
	roundTrip := func(c int64) bool {
		p, err := ParseCents(Cents(c).String())
		return err == nil && p == Cents(c)
	}
	if err := quick.Check(roundTrip, nil); err != nil {
		t.Error(err)
	}
	var c Cents
	for src, want := range map[any]Cents{"3.99": 399, int64(4): 400, 2.675: 268} {
		if err := c.Scan(src); err != nil || c != want {
			t.Errorf("Scan(%v) = %v, %v; want %v", src, c, err, want)
		}
	}
}

func TestPasswords(t *testing.T) {
	h, err := hashPassword("s3cret", 1000, bytes.NewReader(make([]byte, 16)))
	if err != nil {
		t.Fatal(err)
	}
	if !checkPassword(h, "s3cret") || checkPassword(h, "s3cret!") || checkPassword("garbage", "s3cret") {
		t.Errorf("checkPassword on %q", h)
	}
	h2, _ := hashPassword("s3cret", 1000, bytes.NewReader(bytes.Repeat([]byte{1}, 16)))
	if h == h2 {
		t.Error("different salts gave the same hash")
	}
}

func TestKeywordText(t *testing.T) {
	got := keywordText("Brass Desk Lamp (vintage)", []string{"Lighting", "lamp", "brass"})
	if want := "lighting lamp brass desk vintage"; got != want {
		t.Errorf("keywordText = %q, want %q", got, want)
	}
}

func TestRetry(t *testing.T) {
	deadlock := &mysql.MySQLError{Number: 1213, SQLState: [5]byte{'4', '0', '0', '0', '1'}, Message: "Deadlock found"}
	p := RetryPolicy{MaxAttempts: 4, MinBackoff: time.Microsecond, MaxBackoff: time.Microsecond}
	retries := 0
	p.OnRetry = func(error) { retries++ }
	calls := 0
	err := retry(context.Background(), p, func() error {
		calls++
		if calls < 3 {
			return deadlock
		}
		return nil
	})
	if err != nil || calls != 3 || retries != 2 {
		t.Errorf("retry: err %v, calls %d, retries %d", err, calls, retries)
	}
	calls = 0
	err = retry(context.Background(), p, func() error { calls++; return deadlock })
	if !errors.Is(err, deadlock) || calls != 4 {
		t.Errorf("retry past MaxAttempts: err %v, calls %d", err, calls)
	}
	calls = 0
	other := &mysql.MySQLError{Number: 1146, Message: "no table"}
	if err := retry(context.Background(), p, func() error { calls++; return other }); err != other || calls != 1 {
		t.Errorf("retry of a non-retryable error: err %v, calls %d", err, calls)
	}
	for _, e := range []error{deadlock, &mysql.MySQLError{Number: 1205}, &mysql.MySQLError{Number: 9999, SQLState: [5]byte{'4', '0', '0', '0', '1'}}, errRetry} {
		if !IsRetryable(e) {
			t.Errorf("IsRetryable(%v) = false", e)
		}
	}
}
