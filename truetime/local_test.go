package truetime

import (
	"context"
	"testing"
	"time"
)

func TestLocalContainsSystemClock(t *testing.T) {
	for _, eps := range []time.Duration{0, 5 * time.Millisecond} {
		c := NewLocal(LocalOptions{Epsilon: eps})
		want := eps
		if want == 0 {
			want = DefaultLocalEpsilon
		}
		before := Timestamp(time.Now().UnixNano())
		iv := c.Now()
		after := Timestamp(time.Now().UnixNano())
		if iv.Earliest > before || iv.Latest < after {
			t.Errorf("Now() = %v does not contain [%v, %v]", iv, before, after)
		}
		if iv.Epsilon() != want {
			t.Errorf("epsilon = %s, want %s", iv.Epsilon(), want)
		}
		s := c.Status()
		if s.Source != SourceLocal || s.Epsilon != want || s.Unsafe != "" || s.SinceSync != 0 {
			t.Errorf("Status() = %+v", s)
		}
	}
}

func TestLocalCommitWait(t *testing.T) {
	c := NewLocal(LocalOptions{Epsilon: time.Millisecond})
	s := c.Now().Latest
	if c.After(s) || !c.Before(s+Timestamp(2*time.Millisecond)) {
		t.Fatalf("After/Before disagree with Now around %v", s)
	}
	if err := c.WaitUntilAfter(context.Background(), s); err != nil {
		t.Fatal(err)
	}
	if !c.After(s) {
		t.Errorf("WaitUntilAfter returned before After(%v)", s)
	}
	if now := Timestamp(time.Now().UnixNano()); now <= s {
		t.Errorf("commit wait ended at %v, not after %v", now, s)
	}
}

func TestLocalNegativeEpsilonPanics(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("NewLocal(-1ms) did not panic")
		}
	}()
	NewLocal(LocalOptions{Epsilon: -time.Millisecond})
}
