package workload

import (
	"bytes"
	"context"
	"errors"
	"math/rand/v2"
	"reflect"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/meridiandb/meridian/checker"
	"github.com/meridiandb/meridian/checker/history"
	"github.com/meridiandb/meridian/geo-sim/bounds"
)

func TestParseMix(t *testing.T) {
	m, err := ParseMix("write=3, read", KVOps)
	if err != nil || !reflect.DeepEqual(m, []Weighted{{OpWrite, 3}, {OpRead, 1}}) {
		t.Fatalf("got %v, %v", m, err)
	}
	for _, bad := range []string{"", "write=0", "fly=1", "write=-1", "write=x"} {
		if _, err := ParseMix(bad, KVOps); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}

func runClient(t *testing.T, w Workload, gw *fakeGW, seed uint64, steps int) []string {
	t.Helper()
	c, err := w.NewClient(context.Background(), ClientEnv{Region: gw.region, Gateway: gw, Rand: rand.New(rand.NewPCG(seed, 2))})
	if err != nil {
		t.Fatal(err)
	}
	var ops []string
	for range steps {
		res, err := c.Step(context.Background())
		if err != nil {
			t.Fatalf("%s: %v", res.Op, err)
		}
		ops = append(ops, res.Op)
	}
	return ops
}

func TestKV(t *testing.T) {
	w, err := NewKV(KVOptions{Keys: 50, Mix: []Weighted{{OpWrite, 1}, {OpRead, 1}, {OpSnapshotRead, 1}}})
	if err != nil {
		t.Fatal(err)
	}
	spans := w.Spans([]string{"us-east", "eu-west"})
	if len(spans) != 2 || spans[1].Home != "eu-west" || bytes.Compare(spans[0].Key, []byte{0x20}) < 0 || bytes.Compare(spans[0].EndKey, []byte{0x74}) >= 0 {
		t.Fatalf("spans %q", spans)
	}
	ops := w.Ops()
	if len(ops) != 3 || ops[0].Kind != bounds.Write || ops[1].Kind != bounds.LeaseholderRead || ops[2].Kind != bounds.NearestRead {
		t.Fatalf("ops %+v", ops)
	}
	if sp := ops[0].Spans("eu-west"); len(sp) != 1 || !bytes.Equal(sp[0].Key, spans[1].Key) {
		t.Errorf("write spans %q", sp)
	}
	// The same seed gives the same operations on the same keys.
	a, b := newStore(), newStore()
	opsA := runClient(t, w, &fakeGW{s: a, region: "us-east"}, 9, 200)
	opsB := runClient(t, w, &fakeGW{s: b, region: "us-east"}, 9, 200)
	if !reflect.DeepEqual(opsA, opsB) || !reflect.DeepEqual(a.log, b.log) {
		t.Error("same seed, different operations")
	}
	for _, l := range a.log {
		if !bytes.HasPrefix([]byte(l[4:]), spans[0].Key) {
			t.Fatalf("key %q outside the region's span", l)
		}
	}
	for _, op := range []string{OpWrite, OpRead, OpSnapshotRead} {
		if !slices.Contains(opsA, op) {
			t.Errorf("no %s in 200 steps", op)
		}
	}
	// Transactions without the layer: Setup says what is missing.
	wt, _ := NewKV(KVOptions{Mix: []Weighted{{OpTxnWrite, 1}}})
	err = wt.Setup(context.Background(), SetupEnv{Gateway: &fakeGW{s: a, noTxn: true}})
	if !errors.Is(err, ErrNeedsTxnLayer) {
		t.Errorf("txn-write without txn: %v", err)
	}
	if _, err := NewKV(KVOptions{Prefix: []byte("\x74sql")}); err == nil {
		t.Error("a prefix in the SQL keyspace was accepted")
	}
}

func TestBank(t *testing.T) {
	b, err := NewBank(BankOptions{Accounts: 20})
	if err != nil {
		t.Fatal(err)
	}
	regions := []string{"us-east", "eu-west"}
	b.Spans(regions)
	ops := b.Ops()
	if len(ops) != 3 || ops[1].Kind != bounds.Commit2PC || len(ops[1].Spans("eu-west")) != 2 || len(ops[2].Spans("us-east")) != 2 {
		t.Fatalf("ops %+v", ops)
	}
	if err := b.Setup(context.Background(), SetupEnv{Regions: regions, Gateway: &fakeGW{noTxn: true}}); !errors.Is(err, ErrNeedsTxnLayer) {
		t.Fatalf("setup without txn: %v", err)
	}
	s := newStore()
	if err := b.Setup(context.Background(), SetupEnv{Regions: regions, Gateway: &fakeGW{s: s}}); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	seen := make(chan []string, 4)
	for i := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			seen <- runClient(t, b, &fakeGW{s: s, region: regions[i%2]}, uint64(i), 100)
		}()
	}
	wg.Wait()
	close(seen)
	var all []string
	for ops := range seen {
		all = append(all, ops...)
	}
	for _, op := range BankOps {
		if !slices.Contains(all, op) {
			t.Errorf("no %s in 400 steps", op)
		}
	}
	if err := b.Verify(context.Background(), &fakeGW{s: s}); err != nil {
		t.Fatal(err)
	}
	// Money appearing from nowhere is caught.
	s.data[string(b.account("us-east", 0))] = []byte("999999")
	if err := b.Verify(context.Background(), &fakeGW{s: s}); !errors.Is(err, ErrBankTotal) {
		t.Fatalf("verify after tampering: %v", err)
	}
}

func TestMultiRange(t *testing.T) {
	m := NewMultiRange([]byte("\x20t4/"), 5, 10)
	if len(m.Spans(nil)) != 5 || m.Ops()[0].Kind != bounds.Commit2PC || len(m.Ops()[0].Spans("x")) != 5 {
		t.Fatalf("spans or ops wrong: %+v", m.Ops())
	}
	if NewMultiRange([]byte("\x20t4/"), 1, 10).Ops()[0].Kind != bounds.Write {
		t.Error("one participant is not a plain write")
	}
	s := newStore()
	runClient(t, m, &fakeGW{s: s, region: "dc"}, 1, 3)
	if len(s.data) < 5 {
		t.Errorf("3 commits of 5 keys wrote %d keys", len(s.data))
	}
	if err := m.Setup(context.Background(), SetupEnv{Gateway: &fakeGW{noTxn: true}}); !errors.Is(err, ErrNeedsTxnLayer) {
		t.Errorf("setup without txn: %v", err)
	}
}

// TestRegistersHistory: a history of sequential writes with increasing
// timestamps passes the checker; one whose timestamps go back fails it.
func TestRegistersHistory(t *testing.T) {
	for _, lie := range []bool{false, true} {
		var buf bytes.Buffer
		clock := int64(0)
		h := history.NewWriter(&buf, func() int64 { clock++; return clock })
		r := NewRegisters([]byte("\x20lie/"), []string{"a", "b"}, h)
		s := newStore()
		if lie {
			s.ts = 1000 // the second key's writes will be stamped lower, below
		}
		gw := &fakeGW{s: s, region: "a"}
		c, _ := r.NewClient(context.Background(), ClientEnv{Region: "a", Gateway: gw, Rand: rand.New(rand.NewPCG(1, 1))})
		for i := range 6 {
			if lie && i == 3 {
				s.ts = 0 // the clock jumps back
			}
			if _, err := c.Step(context.Background()); err != nil {
				t.Fatal(err)
			}
		}
		if err := h.Flush(); err != nil {
			t.Fatal(err)
		}
		parsed, err := history.Parse(bytes.NewReader(buf.Bytes()))
		if err != nil {
			t.Fatalf("history does not parse: %v\n%s", err, buf.String())
		}
		res, err := checker.Check(parsed, checker.Options{Workload: checker.Register})
		if err != nil {
			t.Fatal(err)
		}
		if res.Valid == lie {
			t.Errorf("lie=%v: checker says valid=%v (%v)\n%s", lie, res.Valid, res.Counts, buf.String())
		}
	}
}

// TestMarketplaceOps: refused purchases are their own operation, and
// stale browsing reads are nearest-replica reads.
func TestMarketplaceOps(t *testing.T) {
	kinds := func(w *Marketplace) map[string]bounds.Kind {
		out := map[string]bounds.Kind{}
		for _, o := range w.Ops() {
			out[o.Name] = o.Kind
		}
		return out
	}
	strong := NewMarketplace(MarketplaceOptions{})
	stale := strong.WithBrowseStaleness(time.Second)
	if stale.data != strong.data {
		t.Error("WithBrowseStaleness does not share the data (it would be set up twice)")
	}
	ks, kst := kinds(strong), kinds(stale)
	if _, ok := ks[OpPurchaseRejected]; !ok {
		t.Errorf("ops %v lack %s", ks, OpPurchaseRejected)
	}
	for _, op := range MarketplaceBrowsing {
		if ks[op] != bounds.ReadOnly || kst[op] != bounds.NearestRead {
			t.Errorf("%s: kinds %v (strong) and %v (stale)", op, ks[op], kst[op])
		}
	}
	if ks["purchase"] != bounds.Commit2PC || kst["purchase"] != bounds.Commit2PC || kst["view_cart"] != bounds.ReadOnly {
		t.Errorf("purchase %v/%v, view_cart %v", ks["purchase"], kst["purchase"], kst["view_cart"])
	}
}
