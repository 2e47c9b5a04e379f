package geosim

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/meridiandb/meridian/geo-sim/report"
	"github.com/meridiandb/meridian/geo-sim/results"
	"github.com/meridiandb/meridian/geo-sim/runner"
	"github.com/meridiandb/meridian/geo-sim/topology"
	"github.com/meridiandb/meridian/geo-sim/workload"
	"github.com/meridiandb/meridian/marketplace"
)

// The placement scenario: the marketplace over SQL on global3, with
// clients in every region, in three configurations of the same data —
//
//  1. leaders in one region: every range of the marketplace led from
//     us-east (replicas in all three regions);
//  2. leaders near their users: each region's rows (the marketplace's
//     regional schema, every table partitioned BY LIST COLUMNS (region)
//     with a placement policy per partition) led from that region;
//  3. stale reads: leaders as in 1, the browsing reads 1s stale at the
//     nearest replica;
//
// then the same three on plain KV keys, whose operations have physical
// bounds to set the marketplace's numbers against.

// placementHome is the region of the single-region leaders.
const placementHome = "us-east"

// placementStaleness is how stale browsing reads are in case 3.
const placementStaleness = time.Second

// placementOps are the marketplace operations the table compares: two
// browsing reads, a client's own write, and its own read-write
// transaction across several tables.
var placementOps = []string{"search", "view_item", "add_to_cart", "purchase"}

// placementCase is one configuration of the marketplace.
type placementCase struct {
	name    string
	near    bool // leaders near their users (else in placementHome)
	stale   bool // browsing reads placementStaleness stale
	run     *results.Run
	subdir  string
	elapsed time.Duration
}

// placementPolicies are the placement policies the regional schema uses:
// one per region for its partitions, and one for the tables (the global
// index and anything outside the partitions).
type placementPolicies struct {
	regions []string
	table   string
}

func (p placementPolicies) schema() *marketplace.RegionalSchema {
	s := &marketplace.RegionalSchema{Regions: p.regions, Policies: map[string]string{}, TablePolicy: p.table}
	for _, r := range p.regions {
		s.Policies[r] = marketplace.PartitionName(r)
	}
	return s
}

// set creates (or alters) the policies so that region r's partitions are
// led from leader(r), with a voter in every region.
func (p placementPolicies) set(ctx context.Context, db *sql.DB, create bool, leader func(region string) string) error {
	verb := "ALTER"
	if create {
		verb = "CREATE"
	}
	all := strings.Join(p.regions, ",")
	stmt := func(name, lead string) string {
		return fmt.Sprintf("%s PLACEMENT POLICY %s PRIMARY_REGION=%q REGIONS=%q", verb, name, lead, all)
	}
	var stmts []string
	if create {
		// The tables' own policy (the global index) stays in us-east.
		stmts = append(stmts, stmt(p.table, placementHome))
	}
	for _, r := range p.regions {
		stmts = append(stmts, stmt(marketplace.PartitionName(r), leader(r)))
	}
	for _, s := range stmts {
		if _, err := db.ExecContext(ctx, s); err != nil {
			return fmt.Errorf("%s: %w", s, err)
		}
	}
	return nil
}

// placementScenario runs the marketplace cases, then the KV ones.
func placementScenario(ctx context.Context, env Env) (*Outcome, error) {
	if env.Layers.SQLDB == nil {
		return nil, fmt.Errorf("the placement scenario runs the marketplace over SQL: %w", workload.ErrNeedsSQL)
	}
	top, err := topology.Preset("global3")
	if err != nil {
		return nil, err
	}
	sim, err := startSim(ctx, env, runner.Config{Topology: top})
	if err != nil {
		return nil, err
	}
	defer sim.Close()
	out := &Outcome{Pass: true}
	regions := top.RegionNames()
	sb := header("placement", "The marketplace (its operations over SQL through each region's gateway, the real engine) on `global3` "+
		"(us-east, eu-west, ap-northeast; one node each, every range with a replica in each region), with clients in every region, "+
		"each a buyer and seller of its own region, in three configurations of the same data:\n\n"+
		"1. **leaders in us-east**: every range of the marketplace led from us-east;\n"+
		"2. **leaders near users**: the marketplace's regional schema homes each region's rows (accounts, listings, carts, purchases, "+
		"feedback) in that region — every table is `PARTITION BY LIST COLUMNS (region)`, the region leading its primary key, and each "+
		"partition has a placement policy `PRIMARY_REGION=<its region>` (replicas stay in all three regions, so quorums still cross an ocean);\n"+
		"3. **stale reads**: leaders in us-east as in 1, the browsing reads (search, view item, seller pages, ratings) "+
		fmt.Sprintf("`AS OF TIMESTAMP NOW(6) - INTERVAL %s` at the nearest replica; carts, purchases and every other write stay strictly serializable.\n\n", placementStaleness)+
		"The three configurations run on one cluster and one data set; between 1–3 and 2 only the partitions' placement policies change "+
		"(`ALTER PLACEMENT POLICY`), and the allocator moves the leases. A buyer buys its own region's listings and browses every region's.", env)
	pol := placementPolicies{regions: regions, table: "p_marketplace"}
	gw, closeGW, err := sim.Gateway(placementHome)
	if err != nil {
		return out, err
	}
	defer closeGW()
	db, err := gw.SQL()
	if err != nil {
		return out, err
	}
	home := func(string) string { return placementHome }
	t0 := time.Now()
	if err := pol.set(ctx, db, true, home); err != nil {
		return out, err
	}
	// A short purchase history and no carts left over: the sample's
	// purchases and carts are transactions of their own, and the clients
	// fill carts soon enough.
	w := workload.NewMarketplace(workload.MarketplaceOptions{Regional: pol.schema(),
		Sample: marketplace.SampleOptions{Purchases: 12, CartPercent: -1}})
	if err := sim.Prepare(ctx, w); err != nil {
		return out, fmt.Errorf("setting up the regional marketplace: %w", err)
	}
	if err := sim.Settle(ctx); err != nil {
		return out, err
	}
	setup := time.Since(t0)
	c1 := &placementCase{name: "leaders in us-east"}
	c2 := &placementCase{name: "leaders near users", near: true}
	c3 := &placementCase{name: "stale reads", stale: true}
	cases := []*placementCase{c1, c2, c3}
	spec := func(c *placementCase, w workload.Workload) runner.RunSpec {
		return runner.RunSpec{Name: "placement: " + c.name, Workload: w, ClientsPerRegion: 3,
			Duration: env.dur(30 * time.Second), Warmup: env.dur(3 * time.Second)}
	}
	measure := func(c *placementCase, w workload.Workload, i int) error {
		t := time.Now()
		run, err := sim.Run(ctx, spec(c, w))
		if err != nil {
			return fmt.Errorf("%s: %w", c.name, err)
		}
		c.run, c.elapsed = run, time.Since(t)
		out.Runs = append(out.Runs, run)
		c.subdir, err = writeRun(env, fmt.Sprintf("case-%d", i), run)
		return err
	}
	// 1 and 3 share their placement: run them first, then move the leases.
	if err := measure(c1, w, 1); err != nil {
		return out, err
	}
	if err := measure(c3, w.WithBrowseStaleness(placementStaleness), 3); err != nil {
		return out, err
	}
	t := time.Now()
	if err := pol.set(ctx, db, false, func(r string) string { return r }); err != nil {
		return out, err
	}
	if err := sim.Settle(ctx); err != nil {
		return out, err
	}
	moved := time.Since(t)
	if err := measure(c2, w, 2); err != nil {
		return out, err
	}

	// The table, the reference beside it, the plot, the prose.
	tbl := &report.Table{Header: []string{"client region", "operation"}}
	for _, c := range cases {
		tbl.Header = append(tbl.Header, c.name)
	}
	var csv [][]string
	csv = append(csv, []string{"region", "op", "case", "count", "p50_ms", "p95_ms", "errors"})
	gp := report.GroupedBars{Title: "median latency per client region and operation (ms, log scale)", YLabel: "ms", LogY: true}
	for _, c := range cases {
		gp.Groups = append(gp.Groups, c.name)
	}
	gp.Values = make([][]float64, len(cases))
	for _, r := range regions {
		for _, op := range placementOps {
			row := []string{r, op}
			for i, c := range cases {
				o := opStats(c.run, op, r)
				row = append(row, cell(o))
				gp.Values[i] = append(gp.Values[i], msf(o.Percentile(50)))
				csv = append(csv, []string{r, op, c.name, fmt.Sprint(o.Count()), fmt.Sprintf("%.3f", msf(o.Percentile(50))),
					fmt.Sprintf("%.3f", msf(o.Percentile(95))), fmt.Sprint(o.Errors)})
			}
			tbl.Add(row...)
			gp.Categories = append(gp.Categories, shortRegion(r)+" "+op)
		}
	}
	if err := gp.Save(filepath.Join(env.ReportDir, "placement.png")); err != nil {
		return out, err
	}
	if err := report.WriteCSV(filepath.Join(env.ReportDir, "placement.csv"), csv); err != nil {
		return out, err
	}
	sb.WriteString("## Marketplace: p50 / p95 ms (samples) per client region\n\n")
	sb.WriteString(tbl.String())
	sb.WriteString("\n![median latency per region and operation](placement.png)\n\n")
	sb.WriteString(placementReference(top))
	sb.WriteString(placementProse(top, c1, c2, c3))
	fmt.Fprintf(sb, "\nRuns: %s. Setup (policies, schema, sample data, leases settled) took %s; moving the partitions' leases to their regions %s; "+
		"each run %s measured after %s of warm-up, 3 clients per region, and the whole scenario is one cluster. Data: `placement.csv`.\n",
		runLinks(cases), setup.Round(time.Second), moved.Round(time.Second), spec(c1, w).Duration, spec(c1, w).Warmup)
	if notes := placementNotes(cases); notes != "" {
		sb.WriteString(notes)
	}

	kv, err := placementKV(ctx, env, sim, out)
	if err != nil {
		return out, err
	}
	sb.WriteString(kv)
	out.Summary = sb.String()
	return out, nil
}

// opStats is run's stats of op in region (empty if it has none).
func opStats(run *results.Run, op, region string) *results.OpStats {
	if o := run.Op(op, region); o != nil {
		return o
	}
	return &results.OpStats{Op: op, Region: region}
}

// cell renders an operation's p50 / p95 (samples).
func cell(o *results.OpStats) string {
	if o == nil || o.Count() == 0 {
		if o != nil && o.Errors > 0 {
			return fmt.Sprintf("— (%d errors)", o.Errors)
		}
		return "—"
	}
	s := fmt.Sprintf("%s / %s (%d)", report.Ms(o.Percentile(50)), report.Ms(o.Percentile(95)), o.Count())
	if o.Errors > 0 {
		s += fmt.Sprintf(", %d errors", o.Errors)
	}
	return s
}

func shortRegion(r string) string {
	if i := strings.IndexByte(r, '-'); i > 0 {
		return r[:i]
	}
	return r
}

func runLinks(cases []*placementCase) string {
	var parts []string
	for _, c := range cases {
		parts = append(parts, fmt.Sprintf("[%s](%s/summary.md)", c.name, c.subdir))
	}
	return strings.Join(parts, ", ")
}

// placementReference is the table of the network's round trips that set
// each configuration's floor.
func placementReference(top *topology.Topology) string {
	t := &report.Table{Header: []string{"client region", "round trip to us-east", "nearest quorum from the region",
		"floor of an own write, leaders in us-east", "floor of an own write, near users", "floor of a stale read"}}
	for _, r := range top.RegionNames() {
		toHome := top.RegionLink(r, placementHome).RTT
		if r == placementHome {
			toHome = 0
		}
		q := nearestQuorum(top, r)
		cr, _ := top.Region(r)
		t.Add(r, report.Ms(toHome), report.Ms(q), report.Ms(cr.ClientRTT+toHome+nearestQuorum(top, placementHome)),
			report.Ms(cr.ClientRTT+q), report.Ms(cr.ClientRTT))
	}
	return "Reference — the topology's round trips (ms), which bound what placement can do. A write commits after a quorum " +
		"round trip from its leader (the leader and the nearest other region); a client far from the leader first pays the round trip " +
		"to it, once per statement that must reach the leaseholder (reads in a read-write transaction, and the commit). A stale read " +
		"is served by the replica in the client's own region. Operations run several statements (add to cart: three that reach " +
		"the leaseholder — two reads and an insert's check — and a two-phase commit; purchase: seven or more and a commit), so they cost " +
		"several of these round trips:\n\n" + t.String() + "\n"
}

// nearestQuorum is the round trip from region r to the nearest other
// region (with one replica per region, the quorum of a range led from r).
func nearestQuorum(top *topology.Topology, r string) time.Duration {
	best := time.Duration(-1)
	for _, o := range top.RegionNames() {
		if o == r {
			continue
		}
		if d := top.RegionLink(r, o).RTT; best < 0 || d < best {
			best = d
		}
	}
	return max(best, 0)
}

// placementProse says what the table shows, with its numbers.
func placementProse(top *topology.Topology, c1, c2, c3 *placementCase) string {
	p50 := func(c *placementCase, op, r string) float64 { return msf(opStats(c.run, op, r).Percentile(50)) }
	var sb strings.Builder
	sb.WriteString("What to see:\n\n")
	// Own writes: near users vs us-east, away from us-east.
	var own, quorums []string
	for _, r := range top.RegionNames() {
		if r == placementHome {
			continue
		}
		own = append(own, fmt.Sprintf("from %s, add to cart %.0f → %.0f ms and purchase %.0f → %.0f ms", r,
			p50(c1, "add_to_cart", r), p50(c2, "add_to_cart", r), p50(c1, "purchase", r), p50(c2, "purchase", r)))
		quorums = append(quorums, fmt.Sprintf("%s ms from %s", report.Ms(nearestQuorum(top, r)), r))
	}
	fmt.Fprintf(&sb, "- **Near-user leaders make a client's own writes local**, only their quorum crossing the sea: %s (leaders in us-east → "+
		"near users). No placement beats the quorum round trip (%s), and a two-phase commit pays it twice.\n",
		strings.Join(own, "; "), strings.Join(quorums, ", "))
	fmt.Fprintf(&sb, "- In us-east, near-user leaders change little for its own writes (add to cart %.0f → %.0f ms), but its browsing "+
		"now reaches the other regions' partitions: search %.0f → %.0f ms, view item %.0f → %.0f ms. Browsing is global — a search reads "+
		"listings of every region, one row after another — so homing rows near their owners makes it remote for everyone else.\n",
		p50(c1, "add_to_cart", placementHome), p50(c2, "add_to_cart", placementHome), p50(c1, "search", placementHome), p50(c2, "search", placementHome),
		p50(c1, "view_item", placementHome), p50(c2, "view_item", placementHome))
	var local []string
	for _, r := range top.RegionNames() {
		local = append(local, fmt.Sprintf("%s search %.0f → %.0f ms, view item %.0f → %.0f ms", r,
			p50(c1, "search", r), p50(c3, "search", r), p50(c1, "view_item", r), p50(c3, "view_item", r)))
	}
	far := top.RegionNames()[len(top.RegionNames())-1]
	fmt.Fprintf(&sb, "- **Stale reads make browsing local everywhere**: %s (leaders in us-east, strong → %s stale). The writes get no "+
		"faster — they still go to us-east and commit there: add to cart from %s %.0f ms with strong browsing, %.0f ms with stale.\n",
		strings.Join(local, "; "), placementStaleness, far, p50(c1, "add_to_cart", far), p50(c3, "add_to_cart", far))
	sb.WriteString("- The two combine (not one of the cases here): rows homed near their users with stale browsing would make both the " +
		"writes' leaders and the browsing local, leaving a write's quorum as what crosses the sea.\n")
	return sb.String()
}

// placementNotes lists the runs' errors and notes.
func placementNotes(cases []*placementCase) string {
	var sb strings.Builder
	for _, c := range cases {
		for _, o := range c.run.Ops {
			if o.Errors > 0 && slices.Contains(placementOps, o.Op) {
				fmt.Fprintf(&sb, "- %s, %s from %s: %d errors, e.g. %s\n", c.name, o.Op, o.Region, o.Errors, strings.Join(o.ErrorExamples, "; "))
			}
		}
		for _, n := range c.run.Notes {
			fmt.Fprintf(&sb, "- %s: %s\n", c.name, n)
		}
	}
	if sb.Len() == 0 {
		return ""
	}
	return "\nNotes:\n\n" + sb.String()
}

// placementKV runs the same three placements on plain KV keys (each
// region's clients writing and reading their own region's keys), whose
// operations have physical bounds: the marketplace's floors, measured.
func placementKV(ctx context.Context, env Env, sim *runner.Sim, out *Outcome) (string, error) {
	type kvCase struct {
		name      string
		placement runner.Placement
		read      string
	}
	cases := []kvCase{
		{"leaders in us-east", runner.Placement{Leader: placementHome}, workload.OpRead},
		{"leaders near users", runner.Placement{Near: true}, workload.OpRead},
		{"stale reads", runner.Placement{Leader: placementHome}, workload.OpSnapshotRead},
	}
	t := &report.Table{Header: []string{"placement", "region", "write p50", "write bound", "read p50", "read bound", "read kind", "run"}}
	for i, c := range cases {
		w, err := workload.NewKV(workload.KVOptions{Prefix: fmt.Appendf(nil, "\x20geosim/pl-%d/", i),
			Mix: []workload.Weighted{{Op: workload.OpWrite, Weight: 1}, {Op: c.read, Weight: 1}}})
		if err != nil {
			return "", err
		}
		if err := sim.Place(ctx, w, c.placement); err != nil {
			return "", err
		}
		run, err := sim.Run(ctx, runner.RunSpec{Name: "placement (kv): " + c.name, Workload: w, ClientsPerRegion: 2,
			Duration: env.dur(3 * time.Second), Warmup: env.dur(time.Second)})
		if err != nil {
			return "", err
		}
		out.Runs = append(out.Runs, run)
		sub, err := writeRun(env, fmt.Sprintf("kv-%d", i+1), run)
		if err != nil {
			return "", err
		}
		for _, r := range sim.Topology().RegionNames() {
			wr, rd := run.Op(workload.OpWrite, r), run.Op(c.read, r)
			t.Add(c.name, r, report.Ms(wr.Percentile(50)), report.Ms(wr.Bound.Total), report.Ms(rd.Percentile(50)), report.Ms(rd.Bound.Total),
				c.read, fmt.Sprintf("[%s](%s/summary.md)", sub, sub))
		}
	}
	return "\n## The same placements on plain KV keys, beside their physical bounds (ms)\n\n" +
		"Each region's clients write and read keys of their own region (half writes, half reads; one range per region): one " +
		"round trip per operation, so the medians sit on the bounds computed from the topology — the floors under the " +
		"marketplace's multi-statement operations above. A read far above its bound with its leader local waited for writes in " +
		"flight on its range (a leaseholder read waits for every write on the range with a lower timestamp, not only its key's), " +
		"which costs the range's quorum round trip.\n\n" + t.String(), nil
}
