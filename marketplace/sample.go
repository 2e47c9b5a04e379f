package marketplace

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"
)

// SamplePassword is the password of every sample account.
const SamplePassword = "marketplace"

// SampleEpoch is the default "now" of sample data.
var SampleEpoch = time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)

// SampleOptions size the sample data. The zero value of a field is its
// default; the same options on an empty schema give the same data.
type SampleOptions struct {
	// Seed of the generator. Default 1.
	Seed uint64
	// Sellers, Buyers and Items to create. Defaults 20, 100, 500.
	Sellers, Buyers, Items int
	// Purchases to make (through Store.Purchase, 1–3 items each). Default
	// 200; negative: none.
	Purchases int
	// FeedbackPercent of (purchase, seller) pairs that get a rating.
	// Default 60; negative: none.
	FeedbackPercent int
	// CartPercent of buyers left with something in their cart. Default 20;
	// negative: none.
	CartPercent int
	// Now is when the data is "as of": accounts and listings are dated in
	// the year before, purchases in the month before. Default SampleEpoch.
	Now time.Time
	// PasswordIterations hash SamplePassword. Default 1000 (sample data is
	// for demos and workloads, not secrets).
	PasswordIterations int
	// BatchSize is the number of rows per INSERT. Default 100.
	BatchSize int
	// Regions, for the regional schema (CreateRegionalSchema), spreads the
	// sellers and buyers over these regions in turn; a seller's items are
	// in its region, and each buyer buys (and fills its cart with) items
	// of its own region. Empty: the plain schema.
	Regions []string
}

func (o *SampleOptions) setDefaults() {
	def := func(v *int, d int) {
		if *v == 0 {
			*v = d
		}
	}
	if o.Seed == 0 {
		o.Seed = 1
	}
	def(&o.Sellers, 20)
	def(&o.Buyers, 100)
	def(&o.Items, 500)
	def(&o.Purchases, 200)
	def(&o.FeedbackPercent, 60)
	def(&o.CartPercent, 20)
	def(&o.PasswordIterations, 1000)
	def(&o.BatchSize, 100)
	if o.Now.IsZero() {
		o.Now = SampleEpoch
	}
}

// SampleReport counts what LoadSample created.
type SampleReport struct {
	Sellers, Buyers, Items, Purchases, Feedback, CartItems int
}

// randReader turns a seeded generator into an io.Reader (password salts).
type randReader struct{ r *rand.Rand }

func (rr randReader) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = byte(rr.r.Uint32())
	}
	return len(p), nil
}

// sampleClock moves by step on every reading.
type sampleClock struct {
	t    time.Time
	step time.Duration
}

func (c *sampleClock) Now() time.Time { c.t = c.t.Add(c.step); return c.t }

// LoadSample fills the (empty) schema in db with sample sellers, buyers,
// items, purchases, feedback and carts, all with password SamplePassword.
// Accounts and items are inserted in batches; purchases, feedback and
// carts go through a Store, like a user's.
func LoadSample(ctx context.Context, db *sql.DB, opts SampleOptions) (SampleReport, error) {
	opts.setDefaults()
	r := rand.New(rand.NewPCG(opts.Seed, opts.Seed*0x9e3779b97f4a7c15+1))
	var rep SampleReport
	year := int64(365 * 24 * time.Hour / time.Second)
	past := func(span int64) string {
		return sqlTime(opts.Now.Add(-time.Duration(r.Int64N(span)) * time.Second))
	}
	regional := len(opts.Regions) > 0
	// regionOf maps the ids of sellers, buyers and items to their regions
	// (regional schema).
	regionOf := map[string]map[int64]string{}
	// withRegion prepends the region column to columns and rows.
	withRegion := func(columns string, rows [][]any, region func(i int) string) (string, [][]any) {
		if !regional {
			return columns, rows
		}
		for i := range rows {
			rows[i] = append([]any{region(i)}, rows[i]...)
		}
		return "region, " + columns, rows
	}
	accounts := func(table string, n int, name func(*rand.Rand, int) (string, string)) ([]int64, error) {
		rows := make([][]any, n)
		for i := range rows {
			u, d := name(r, i+1)
			hash, err := hashPassword(SamplePassword, opts.PasswordIterations, randReader{r})
			if err != nil {
				return nil, err
			}
			rows[i] = []any{u, d, u + "@example.com", hash, past(year)}
		}
		cols, rows := withRegion("username, display_name, email, password_hash, created_at", rows, func(i int) string { return opts.Regions[i%len(opts.Regions)] })
		if err := insertRows(ctx, db, table, cols, rows, opts.BatchSize); err != nil {
			return nil, err
		}
		return ids(ctx, db, table, regional, regionOf)
	}
	sellers, err := accounts("sellers", opts.Sellers, sellerName)
	if err != nil {
		return rep, err
	}
	buyers, err := accounts("buyers", opts.Buyers, buyerName)
	if err != nil {
		return rep, err
	}
	rep.Sellers, rep.Buyers = len(sellers), len(buyers)
	if len(sellers) == 0 || len(buyers) == 0 {
		return rep, fmt.Errorf("marketplace: sample needs sellers and buyers")
	}

	rows := make([][]any, opts.Items)
	for i := range rows {
		it := sampleItem(r, pick(r, categories))
		// A few sellers list most of the items.
		seller := sellers[min(len(sellers)-1, int(float64(len(sellers))*r.Float64()*r.Float64()))]
		rows[i] = []any{seller, it.Title, it.Description, it.Category, keywordText(it.Title, it.Keywords), string(it.Condition),
			it.Price, it.Quantity, past(year / 4)}
	}
	cols, rows := withRegion("seller_id, title, description, category, keywords, item_condition, price, quantity, listed_at", rows,
		func(i int) string { return regionOf["sellers"][rows[i][0].(int64)] })
	if err := insertRows(ctx, db, "items", cols, rows, opts.BatchSize); err != nil {
		return rep, err
	}
	items, err := ids(ctx, db, "items", regional, regionOf)
	if err != nil {
		return rep, err
	}
	rep.Items = len(items)
	if len(items) == 0 {
		return rep, nil
	}
	// itemsFor returns the items buyer b may buy: all, or its region's.
	itemsIn := map[string][]int64{}
	for _, id := range items {
		itemsIn[regionOf["items"][id]] = append(itemsIn[regionOf["items"][id]], id)
	}
	itemsFor := func(b int64) []int64 {
		if !regional {
			return items
		}
		return itemsIn[regionOf["buyers"][b]]
	}

	clock := &sampleClock{t: opts.Now.Add(-30 * 24 * time.Hour), step: 30 * 24 * time.Hour / time.Duration(max(1, 3*opts.Purchases))}
	base := New(db, Options{Clock: clock, Entropy: randReader{r}, PasswordIterations: opts.PasswordIterations})
	storeFor := func(b int64) *Store { return base.In(regionOf["buyers"][b]) }
	for range max(opts.Purchases, 0) {
		b := BuyerID(pick(r, buyers))
		s, mine := storeFor(int64(b)), itemsFor(int64(b))
		if len(mine) == 0 {
			continue
		}
		for range 1 + r.IntN(3) {
			if err := s.AddToCart(ctx, b, ItemID(pick(r, mine)), 1); err != nil {
				return rep, err
			}
		}
		p, err := s.Purchase(ctx, b)
		if err != nil {
			if oos := new(*ErrOutOfStock); errors.As(err, oos) {
				if err := s.ClearCart(ctx, b); err != nil {
					return rep, err
				}
				continue
			}
			return rep, err
		}
		rep.Purchases++
		rated := map[SellerID]bool{}
		for _, l := range p.Lines {
			if rated[l.Seller] || r.IntN(100) >= opts.FeedbackPercent {
				continue
			}
			rated[l.Seller] = true
			stars := []int{1, 2, 3, 4, 4, 4, 5, 5, 5, 5, 5}[r.IntN(11)]
			if _, err := s.LeaveFeedback(ctx, b, p.ID, l.Seller, stars, pick(r, comments[stars-1])); err != nil {
				return rep, err
			}
			rep.Feedback++
		}
	}
	for _, b := range buyers {
		if r.IntN(100) >= opts.CartPercent || len(itemsFor(b)) == 0 {
			continue
		}
		if err := storeFor(b).AddToCart(ctx, BuyerID(b), ItemID(pick(r, itemsFor(b))), 1+r.IntN(2)); err != nil {
			return rep, err
		}
		rep.CartItems++
	}
	return rep, nil
}

// insertRows inserts rows into table with multi-row INSERTs of batch rows.
func insertRows(ctx context.Context, db *sql.DB, table, columns string, rows [][]any, batch int) error {
	for len(rows) > 0 {
		n := min(batch, len(rows))
		marks := "(" + strings.TrimSuffix(strings.Repeat("?, ", len(rows[0])), ", ") + ")"
		var args []any
		for _, row := range rows[:n] {
			args = append(args, row...)
		}
		stmt := "INSERT INTO " + table + " (" + columns + ") VALUES " + strings.TrimSuffix(strings.Repeat(marks+", ", n), ", ")
		err := retry(ctx, RetryPolicy{}, func() error {
			_, err := db.ExecContext(ctx, stmt, args...)
			return err
		})
		if err != nil {
			return fmt.Errorf("marketplace: sample %s: %w", table, err)
		}
		rows = rows[n:]
	}
	return nil
}

// ids returns the ids of every row of table, in order; with regional, it
// also records each row's region in regionOf[table].
func ids(ctx context.Context, db *sql.DB, table string, regional bool, regionOf map[string]map[int64]string) ([]int64, error) {
	q := "SELECT id, '' FROM " + table + " ORDER BY id"
	if regional {
		q = "SELECT id, region FROM " + table + " ORDER BY id"
	}
	rows, err := db.QueryContext(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("marketplace: sample %s: %w", table, err)
	}
	defer rows.Close()
	var out []int64
	regions := map[int64]string{}
	for rows.Next() {
		var id int64
		var region string
		if err := rows.Scan(&id, &region); err != nil {
			return nil, err
		}
		out = append(out, id)
		regions[id] = region
	}
	regionOf[table] = regions
	return out, rows.Err()
}
