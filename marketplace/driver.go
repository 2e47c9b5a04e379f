package marketplace

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math/rand/v2"
	"sort"
	"time"
)

// Population is what the workload knows of the data: the buyers, sellers
// and items a client picks from. Read-only once discovered.
type Population struct{ p *population }

// Discover reads the population of the data in db (LoadSample's, or any
// with sellers, buyers and items).
func Discover(ctx context.Context, db *sql.DB) (*Population, error) {
	p, err := discover(ctx, db, false)
	if err != nil {
		return nil, err
	}
	return &Population{p}, nil
}

// DiscoverRegional reads the population of data in the regional schema
// (CreateRegionalSchema), with each buyer's, seller's and item's region.
func DiscoverRegional(ctx context.Context, db *sql.DB) (*Population, error) {
	p, err := discover(ctx, db, true)
	if err != nil {
		return nil, err
	}
	return &Population{p}, nil
}

// Regions returns the regions of the population's buyers, sorted ("" for
// the plain schema).
func (p *Population) Regions() []string {
	var out []string
	for r := range p.p.buyersIn {
		out = append(out, r)
	}
	sort.Strings(out)
	return out
}

// DriverOptions configure a Driver.
type DriverOptions struct {
	// Index numbers the driver among those of a run: driver i acts as the
	// i-th buyer and seller (cycling).
	Index int
	// Seed of its choices. Default 1.
	Seed uint64
	// Mix of operations. Default DefaultMix.
	Mix []OpWeight
	// Clock of the data's timestamps. Required.
	Clock Clock
	// RunID makes the usernames it creates unique across runs.
	RunID string
	// Region, for data in the regional schema (a population from
	// DiscoverRegional), is the driver's region: it acts as the i-th buyer
	// and seller of that region, fills its cart with that region's items,
	// and browses (searches, views items) every region's.
	Region string
	// BrowseStaleness makes its browsing reads stale (Options of the
	// Store).
	BrowseStaleness time.Duration
}

// Driver performs the workload's operations one at a time for callers
// that schedule and time them themselves (the geo simulator), as one
// client of Workload does. It is not safe for concurrent use.
type Driver struct{ c *client }

// NewDriver returns a driver working on db over pop.
func NewDriver(db *sql.DB, pop *Population, o DriverOptions) (*Driver, error) {
	if o.Clock == nil {
		return nil, errors.New("marketplace: a driver needs a Clock")
	}
	if o.Seed == 0 {
		o.Seed = 1
	}
	mix := o.Mix
	if len(mix) == 0 {
		mix = DefaultMix
	}
	total := 0
	for _, m := range mix {
		total += max(m.Weight, 0)
	}
	if total == 0 {
		return nil, errors.New("marketplace: driver mix has no weight")
	}
	p := pop.p
	buyers, sellers := p.buyers, p.sellers
	if o.Region != "" {
		buyers, sellers = p.buyersIn[o.Region], p.sellersIn[o.Region]
		if len(buyers) == 0 || len(sellers) == 0 {
			return nil, fmt.Errorf("marketplace: no buyers or sellers in region %q (regions: %v)", o.Region, pop.Regions())
		}
	} else if p.buyersIn[""] == nil {
		return nil, errors.New("marketplace: a population of the regional schema needs a driver Region")
	}
	store := New(db, Options{Clock: o.Clock, PasswordIterations: 1000, Seed: o.Seed + uint64(o.Index),
		Entropy: randReader{rand.New(rand.NewPCG(o.Seed, uint64(o.Index)))}, Region: o.Region, BrowseStaleness: o.BrowseStaleness})
	c := &client{id: o.Index, store: store, pop: p, mix: mix, totalWeight: total, runID: o.RunID, region: o.Region,
		rnd: rand.New(rand.NewPCG(o.Seed, uint64(o.Index)+1)), clock: o.Clock, stats: map[string]*opStats{},
		buyer: buyers[o.Index%len(buyers)], seller: sellers[o.Index%len(sellers)]}
	c.own = append([]ItemID(nil), p.byOwner[c.seller]...)
	return &Driver{c}, nil
}

// Step performs one operation of the mix and returns its name; rejected
// reports a business refusal (out of stock, empty cart…), which is not an
// error.
func (d *Driver) Step(ctx context.Context) (op string, rejected bool, err error) {
	c := d.c
	op, run := c.prepare(c.pick())
	err = run(ctx)
	if err != nil && isRejection(err) {
		rejected, err = true, nil
	}
	if c.clearCart {
		c.clearCart = false
		if c.store.ClearCart(ctx, c.buyer) == nil {
			clear(c.cart)
		}
	}
	return op, rejected, err
}
