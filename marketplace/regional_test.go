package marketplace

import (
	"database/sql"
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestStatementTemplates: the same statement serves both schemas; the
// region goes where its @ stands among the arguments.
func TestStatementTemplates(t *testing.T) {
	plain := &Store{}
	eu := &Store{opts: Options{Region: "eu-west"}}
	stale := &Store{opts: Options{Region: "eu-west", BrowseStaleness: 1500 * time.Millisecond}}
	for _, c := range []struct {
		s        *Store
		stmt     string
		args     []any
		want     string
		wantArgs []any
	}{
		{plain, "UPDATE items SET price = ? WHERE [[region = @ AND ]]id = ?", []any{5, 7},
			"UPDATE items SET price = ? WHERE id = ?", []any{5, 7}},
		{eu, "UPDATE items SET price = ? WHERE [[region = @ AND ]]id = ?", []any{5, 7},
			"UPDATE items SET price = ? WHERE region = ? AND id = ?", []any{5, "eu-west", 7}},
		{eu, "INSERT INTO t ([[region, ]]a, b) VALUES ([[@, ]]?, ?), ([[@, ]]?, ?)", []any{1, 2, 3, 4},
			"INSERT INTO t (region, a, b) VALUES (?, ?, ?), (?, ?, ?)", []any{"eu-west", 1, 2, "eu-west", 3, 4}},
		{plain, "INSERT INTO t ([[region, ]]a, b) VALUES ([[@, ]]?, ?), ([[@, ]]?, ?)", []any{1, 2, 3, 4},
			"INSERT INTO t (a, b) VALUES (?, ?), (?, ?)", []any{1, 2, 3, 4}},
		{eu, "SELECT x FROM c JOIN i ON i.id = c.item_id[[ AND i.region = c.region]] WHERE [[c.region = @ AND ]]c.b = ?", []any{9},
			"SELECT x FROM c JOIN i ON i.id = c.item_id AND i.region = c.region WHERE c.region = ? AND c.b = ?", []any{"eu-west", 9}},
		{plain, "SELECT x FROM items{asof} WHERE id = ?", []any{1}, "SELECT x FROM items WHERE id = ?", []any{1}},
		{stale, "SELECT [[region, ]]x FROM items{asof} WHERE [[region = @ AND ]]id = ?", []any{1},
			"SELECT region, x FROM items AS OF TIMESTAMP NOW(6) - INTERVAL 1500000 MICROSECOND WHERE region = ? AND id = ?", []any{"eu-west", 1}},
	} {
		got, args := c.s.q(c.stmt, c.args...)
		if got != c.want || !reflect.DeepEqual(args, c.wantArgs) {
			t.Errorf("q(%q, %v) in region %q:\n got %q %v\nwant %q %v", c.stmt, c.args, c.s.opts.Region, got, args, c.want, c.wantArgs)
		}
	}
}

func TestRegionalSchemaDDL(t *testing.T) {
	r := RegionalSchema{Regions: []string{"us-east", "eu-west"}, Policies: map[string]string{"us-east": "p_us_east"}, TablePolicy: "global"}
	ddl, err := r.DDL()
	if err != nil {
		t.Fatal(err)
	}
	if len(ddl) != len(Tables) {
		t.Fatalf("%d statements for %d tables", len(ddl), len(Tables))
	}
	for i, stmt := range ddl {
		for _, want := range []string{"CREATE TABLE " + Tables[i] + " (", "PRIMARY KEY (region, ", "PLACEMENT POLICY = `global`\nPARTITION BY LIST COLUMNS (region) (",
			"PARTITION p_us_east VALUES IN ('us-east') PLACEMENT POLICY = `p_us_east`,\n  PARTITION p_eu_west VALUES IN ('eu-west')\n)"} {
			if !strings.Contains(stmt, want) {
				t.Errorf("%s lacks %q:\n%s", Tables[i], want, stmt)
			}
		}
	}
	for _, bad := range []RegionalSchema{
		{},
		{Regions: []string{"us-east", "us_east"}},
		{Regions: []string{"us-east"}, Policies: map[string]string{"mars": "p"}},
	} {
		if _, err := bad.DDL(); err == nil {
			t.Errorf("%+v: no error", bad)
		}
	}
	if got := PartitionName("AP-Northeast 1"); got != "p_ap_northeast_1" {
		t.Errorf("PartitionName = %q", got)
	}
}

// requireMeridian skips t unless db is Meridian (the regional schema needs
// its partition placement and AS OF TIMESTAMP; MariaDB has neither).
func requireMeridian(t *testing.T, db *sql.DB) {
	t.Helper()
	var v string
	if err := db.QueryRowContext(ctxT(t), "SELECT VERSION()").Scan(&v); err != nil || !strings.Contains(v, "Meridian") {
		t.Skipf("needs Meridian (the server is %q, %v)", v, err)
	}
}

var testRegions = []string{"us-east", "eu-west", "ap-northeast"}

// regionalDB is a new database with the regional schema (partitions
// without placement policies: the test cluster has no regions) and a small
// sample.
func regionalDB(t *testing.T) *sql.DB {
	t.Helper()
	db := emptyTestDB(t)
	requireMeridian(t, db)
	ctx := ctxT(t)
	if err := CreateRegionalSchema(ctx, db, RegionalSchema{Regions: testRegions}); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadSample(ctx, db, SampleOptions{Seed: 7, Sellers: 6, Buyers: 12, Items: 60, Purchases: 15, Regions: testRegions}); err != nil {
		t.Fatal(err)
	}
	return db
}

// TestRegionalStore: each region's rows stay in its region, stores of a
// region act only on them, and browsing reaches every region.
func TestRegionalStore(t *testing.T) {
	db := regionalDB(t)
	ctx := ctxT(t)
	// Every buyer bought only from its own region.
	var crossed int
	if err := db.QueryRowContext(ctx, "SELECT COUNT(*) FROM purchase_lines l INNER JOIN items i ON i.id = l.item_id WHERE i.region <> l.region").Scan(&crossed); err != nil || crossed != 0 {
		t.Errorf("%d purchase lines of another region's items (%v)", crossed, err)
	}
	for _, table := range []string{"sellers", "buyers", "items"} {
		var regions int
		if err := db.QueryRowContext(ctx, "SELECT COUNT(DISTINCT region) FROM "+table).Scan(&regions); err != nil || regions != len(testRegions) {
			t.Errorf("%s spans %d regions (%v), want %d", table, regions, err, len(testRegions))
		}
	}
	pop, err := DiscoverRegional(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	if got := pop.Regions(); !slices.Equal(got, []string{"ap-northeast", "eu-west", "us-east"}) {
		t.Errorf("regions %v", got)
	}
	clock := newStepClock()
	eu := New(db, Options{Clock: clock, PasswordIterations: 1000, Region: "eu-west"})
	us := eu.In("us-east")
	b, err := eu.CreateBuyer(ctx, NewAccount{Username: "anna", Password: "pw"})
	if err != nil {
		t.Fatal(err)
	}
	// Usernames are per region: the same one in another region is another
	// account, and one region's store does not log in another's.
	if _, err := us.CreateBuyer(ctx, NewAccount{Username: "anna", Password: "other"}); err != nil {
		t.Errorf("the same username in another region: %v", err)
	}
	if _, err := eu.CreateBuyer(ctx, NewAccount{Username: "anna", Password: "pw"}); !errors.Is(err, ErrUsernameTaken) {
		t.Errorf("a taken username in its region: %v", err)
	}
	if _, err := us.BuyerLogin(ctx, "anna", "pw"); !errors.Is(err, ErrBadCredentials) {
		t.Errorf("us-east logged in eu-west's anna: %v", err)
	}
	if id, err := eu.BuyerLogin(ctx, "anna", "pw"); err != nil || id != b {
		t.Errorf("login: %d, %v; want %d", id, err, b)
	}
	seller, err := eu.CreateSeller(ctx, NewAccount{Username: "sam", Password: "pw"})
	if err != nil {
		t.Fatal(err)
	}
	item, err := eu.ListItem(ctx, seller, NewItem{Title: "Regional teapot", Category: "kitchen", Price: 1999, Quantity: 3})
	if err != nil {
		t.Fatal(err)
	}
	// Browsing reaches the item from any region's store through In; it
	// is not found as an item of another region.
	if it, err := us.In("eu-west").GetItem(ctx, item); err != nil || it.Region != "eu-west" || it.Title != "Regional teapot" {
		t.Errorf("GetItem through In: %+v, %v", it, err)
	}
	if _, err := us.GetItem(ctx, item); !errors.Is(err, ErrNotFound) {
		t.Errorf("GetItem in the wrong region: %v", err)
	}
	regions := map[string]bool{}
	for _, c := range append(CategoryNames(), "kitchen") {
		found, err := us.Search(ctx, Query{Category: c, Limit: 1000})
		if err != nil {
			t.Fatal(err)
		}
		for _, it := range found {
			regions[it.Region] = true
		}
	}
	if len(regions) != len(testRegions) {
		t.Errorf("searches found items of regions %v, want all of %v", regions, testRegions)
	}
	// Buyers buy locally: another region's item is not for sale to them.
	var unavailable *ErrItemUnavailable
	if err := us.AddToCart(ctx, BuyerID(pop.p.buyersIn["us-east"][0]), item, 1); !errors.As(err, &unavailable) {
		t.Errorf("a us-east buyer added an eu-west item: %v", err)
	}
	if err := eu.AddToCart(ctx, b, item, 2); err != nil {
		t.Fatal(err)
	}
	cart, err := eu.Cart(ctx, b)
	if err != nil || len(cart.Lines) != 1 || cart.Total != 2*1999 || !cart.Lines[0].Available {
		t.Fatalf("cart %+v, %v", cart, err)
	}
	p, err := eu.Purchase(ctx, b)
	if err != nil || p.Total != 2*1999 {
		t.Fatalf("purchase %+v, %v", p, err)
	}
	if h, err := eu.PurchaseHistory(ctx, b); err != nil || len(h) != 1 || len(h[0].Lines) != 1 {
		t.Errorf("history %+v, %v", h, err)
	}
	if _, err := eu.LeaveFeedback(ctx, b, p.ID, seller, 5, "fine"); err != nil {
		t.Errorf("feedback: %v", err)
	}
	if r, err := eu.SellerRating(ctx, seller); err != nil || r.Count != 1 {
		t.Errorf("rating %+v, %v", r, err)
	}
	if fb, err := eu.SellerFeedback(ctx, seller, 5); err != nil || len(fb) != 1 || fb[0].Buyer != "anna" {
		t.Errorf("feedback list %+v, %v", fb, err)
	}
	if items, err := eu.SellerItems(ctx, seller); err != nil || len(items) != 1 || items[0].Sold != 2 || items[0].Quantity != 1 {
		t.Errorf("seller items %+v, %v", items, err)
	}
	var left int
	if err := db.QueryRowContext(ctx, "SELECT quantity FROM items WHERE region = 'eu-west' AND id = ?", int64(item)).Scan(&left); err != nil || left != 1 {
		t.Errorf("stock %d, %v", left, err)
	}
}

// TestBrowseStaleness: a store's browsing reads see the data as of
// BrowseStaleness ago, its other reads the present.
func TestBrowseStaleness(t *testing.T) {
	db := regionalDB(t)
	ctx := ctxT(t)
	const staleness = 2 * time.Second
	fresh := New(db, Options{Clock: newStepClock(), PasswordIterations: 1000, Region: "us-east"})
	stale := New(db, Options{Clock: newStepClock(), PasswordIterations: 1000, Region: "us-east", BrowseStaleness: staleness})
	pop, err := DiscoverRegional(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	seller := pop.p.sellersIn["us-east"][0]
	// waitFor polls f until it holds (stale reads need data older than
	// the staleness, and time to pass).
	waitFor := func(what string, f func() bool) {
		t.Helper()
		deadline := time.Now().Add(time.Minute)
		for !f() {
			if time.Now().After(deadline) {
				t.Fatalf("%s: not within a minute", what)
			}
			tick := time.NewTimer(50 * time.Millisecond)
			select {
			case <-tick.C:
			case <-ctx.Done():
				t.Fatal(ctx.Err())
			}
		}
	}
	waitFor("stale reads of the sample", func() bool {
		items, err := stale.SellerItems(ctx, seller)
		return err == nil && len(items) > 0
	})
	item, err := fresh.ListItem(ctx, seller, NewItem{Title: "Fresh bread", Category: "kitchen", Price: 350, Quantity: 1})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := fresh.GetItem(ctx, item); err != nil {
		t.Fatalf("a strong read misses the new item: %v", err)
	}
	// Read right after the insert, 2s stale: the item is not there yet.
	if _, err := stale.GetItem(ctx, item); !errors.Is(err, ErrNotFound) {
		t.Errorf("a read %s stale found an item listed just now: %v", staleness, err)
	}
	waitFor("the new item in stale reads", func() bool {
		_, err := stale.GetItem(ctx, item)
		return err == nil
	})
	// Writes are not stale: the cart sees the item at once.
	b := pop.p.buyersIn["us-east"][0]
	if err := stale.AddToCart(ctx, b, item, 1); err != nil {
		t.Errorf("add to cart through a stale-browsing store: %v", err)
	}
}

// TestRegionalDriver runs drivers of every region through the whole mix
// on the regional schema.
func TestRegionalDriver(t *testing.T) {
	db := regionalDB(t)
	ctx := ctxT(t)
	pop, err := DiscoverRegional(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := NewDriver(db, pop, DriverOptions{Clock: newStepClock()}); err == nil {
		t.Error("a driver without a region on regional data: no error")
	}
	if _, err := NewDriver(db, pop, DriverOptions{Clock: newStepClock(), Region: "mars"}); err == nil {
		t.Error("a driver of an unknown region: no error")
	}
	ops := map[string]int{}
	for i, region := range testRegions {
		d, err := NewDriver(db, pop, DriverOptions{Index: i, Seed: 3, Clock: newStepClock(), RunID: "rt", Region: region})
		if err != nil {
			t.Fatal(err)
		}
		for range 60 {
			op, _, err := d.Step(ctx)
			if err != nil {
				t.Fatalf("%s: %s: %v", region, op, err)
			}
			ops[op]++
		}
	}
	if ops["purchase"] == 0 || ops["search"] == 0 || ops["add_to_cart"] == 0 {
		t.Errorf("operations %v", ops)
	}
	var crossed int
	if err := db.QueryRowContext(ctx, "SELECT COUNT(*) FROM cart_items c INNER JOIN items i ON i.id = c.item_id WHERE i.region <> c.region").Scan(&crossed); err != nil || crossed != 0 {
		t.Errorf("%d cart lines of another region's items (%v)", crossed, err)
	}
}
