package replication_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/meridiandb/meridian/replication"
	"github.com/meridiandb/meridian/replication/repltest"
)

// TestFollowerReadsWaitForSafeTime writes through the leaseholder and reads
// each write on the followers at its timestamp: a follower whose safe time
// covers the timestamp must have the write; once the leaseholder closes the
// timestamp, the follower serves it.
func TestFollowerReadsWaitForSafeTime(t *testing.T) {
	c := repltest.New(t, repltest.Options{Nodes: 3})
	c.Bootstrap(1, keyMin, keyMax, 1, 2, 3)
	c.Start()
	lh := c.Leaseholder(1, 5*time.Second)
	var followers []*replication.Replica
	for i := 1; i <= 3; i++ {
		if r, _ := c.Node(i).Store.GetReplica(1); r != lh {
			followers = append(followers, r)
		}
	}
	waited := 0
	for k := 0; k < 40; k++ {
		key, val := keyN(k), []byte(fmt.Sprint(k))
		ts, err := repltest.WriteAt(lh, key, val)
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range followers {
			// Whenever safe time covers ts, the write must be visible.
			if f.SafeTime() >= ts {
				if kv, ok, err := f.MVCCGet(key, ts); err != nil || !ok || string(kv.Value) != string(val) {
					t.Fatalf("n%d: safe time %d ≥ %d but %s reads %q (found %v, %v)", f.Store().NodeID(), f.SafeTime(), ts, key, kv.Value, ok, err)
				}
			} else {
				waited++
			}
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			err := f.FollowerReadAt(ctx, ts, 2*time.Second)
			cancel()
			if err != nil {
				t.Fatalf("n%d: follower read at %d: %v", f.Store().NodeID(), ts, err)
			}
			kv, ok, err := f.MVCCGet(key, ts)
			if err != nil || !ok || string(kv.Value) != string(val) {
				t.Fatalf("n%d: follower read of %s at %d = %q (found %v, %v)", f.Store().NodeID(), key, ts, kv.Value, ok, err)
			}
		}
	}
	t.Logf("followers had to wait for safe time on %d of %d reads", waited, 2*40)

	// A follower cut off from the leaseholder cannot serve a read at the
	// present: it gives up with ErrFollowerBehind.
	f := followers[0]
	c.Net.Isolate(f.Store().NodeID())
	now := f.Store().Clock().Now().Latest
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := f.FollowerReadAt(ctx, now, 200*time.Millisecond); !errors.Is(err, replication.ErrFollowerBehind) {
		t.Fatalf("isolated follower read at the present: %v, want ErrFollowerBehind", err)
	}
	c.Net.Heal()
	_ = repltest.WaitFor
}
