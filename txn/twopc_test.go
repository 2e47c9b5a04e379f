package txn_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/cockroachdb/datadriven"

	"github.com/meridiandb/meridian/replication"
	"github.com/meridiandb/meridian/server"
	"github.com/meridiandb/meridian/truetime"
	"github.com/meridiandb/meridian/txn"
)

// TestTwoPhaseScenarios replays the scripts in testdata/twopc: transactions
// driven step by step against an in-process cluster of three nodes, with
// nodes crashed and leases moved between the steps. Node 1 is every
// transaction's gateway and is never crashed. Commands:
//
//	cluster splits=K[,K…] [recovery-age=D]
//	                               start the cluster, ranges split at the keys
//	begin t=T [lock-timeout=D]     start a read-write transaction
//	get t=T k=K [for-update]       a locking read
//	put t=T k=K v=V | del t=T k=K  buffered writes
//	commit t=T | rollback t=T      the whole commit, or abandon
//	group t=T                      assign writes to ranges (before the steps)
//	prepare t=T k=K coord=C        prepare the participant holding K
//	decide t=T k=K                 commit at the coordinator holding K
//	resolve t=T k=K commit|abort   tell the participant holding K
//	status t=T k=K                 the coordinator's decision
//	read k=K                       a read-only transaction's read
//	crash leaseholder-of=K         stop the node serving K's lease
//	restart                        restart crashed nodes
//	transfer-lease k=K             move K's lease to another replica
//	wait-resolved k=K              wait until K's range has no prepared txn
func TestTwoPhaseScenarios(t *testing.T) {
	datadriven.Walk(t, "testdata/twopc", func(t *testing.T, path string) {
		h := &twopc{t: t, txns: map[string]txn.Txn{}, maxPrep: map[string]truetime.Timestamp{}, down: map[int]bool{}}
		defer h.stop()
		datadriven.RunTest(t, path, h.run)
	})
}

type twopc struct {
	t       *testing.T
	c       *server.Cluster
	txns    map[string]txn.Txn
	names   map[string]string // txn id name -> script name
	maxPrep map[string]truetime.Timestamp
	down    map[int]bool
}

func (h *twopc) stop() {
	if h.c != nil {
		h.c.Stop()
	}
}

func (h *twopc) ctx() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), 20*time.Second)
}

var txnIDPattern = regexp.MustCompile(`n\d+-[0-9a-f]+`)

// result renders an outcome with transaction ids replaced by script names.
func (h *twopc) result(ok string, err error) string {
	if err == nil {
		return ok
	}
	msg := err.Error()
	msg = txnIDPattern.ReplaceAllStringFunc(msg, func(id string) string {
		if n, ok := h.names[id]; ok {
			return n
		}
		return "<txn>"
	})
	kind := "error"
	if txn.IsRetryable(err) {
		kind = "retryable error"
	}
	return kind + ": " + msg
}

func (h *twopc) run(t *testing.T, d *datadriven.TestData) string {
	arg := func(k string) string {
		var v string
		d.ScanArgs(t, k, &v)
		return v
	}
	key := func() []byte { return []byte("t/" + arg("k")) }
	tx := func() txn.Txn {
		x := h.txns[arg("t")]
		if x == nil {
			t.Fatalf("%s: no transaction %s", d.Pos, arg("t"))
		}
		return x
	}
	ctx, cancel := h.ctx()
	defer cancel()
	switch d.Cmd {
	case "cluster":
		// Recovery of abandoned prepared transactions waits recovery-age
		// (default: long enough not to interfere with the script's steps).
		age := 60 * time.Second
		if d.HasArg("recovery-age") {
			var err error
			if age, err = time.ParseDuration(arg("recovery-age")); err != nil {
				t.Fatal(err)
			}
		}
		cfg := server.Config{QueueInterval: 100 * time.Millisecond, TxnRecoveryAge: age}
		c, err := server.StartCluster(ctx, server.ClusterOptions{Nodes: 3, Node: cfg, Logger: testLogger()})
		if err != nil {
			t.Fatal(err)
		}
		h.c = c
		h.names = map[string]string{}
		if err := c.WaitReplicated(ctx, 3); err != nil {
			t.Fatal(err)
		}
		if d.HasArg("splits") {
			for _, k := range strings.Split(arg("splits"), ",") {
				if err := c.Node(1).Router().AdminSplit(ctx, []byte("t/"+k)); err != nil {
					t.Fatal(err)
				}
			}
		}
		return "ok"
	case "begin":
		o := txn.Options{}
		if d.HasArg("lock-timeout") {
			dur, err := time.ParseDuration(arg("lock-timeout"))
			if err != nil {
				t.Fatal(err)
			}
			o.LockTimeout = dur
		}
		x, err := h.c.Node(1).TxnDB().Begin(ctx, o)
		if err != nil {
			t.Fatal(err)
		}
		h.txns[arg("t")] = x
		h.names[x.ID()] = arg("t")
		return "ok"
	case "get":
		v, found, err := tx().Get(ctx, key(), txn.ReadOptions{ForUpdate: d.HasArg("for-update")})
		if err != nil || !found {
			return h.result("<not found>", err)
		}
		return string(v)
	case "put":
		return h.result("ok", tx().Put(ctx, key(), []byte(arg("v"))))
	case "del":
		return h.result("ok", tx().Delete(ctx, key()))
	case "commit":
		_, err := tx().Commit(ctx)
		return h.result("committed", err)
	case "rollback":
		return h.result("rolled back", tx().Rollback(ctx))
	case "group":
		return h.result("ok", txn.Step(tx()).Group(ctx))
	case "prepare":
		ts, err := txn.Step(tx()).Prepare(ctx, key(), []byte("t/"+arg("coord")))
		if err == nil && ts > h.maxPrep[arg("t")] {
			h.maxPrep[arg("t")] = ts
		}
		return h.result("prepared", err)
	case "decide":
		_, err := txn.Step(tx()).Decide(ctx, key(), h.maxPrep[arg("t")])
		return h.result("committed at the coordinator", err)
	case "resolve":
		st := txn.Step(tx())
		commit := d.HasArg("commit")
		ts := truetime.Timestamp(0)
		if commit {
			dec, err := st.Status(ctx, []byte("t/"+arg("coord")))
			if err != nil {
				return h.result("", err)
			}
			ts = truetime.Timestamp(dec.CommitTs)
		}
		return h.result("resolved", st.Resolve(ctx, key(), commit, ts))
	case "status":
		dec, err := txn.Step(tx()).Status(ctx, key())
		switch {
		case err != nil:
			return h.result("", err)
		case dec.Committed:
			return "committed"
		case dec.Aborted:
			return "aborted"
		}
		return "undecided"
	case "read":
		ro, err := h.c.Node(1).TxnDB().Begin(ctx, txn.Options{Mode: txn.ReadOnly})
		if err != nil {
			t.Fatal(err)
		}
		v, found, err := ro.Get(ctx, key(), txn.ReadOptions{})
		if err != nil || !found {
			return h.result("<not found>", err)
		}
		return string(v)
	case "crash":
		k := []byte("t/" + arg("leaseholder-of"))
		i := h.leaseholder(t, k)
		if i == 1 {
			h.moveLease(t, k)
			i = h.leaseholder(t, k)
		}
		h.c.StopNode(i)
		h.down[i] = true
		return "crashed the leaseholder"
	case "restart":
		for i := range h.down {
			if err := h.c.StartNode(ctx, i); err != nil {
				t.Fatal(err)
			}
			delete(h.down, i)
		}
		return "ok"
	case "transfer-lease":
		h.moveLease(t, key())
		return "moved"
	case "debug-range":
		for i, n := range h.c.Nodes {
			if n == nil {
				continue
			}
			if r := n.Store().LookupReplica(key()); r != nil {
				st := r.Status()
				t.Logf("n%d r%d leader=%v(%d) term=%d lease=%v serving=%v quiesced=%v", i+1, st.RangeID, st.IsLeader, st.Leader, st.Term, st.Lease, r.IsLeaseholder(), st.Quiesced)
			}
		}
		return "ok"
	case "debug-locks":
		var b strings.Builder
		for i, n := range h.c.Nodes {
			if n != nil {
				fmt.Fprintf(&b, "n%d:\n%s", i+1, n.TxnParticipant().Locks().Describe())
			}
		}
		t.Log(b.String())
		return "ok"
	case "wait-resolved":
		err := waitFor(30*time.Second, func() error {
			for i, n := range h.c.Nodes {
				if n == nil {
					continue
				}
				if r := n.Store().LookupReplica(key()); r != nil && r.Status().Prepared > 0 {
					return fmt.Errorf("n%d still has a prepared transaction on r%d", i+1, r.RangeID())
				}
			}
			return nil
		})
		return h.result("resolved", err)
	}
	t.Fatalf("%s: unknown command %s", d.Pos, d.Cmd)
	return ""
}

// leaseholder returns the node (from 1) serving the lease of key's range,
// asking the range to settle one if needed.
func (h *twopc) leaseholder(t *testing.T, key []byte) int {
	var out int
	err := waitFor(15*time.Second, func() error {
		for i, n := range h.c.Nodes {
			if n == nil {
				continue
			}
			r := n.Store().LookupReplica(key)
			if r == nil {
				continue
			}
			ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
			_, err := r.EnsureLease(ctx)
			cancel()
			if err == nil {
				out = i + 1
				return nil
			}
		}
		return errors.New("no leaseholder")
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// moveLease moves key's lease off its current holder, to a node other than
// node 1 if it can.
func (h *twopc) moveLease(t *testing.T, key []byte) {
	from := h.leaseholder(t, key)
	r := h.c.Node(from).Store().LookupReplica(key)
	for _, target := range []int{2, 3, 1} {
		if target == from || h.c.Node(target) == nil {
			continue
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		err := r.TransferLease(ctx, replication.NodeID(target))
		cancel()
		if err == nil {
			if err := waitFor(10*time.Second, func() error {
				if h.leaseholder(t, key) != target {
					return errors.New("lease not there yet")
				}
				return nil
			}); err == nil {
				return
			}
		}
	}
	t.Fatalf("could not move the lease of %q off n%d", key, from)
}

func waitFor(d time.Duration, cond func() error) error {
	deadline := truetime.Mono() + d
	for {
		err := cond()
		if err == nil || truetime.Mono() > deadline {
			return err
		}
		tm := time.NewTimer(20 * time.Millisecond)
		<-tm.C
	}
}

// testLogger logs the cluster's lines to stderr with -v, nowhere otherwise.
func testLogger() *slog.Logger {
	if !testing.Verbose() {
		return slog.New(slog.DiscardHandler)
	}
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
}
