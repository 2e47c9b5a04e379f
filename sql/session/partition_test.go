package session_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/meridiandb/meridian/sql/session"
)

// TestPartitionShowCreateRoundTrip: SHOW CREATE TABLE of a partitioned,
// placed table is a statement that creates the same table, with the same
// placement rules (up to the table ID in their keys).
func TestPartitionShowCreateRoundTrip(t *testing.T) {
	e, _, cluster := newEngineCluster(t, session.TestingKnobs{})
	s := e.NewSession("root")
	ctx := context.Background()
	exec := func(q string) *session.Result {
		t.Helper()
		res, err := s.Execute(ctx, q)
		if err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		return res
	}
	exec("USE test")
	exec(`CREATE PLACEMENT POLICY p_us PRIMARY_REGION="us-east" REGIONS="us-east,eu-west"`)
	exec(`CREATE PLACEMENT POLICY p_eu PRIMARY_REGION="eu-west" REGIONS="us-east,eu-west"`)
	exec("CREATE TABLE carts (region VARCHAR(32) NOT NULL, buyer BIGINT NOT NULL, item BIGINT NOT NULL, n INT NOT NULL DEFAULT 1," +
		" PRIMARY KEY (region, buyer, item), INDEX by_item (region, item), INDEX global_item (item)) PLACEMENT POLICY = p_us" +
		" PARTITION BY LIST COLUMNS (region) (PARTITION `p us` VALUES IN ('us-east', 'us-west') PLACEMENT POLICY = p_us," +
		" PARTITION p_eu VALUES IN ('eu-west') PLACEMENT POLICY = p_eu, PARTITION p_ap VALUES IN ('it''s'))")
	show := func() string {
		t.Helper()
		return exec("SHOW CREATE TABLE carts").Rows[0][1].S
	}
	// rules renders the recorded rules without the table ID (one byte
	// after the prefix and its length).
	rules := func() string {
		var sb strings.Builder
		for _, r := range cluster.Placements() {
			fmt.Fprintf(&sb, "%x..%x %s\n", r.Span.Key[3:], r.Span.EndKey[3:], r.Policy.Name)
		}
		return sb.String()
	}
	first, firstRules := show(), rules()
	// The table's rule, and per partition with a policy one span in each of
	// the two indexes region leads: the values sort eu-west < it's <
	// us-east < us-west, so p us's two values are adjacent tiles, merged.
	if strings.Count(firstRules, "\n") != 1+2+2 {
		t.Fatalf("rules:\n%s", firstRules)
	}
	exec("DROP TABLE carts")
	for _, r := range cluster.Placements() {
		_ = cluster.SetPlacement(ctx, r.Span, nil) // forget the dropped table's rules
	}
	exec(first)
	if again := show(); again != first {
		t.Errorf("SHOW CREATE TABLE does not round-trip:\nfirst:\n%s\nagain:\n%s", first, again)
	}
	if again := rules(); again != firstRules {
		t.Errorf("placement rules differ after the round trip:\nfirst:\n%s\nagain:\n%s", firstRules, again)
	}
}
