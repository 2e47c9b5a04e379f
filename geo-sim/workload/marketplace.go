package workload

import (
	"context"
	"fmt"

	"github.com/meridiandb/meridian/geo-sim/bounds"
)

// Marketplace is the placeholder of the marketplace workload: buyers in
// every region browsing, carting and purchasing over SQL.
//
// TODO(geo-sim, needs SQL): implement Setup (marketplace.CreateSchema and
// marketplace.LoadSample over env.Gateway.SQL(), with the tables' rows
// keyed by region so that "near" placement can home them) and NewClient (a
// client running marketplace.Store operations on its gateway's *sql.DB,
// reporting each statement's SHOW LATENCY ledger). Until then Setup fails
// with ErrNeedsSQL, or with a clear note that the workload is not written
// yet when a *sql.DB is available.
type Marketplace struct{}

// NewMarketplace returns the marketplace workload.
func NewMarketplace() *Marketplace { return &Marketplace{} }

// Name implements Workload.
func (*Marketplace) Name() string { return "marketplace" }

// Spans implements Workload: the SQL layer's table keyspace (its placement
// is set by placement-policy DDL once SQL runs here).
func (*Marketplace) Spans([]string) []HomeSpan { return nil }

// Ops implements Workload.
func (*Marketplace) Ops() []OpSpec {
	return []OpSpec{
		{Name: "browse", Kind: bounds.ReadOnly},
		{Name: "add-to-cart", Kind: bounds.Write},
		{Name: "purchase", Kind: bounds.Commit2PC},
	}
}

// Setup implements Workload.
func (*Marketplace) Setup(ctx context.Context, env SetupEnv) error {
	if _, err := env.Gateway.SQL(); err != nil {
		return fmt.Errorf("marketplace workload: %w", err)
	}
	return fmt.Errorf("marketplace workload: %w (the SQL connection works, but the workload's client is not written yet: see workload.Marketplace)", ErrNeedsSQL)
}

// NewClient implements Workload.
func (*Marketplace) NewClient(context.Context, ClientEnv) (Client, error) {
	return nil, fmt.Errorf("marketplace workload: %w", ErrNeedsSQL)
}
