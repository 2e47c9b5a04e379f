package marketplace

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"testing"
)

func TestLoadSample(t *testing.T) {
	db := testDB(t)
	ctx := ctxT(t)
	rep, err := LoadSample(ctx, db, SampleOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("sample: %+v", rep)
	if rep.Sellers != 20 || rep.Buyers != 100 || rep.Items != 500 || rep.Purchases < 150 || rep.Feedback == 0 || rep.CartItems == 0 {
		t.Errorf("report %+v", rep)
	}
	for table, want := range map[string]int{"sellers": rep.Sellers, "buyers": rep.Buyers, "items": rep.Items, "purchases": rep.Purchases, "feedback": rep.Feedback} {
		var n int
		if err := db.QueryRowContext(ctx, "SELECT COUNT(*) FROM "+table).Scan(&n); err != nil || n != want {
			t.Errorf("%s: %d rows (%v), want %d", table, n, err, want)
		}
	}
	s := New(db, Options{Clock: newStepClock(), PasswordIterations: 1000})
	var user string
	db.QueryRowContext(ctx, "SELECT username FROM buyers ORDER BY id LIMIT 1").Scan(&user)
	if _, err := s.BuyerLogin(ctx, user, SamplePassword); err != nil {
		t.Errorf("sample buyer %q cannot log in: %v", user, err)
	}
	for _, c := range CategoryNames() {
		items, err := s.Search(ctx, Query{Category: c, Limit: 5})
		if err != nil || len(items) == 0 {
			t.Errorf("category %s: %d items, %v", c, len(items), err)
		}
	}
	var negative int
	db.QueryRowContext(ctx, "SELECT COUNT(*) FROM items WHERE quantity < 0").Scan(&negative)
	if negative != 0 {
		t.Errorf("%d items with negative stock", negative)
	}
}

// TestSampleIsDeterministic loads the same small sample twice and compares.
func TestSampleIsDeterministic(t *testing.T) {
	opts := SampleOptions{Seed: 42, Sellers: 3, Buyers: 5, Items: 30, Purchases: 10}
	digest := func() string {
		db := testDB(t)
		ctx := ctxT(t)
		if _, err := LoadSample(ctx, db, opts); err != nil {
			t.Fatal(err)
		}
		var b strings.Builder
		for _, q := range []string{
			"SELECT username, display_name, password_hash, created_at FROM sellers ORDER BY id",
			"SELECT title, category, keywords, item_condition, price, quantity, listed_at FROM items ORDER BY id",
			"SELECT total, purchased_at FROM purchases ORDER BY id",
			"SELECT rating, comment FROM feedback ORDER BY id",
		} {
			dump(t, ctx, db, q, &b)
		}
		return b.String()
	}
	if a, b := digest(), digest(); a != b {
		t.Errorf("two loads differ:\n%s\n---\n%s", a, b)
	}
}

func dump(t *testing.T, ctx context.Context, db *sql.DB, q string, b *strings.Builder) {
	rows, err := db.QueryContext(ctx, q)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	vals := make([]sql.NullString, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		fmt.Fprintln(b, vals)
	}
}
