package marketplace

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// OpWeight gives an operation of the workload its share of the mix.
type OpWeight struct {
	Op     string // one of Ops
	Weight int
}

// Ops are the operations a workload client performs, buyer's then
// seller's.
var Ops = []string{
	"search", "view_item", "add_to_cart", "view_cart", "remove_from_cart", "purchase", "purchase_history",
	"leave_feedback", "buyer_login", "create_buyer",
	"list_item", "change_price", "restock", "remove_item", "seller_items", "seller_rating", "seller_login",
}

// DefaultMix is mostly browsing, then carts and purchases, then sellers
// managing their listings.
var DefaultMix = []OpWeight{
	{"search", 25}, {"view_item", 10}, {"add_to_cart", 15}, {"view_cart", 8}, {"remove_from_cart", 3},
	{"purchase", 8}, {"purchase_history", 5}, {"leave_feedback", 3}, {"buyer_login", 2}, {"create_buyer", 1},
	{"list_item", 4}, {"change_price", 4}, {"restock", 4}, {"remove_item", 1}, {"seller_items", 3},
	{"seller_rating", 3}, {"seller_login", 1},
}

// Workload runs a weighted mix of buyer and seller operations from
// Concurrency clients for Duration, on data loaded by LoadSample (or any
// data with sellers, buyers and items, whose accounts use SamplePassword
// for the login operations to succeed). Client i acts as the i-th buyer
// and seller (cycling) and uses DBs[i % len(DBs)].
//
// Business outcomes — out of stock, empty cart, feedback already given —
// count as "rejected", not errors; other failures are errors.
type Workload struct {
	// DBs to spread clients over, one per node. Required.
	DBs []*sql.DB
	// Clock times operations and the run. Required.
	Clock Clock
	// Concurrency is the number of clients. Default 8.
	Concurrency int
	// Duration of the run. Default 30s.
	Duration time.Duration
	// MaxOpsPerClient stops each client after this many operations; 0: no
	// limit.
	MaxOpsPerClient int
	// Seed of the clients' choices. Default 1.
	Seed uint64
	// Mix of operations. Default DefaultMix.
	Mix []OpWeight
	// Progress, if set, receives a progress bar every ProgressInterval
	// (default 500ms), redrawn in place with "\r", or one line per update
	// if ProgressLines.
	Progress         io.Writer
	ProgressInterval time.Duration
	ProgressLines    bool
	// RunID makes the usernames create_buyer picks unique across runs
	// (give e.g. the start time). Default: the seed.
	RunID string
	// PasswordIterations for accounts the run creates. Default 1000.
	PasswordIterations int
}

// population is what the run discovers about the data at start.
type population struct {
	buyers  []BuyerID
	names   map[BuyerID]string
	sellers []SellerID
	sellerN map[SellerID]string
	items   []ItemID
	byOwner map[SellerID][]ItemID
	// regional schema: each row's region, and the buyers, sellers and
	// items of each region ("" for the plain schema).
	itemRegion map[ItemID]string
	buyersIn   map[string][]BuyerID
	sellersIn  map[string][]SellerID
	itemsIn    map[string][]ItemID
}

func discover(ctx context.Context, db *sql.DB, regional bool) (*population, error) {
	p := &population{names: map[BuyerID]string{}, sellerN: map[SellerID]string{}, byOwner: map[SellerID][]ItemID{},
		itemRegion: map[ItemID]string{}, buyersIn: map[string][]BuyerID{}, sellersIn: map[string][]SellerID{}, itemsIn: map[string][]ItemID{}}
	region := "''"
	if regional {
		region = "region"
	}
	// scan runs q, whose rows are an id, a name or an owner id, and a
	// region.
	scan := func(q string, f func(id int64, v sql.RawBytes, region string)) error {
		rows, err := db.QueryContext(ctx, q)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var id int64
			var v sql.RawBytes
			var region string
			if err := rows.Scan(&id, &v, &region); err != nil {
				return err
			}
			f(id, v, region)
		}
		return rows.Err()
	}
	err := errors.Join(
		scan("SELECT id, username, "+region+" FROM buyers ORDER BY id LIMIT 100000", func(id int64, v sql.RawBytes, r string) {
			p.buyers = append(p.buyers, BuyerID(id))
			p.names[BuyerID(id)] = string(v)
			p.buyersIn[r] = append(p.buyersIn[r], BuyerID(id))
		}),
		scan("SELECT id, username, "+region+" FROM sellers ORDER BY id LIMIT 100000", func(id int64, v sql.RawBytes, r string) {
			p.sellers = append(p.sellers, SellerID(id))
			p.sellerN[SellerID(id)] = string(v)
			p.sellersIn[r] = append(p.sellersIn[r], SellerID(id))
		}),
		scan("SELECT id, seller_id, "+region+" FROM items WHERE active = TRUE ORDER BY id LIMIT 1000000", func(id int64, v sql.RawBytes, r string) {
			p.items = append(p.items, ItemID(id))
			owner, _ := strconv.ParseInt(string(v), 10, 64)
			p.byOwner[SellerID(owner)] = append(p.byOwner[SellerID(owner)], ItemID(id))
			p.itemRegion[ItemID(id)] = r
			p.itemsIn[r] = append(p.itemsIn[r], ItemID(id))
		}),
	)
	if err != nil {
		return nil, fmt.Errorf("marketplace: workload: reading the data: %w", err)
	}
	if len(p.buyers) == 0 || len(p.sellers) == 0 || len(p.items) == 0 {
		return nil, fmt.Errorf("marketplace: workload: no data (%d buyers, %d sellers, %d items); load the sample first",
			len(p.buyers), len(p.sellers), len(p.items))
	}
	return p, nil
}

// Run runs the workload until Duration has passed, every client has done
// MaxOpsPerClient operations, or ctx is done, and reports. It returns an
// error only if the run could not start.
func (w *Workload) Run(ctx context.Context) (*Report, error) {
	if len(w.DBs) == 0 || w.Clock == nil {
		return nil, errors.New("marketplace: workload needs DBs and a Clock")
	}
	conc := w.Concurrency
	if conc <= 0 {
		conc = 8
	}
	dur := w.Duration
	if dur <= 0 {
		dur = 30 * time.Second
	}
	seed := w.Seed
	if seed == 0 {
		seed = 1
	}
	runID := w.RunID
	if runID == "" {
		runID = fmt.Sprint(seed)
	}
	iters := w.PasswordIterations
	if iters <= 0 {
		iters = 1000
	}
	mix := w.Mix
	if len(mix) == 0 {
		mix = DefaultMix
	}
	total := 0
	for _, m := range mix {
		total += max(m.Weight, 0)
	}
	if total == 0 {
		return nil, errors.New("marketplace: workload mix has no weight")
	}
	pop, err := discover(ctx, w.DBs[0], false)
	if err != nil {
		return nil, err
	}
	stores := make([]*Store, len(w.DBs))
	for i, db := range w.DBs {
		stores[i] = New(db, Options{Clock: w.Clock, PasswordIterations: iters, Seed: seed + uint64(i),
			Entropy: randReader{rand.New(rand.NewPCG(seed, uint64(i)))}})
	}

	start := w.Clock.Now()
	deadline := start.Add(dur)
	var (
		ops, errs atomic.Int64
		wg        sync.WaitGroup
		clients   = make([]*client, conc)
	)
	for i := range clients {
		c := &client{id: i, store: stores[i%len(stores)], pop: pop, mix: mix, totalWeight: total, runID: runID,
			rnd: rand.New(rand.NewPCG(seed, uint64(i)+1)), clock: w.Clock, stats: map[string]*opStats{},
			buyer: pop.buyers[i%len(pop.buyers)], seller: pop.sellers[i%len(pop.sellers)]}
		c.own = append([]ItemID(nil), pop.byOwner[c.seller]...)
		clients[i] = c
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := 0; w.MaxOpsPerClient <= 0 || n < w.MaxOpsPerClient; n++ {
				if ctx.Err() != nil || !w.Clock.Now().Before(deadline) {
					return
				}
				if failed := c.step(ctx); failed {
					errs.Add(1)
				}
				ops.Add(1)
			}
		}()
	}
	done := make(chan struct{})
	var pwg sync.WaitGroup
	if w.Progress != nil {
		pwg.Add(1)
		go func() {
			defer pwg.Done()
			w.progress(done, start, dur, int64(w.MaxOpsPerClient)*int64(conc), &ops, &errs)
		}()
	}
	wg.Wait()
	close(done)
	pwg.Wait()
	elapsed := w.Clock.Now().Sub(start)
	rep := buildReport(clients, mix, elapsed)
	for _, s := range stores {
		rep.Retries += s.Stats().Retries
	}
	return rep, nil
}

// progress draws the progress bar until done is closed, then a last one.
// The bar shows the larger of the time elapsed and, if maxOps > 0, the
// operations done.
func (w *Workload) progress(done <-chan struct{}, start time.Time, dur time.Duration, maxOps int64, ops, errs *atomic.Int64) {
	every := w.ProgressInterval
	if every <= 0 {
		every = 500 * time.Millisecond
	}
	t := time.NewTicker(every)
	defer t.Stop()
	draw := func(final bool) {
		el := w.Clock.Now().Sub(start)
		frac := float64(el) / float64(dur)
		if maxOps > 0 {
			frac = max(frac, float64(ops.Load())/float64(maxOps))
		}
		frac = min(1, frac)
		const width = 30
		filled := int(frac * width)
		bar := make([]byte, width)
		for i := range bar {
			switch {
			case i < filled:
				bar[i] = '='
			case i == filled && !final:
				bar[i] = '>'
			default:
				bar[i] = ' '
			}
		}
		rate := 0.0
		if el > 0 {
			rate = float64(ops.Load()) / el.Seconds()
		}
		end := "\r"
		if w.ProgressLines {
			end = "\n"
		}
		fmt.Fprintf(w.Progress, "[%s] %3.0f%% %6.1fs/%.0fs  ops %-9d %8.1f/s  errors %d  %s",
			bar, 100*frac, el.Seconds(), dur.Seconds(), ops.Load(), rate, errs.Load(), end)
		if final && !w.ProgressLines {
			fmt.Fprintln(w.Progress)
		}
	}
	for {
		select {
		case <-done:
			draw(true)
			return
		case <-t.C:
			draw(false)
		}
	}
}
