package geosim

import (
	"context"
	"database/sql"
	"fmt"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/meridiandb/meridian/geo-sim/runner"
	"github.com/meridiandb/meridian/geo-sim/topology"
	"github.com/meridiandb/meridian/marketplace"
	"github.com/meridiandb/meridian/server"
	"github.com/meridiandb/meridian/sql/rowcodec"
	"github.com/meridiandb/meridian/sql/types"
)

// sqlLayers reaches each node's SQL listener through geo-sim's dialer, as
// the command does.
func sqlLayers() runner.Layers {
	return runner.Layers{SQLDB: func(_ context.Context, n *server.Node, dial runner.DialFunc) (*sql.DB, error) {
		cfg := mysql.NewConfig()
		cfg.Net, cfg.Addr, cfg.User, cfg.DBName = "tcp", n.SQLAddr(), "root", "test"
		cfg.InterpolateParams = true
		cfg.DialFunc = dial
		conn, err := mysql.NewConnector(cfg)
		if err != nil {
			return nil, err
		}
		return sql.OpenDB(conn), nil
	}}
}

// TestRegionalSchemaLedFromHome: on global3, the marketplace's regional
// schema with one placement policy per region (PRIMARY_REGION = the
// region) ends up with each region's rows — primary keys and the entries
// of the indexes the region leads — in ranges led from that region, and
// the global index led by the table's policy.
func TestRegionalSchemaLedFromHome(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a cluster")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	top, err := topology.Preset("global3")
	if err != nil {
		t.Fatal(err)
	}
	sim, err := runner.Start(ctx, runner.Config{Topology: top, Layers: sqlLayers()})
	if err != nil {
		t.Fatal(err)
	}
	defer sim.Close()
	gw, closeGW, err := sim.Gateway("us-east")
	if err != nil {
		t.Fatal(err)
	}
	defer closeGW()
	db, err := gw.SQL()
	if err != nil {
		t.Fatal(err)
	}
	regions := top.RegionNames()
	pol := placementPolicies{regions: regions, table: "p_marketplace"}
	// The global parts in ap-northeast, so that they cannot pass for
	// us-east's partition by accident.
	if _, err := db.ExecContext(ctx, `CREATE PLACEMENT POLICY p_marketplace PRIMARY_REGION="ap-northeast" REGIONS="us-east,eu-west,ap-northeast"`); err != nil {
		t.Fatal(err)
	}
	for _, r := range regions {
		q := fmt.Sprintf(`CREATE PLACEMENT POLICY %s PRIMARY_REGION=%q REGIONS="us-east,eu-west,ap-northeast"`, marketplace.PartitionName(r), r)
		if _, err := db.ExecContext(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	ddl, err := pol.schema().DDL()
	if err != nil {
		t.Fatal(err)
	}
	const buyers = 1 // marketplace.Tables[1]
	if _, err := db.ExecContext(ctx, ddl[buyers]); err != nil {
		t.Fatal(err)
	}
	ids := map[string]int64{}
	for _, r := range regions {
		s := marketplace.New(db, marketplace.Options{Clock: marketplace.ClockFunc(time.Now), PasswordIterations: 1000, Region: r})
		id, err := s.CreateBuyer(ctx, marketplace.NewAccount{Username: "b-" + r, Email: "b@" + r, Password: "pw"})
		if err != nil {
			t.Fatal(err)
		}
		ids[r] = int64(id)
	}
	tableID := showTableID(t, ctx, db, "buyers")
	if err := sim.Settle(ctx); err != nil {
		t.Fatal(err)
	}
	for _, r := range regions {
		pk := rowcodec.AppendKey(rowcodec.AppendKey(rowcodec.IndexPrefix(tableID, 1), types.NewString(r)), types.NewInt(ids[r]))
		uq := rowcodec.AppendKey(rowcodec.AppendKey(rowcodec.IndexPrefix(tableID, 2), types.NewString(r)), types.NewString("b-"+r))
		for what, k := range map[string][]byte{"row": pk, "username entry": uq} {
			n, got, err := sim.LeaseholderOf(ctx, k)
			if err != nil {
				t.Fatal(err)
			}
			if got != r {
				t.Errorf("the %s of %s's buyer is led from n%d in %s, want %s", what, r, n, got, r)
			}
		}
	}
	// Keys of the table outside the partitioned indexes follow the table's
	// policy.
	if n, got, err := sim.LeaseholderOf(ctx, rowcodec.IndexPrefix(tableID, 3)); err != nil || got != "ap-northeast" {
		t.Errorf("the table's other keys are led from n%d in %s (%v), want ap-northeast", n, got, err)
	}
}

// showTableID reads a table's ID from the keys SHOW TABLE … REGIONS prints.
func showTableID(t *testing.T, ctx context.Context, db *sql.DB, table string) uint32 {
	t.Helper()
	rows, err := db.QueryContext(ctx, "SHOW TABLE "+table+" REGIONS")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	re := regexp.MustCompile(`^/t/(\d+)`)
	var id uint64
	for rows.Next() {
		var rid, start, end, lh, reps, regs string
		if err := rows.Scan(&rid, &start, &end, &lh, &reps, &regs); err != nil {
			t.Fatal(err)
		}
		for _, k := range []string{start, end} {
			if m := re.FindStringSubmatch(k); m != nil && id == 0 {
				id, _ = strconv.ParseUint(m[1], 10, 32)
			}
		}
	}
	if id == 0 {
		t.Fatalf("no table ID in SHOW TABLE %s REGIONS", table)
	}
	return uint32(id)
}
