package workload

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/meridiandb/meridian/geo-sim/bounds"
	"github.com/meridiandb/meridian/marketplace"
)

// MarketplaceOptions configure the marketplace workload. The zero value is
// the plain schema, every client browsing and buying everywhere, strongly.
type MarketplaceOptions struct {
	// Regional, if set, loads the marketplace's regional schema instead
	// (marketplace.RegionalSchema: every table partitioned by a leading
	// region column, each partition homed by its placement policy, which
	// must exist before Setup) and makes each client a buyer and seller of
	// its own region, buying that region's items and browsing every
	// region's.
	Regional *marketplace.RegionalSchema
	// BrowseStaleness, if positive, makes the clients' browsing reads
	// (search, view_item, seller_items, seller_rating) read that stale, at
	// the nearest replica (marketplace.Options.BrowseStaleness); the other
	// operations stay strictly serializable.
	BrowseStaleness time.Duration
	// Sample sizes the sample data Setup loads; zero fields take the
	// workload's defaults (20 sellers, 100 buyers, 300 items, 40
	// purchases) or LoadSample's. Its Seed and Regions are the workload's.
	Sample marketplace.SampleOptions
}

// Marketplace is the seed application as a workload: buyers and sellers
// in every region running marketplace operations (search, carts,
// purchases, listings…) over SQL through their region's gateway, in
// marketplace.DefaultMix. Setup loads the sample data; each client is a
// marketplace.Driver acting as its own buyer and seller. A purchase the
// marketplace refuses (out of stock, an item withdrawn) is reported as
// purchase_rejected, its time including the emptying of the cart that
// follows, so that purchase times only committed ones.
//
// Its operations name no key spans (the tables' keys are the SQL layer's,
// placed by placement-policy DDL), so their reports carry latencies
// without physical bounds.
type Marketplace struct {
	opts MarketplaceOptions
	data *marketplaceData
}

// marketplaceData is the database state the workloads of one
// NewMarketplace share (WithBrowseStaleness): set up once.
type marketplaceData struct {
	mu    sync.Mutex
	setUp bool
	pop   *marketplace.Population
}

// NewMarketplace returns the marketplace workload.
func NewMarketplace(o MarketplaceOptions) *Marketplace {
	return &Marketplace{opts: o, data: &marketplaceData{}}
}

// WithBrowseStaleness returns the workload on the same data (set up once
// for both) whose clients browse d stale.
func (m *Marketplace) WithBrowseStaleness(d time.Duration) *Marketplace {
	o := m.opts
	o.BrowseStaleness = d
	return &Marketplace{opts: o, data: m.data}
}

// Name implements Workload.
func (*Marketplace) Name() string { return "marketplace" }

// Spans implements Workload: none of its own (placement of the tables is
// the SQL layer's, by placement-policy DDL).
func (*Marketplace) Spans([]string) []HomeSpan { return nil }

// OpPurchaseRejected is the marketplace's purchase that the marketplace
// refused (rolled back), with the cart's emptying after it.
const OpPurchaseRejected = "purchase_rejected"

// marketplaceKinds classifies each operation for its report: reads are
// read-only transactions, writes commit (most touch rows and indexes in
// several ranges).
var marketplaceKinds = map[string]bounds.Kind{
	"search": bounds.ReadOnly, "view_item": bounds.ReadOnly, "view_cart": bounds.ReadOnly,
	"purchase_history": bounds.ReadOnly, "buyer_login": bounds.ReadOnly, "seller_items": bounds.ReadOnly,
	"seller_rating": bounds.ReadOnly, "seller_login": bounds.ReadOnly,
}

// MarketplaceBrowsing are the operations BrowseStaleness makes stale.
var MarketplaceBrowsing = []string{"search", "view_item", "seller_items", "seller_rating"}

// Ops implements Workload.
func (m *Marketplace) Ops() []OpSpec {
	var out []OpSpec
	for _, op := range marketplace.Ops {
		k, ok := marketplaceKinds[op]
		if !ok {
			k = bounds.Commit2PC
		}
		if m.opts.BrowseStaleness > 0 && isBrowsing(op) {
			k = bounds.NearestRead
		}
		out = append(out, OpSpec{Name: op, Kind: k})
		if op == "purchase" {
			out = append(out, OpSpec{Name: OpPurchaseRejected, Kind: bounds.Commit2PC})
		}
	}
	return out
}

func isBrowsing(op string) bool {
	for _, b := range MarketplaceBrowsing {
		if b == op {
			return true
		}
	}
	return false
}

// Setup implements Workload: the schema and the sample data, once for
// every workload sharing the data.
func (m *Marketplace) Setup(ctx context.Context, env SetupEnv) error {
	m.data.mu.Lock()
	defer m.data.mu.Unlock()
	if m.data.setUp {
		return nil
	}
	db, err := env.Gateway.SQL()
	if err != nil {
		return err
	}
	sample := m.opts.Sample
	sample.Seed, sample.Regions = env.Rand.Uint64(), nil
	def := func(v *int, d int) {
		if *v == 0 {
			*v = d
		}
	}
	def(&sample.Sellers, 20)
	def(&sample.Buyers, 100)
	def(&sample.Items, 300)
	def(&sample.Purchases, 40)
	if r := m.opts.Regional; r != nil {
		if err := marketplace.CreateRegionalSchema(ctx, db, *r); err != nil {
			return fmt.Errorf("marketplace regional schema: %w", err)
		}
		sample.Regions = r.Regions
	} else if err := marketplace.CreateSchema(ctx, db); err != nil {
		return fmt.Errorf("marketplace schema: %w", err)
	}
	if _, err := marketplace.LoadSample(ctx, db, sample); err != nil {
		return fmt.Errorf("marketplace sample data: %w", err)
	}
	m.data.setUp = true
	return nil
}

// NewClient implements Workload.
func (m *Marketplace) NewClient(ctx context.Context, env ClientEnv) (Client, error) {
	db, err := env.Gateway.SQL()
	if err != nil {
		return nil, err
	}
	m.data.mu.Lock()
	if m.data.pop == nil {
		discover := marketplace.Discover
		if m.opts.Regional != nil {
			discover = marketplace.DiscoverRegional
		}
		if m.data.pop, err = discover(ctx, db); err != nil {
			m.data.mu.Unlock()
			return nil, err
		}
	}
	pop := m.data.pop
	m.data.mu.Unlock()
	o := marketplace.DriverOptions{
		Index: int(env.Rand.Uint32() >> 1), Seed: env.Rand.Uint64() | 1,
		Clock: marketplace.ClockFunc(time.Now), RunID: fmt.Sprintf("%s-%d-%x", env.Region, env.Index, env.Rand.Uint32()),
		BrowseStaleness: m.opts.BrowseStaleness,
	}
	if m.opts.Regional != nil {
		// The i-th client of a region is the region's i-th buyer and
		// seller.
		o.Index, o.Region = env.Index, env.Region
	}
	d, err := marketplace.NewDriver(db, pop, o)
	if err != nil {
		return nil, err
	}
	return &marketplaceClient{d: d}, nil
}

type marketplaceClient struct{ d *marketplace.Driver }

func (c *marketplaceClient) Step(ctx context.Context) (Result, error) {
	op, rejected, err := c.d.Step(ctx)
	if op == "purchase" && rejected {
		op = OpPurchaseRejected
	}
	return Result{Op: op}, err
}

func (c *marketplaceClient) Close() error { return nil }
