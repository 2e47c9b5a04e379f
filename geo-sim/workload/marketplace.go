package workload

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/meridiandb/meridian/geo-sim/bounds"
	"github.com/meridiandb/meridian/marketplace"
)

// Marketplace is the seed application as a workload: buyers and sellers
// in every region running marketplace operations (search, carts,
// purchases, listings…) over SQL through their region's gateway, in
// marketplace.DefaultMix. Setup loads the sample data; each client is a
// marketplace.Driver acting as its own buyer and seller.
//
// Its operations name no key spans (the tables' keys are the SQL layer's),
// so their reports carry latencies without physical bounds.
type Marketplace struct {
	mu  sync.Mutex
	pop *marketplace.Population
}

// NewMarketplace returns the marketplace workload.
func NewMarketplace() *Marketplace { return &Marketplace{} }

// Name implements Workload.
func (*Marketplace) Name() string { return "marketplace" }

// Spans implements Workload: none of its own (placement of the tables is
// the SQL layer's, by placement-policy DDL).
func (*Marketplace) Spans([]string) []HomeSpan { return nil }

// marketplaceKinds classifies each operation for its report: reads are
// read-only transactions, writes commit (most touch rows and indexes in
// several ranges).
var marketplaceKinds = map[string]bounds.Kind{
	"search": bounds.ReadOnly, "view_item": bounds.ReadOnly, "view_cart": bounds.ReadOnly,
	"purchase_history": bounds.ReadOnly, "buyer_login": bounds.ReadOnly, "seller_items": bounds.ReadOnly,
	"seller_rating": bounds.ReadOnly, "seller_login": bounds.ReadOnly,
}

// Ops implements Workload.
func (*Marketplace) Ops() []OpSpec {
	var out []OpSpec
	for _, op := range marketplace.Ops {
		k, ok := marketplaceKinds[op]
		if !ok {
			k = bounds.Commit2PC
		}
		out = append(out, OpSpec{Name: op, Kind: k})
	}
	return out
}

// Setup implements Workload: the schema and the sample data.
func (m *Marketplace) Setup(ctx context.Context, env SetupEnv) error {
	db, err := env.Gateway.SQL()
	if err != nil {
		return err
	}
	if err := marketplace.CreateSchema(ctx, db); err != nil {
		return fmt.Errorf("marketplace schema: %w", err)
	}
	if _, err := marketplace.LoadSample(ctx, db, marketplace.SampleOptions{Seed: env.Rand.Uint64(), Sellers: 20, Buyers: 100,
		Items: 300, Purchases: 40}); err != nil {
		return fmt.Errorf("marketplace sample data: %w", err)
	}
	return nil
}

// NewClient implements Workload.
func (m *Marketplace) NewClient(ctx context.Context, env ClientEnv) (Client, error) {
	db, err := env.Gateway.SQL()
	if err != nil {
		return nil, err
	}
	m.mu.Lock()
	if m.pop == nil {
		if m.pop, err = marketplace.Discover(ctx, db); err != nil {
			m.mu.Unlock()
			return nil, err
		}
	}
	pop := m.pop
	m.mu.Unlock()
	d, err := marketplace.NewDriver(db, pop, marketplace.DriverOptions{
		Index: int(env.Rand.Uint32() >> 1), Seed: env.Rand.Uint64() | 1,
		Clock: marketplace.ClockFunc(time.Now), RunID: fmt.Sprintf("%s-%d", env.Region, env.Index),
	})
	if err != nil {
		return nil, err
	}
	return &marketplaceClient{d: d}, nil
}

type marketplaceClient struct{ d *marketplace.Driver }

func (c *marketplaceClient) Step(ctx context.Context) (Result, error) {
	op, _, err := c.d.Step(ctx)
	return Result{Op: op}, err
}

func (c *marketplaceClient) Close() error { return nil }
