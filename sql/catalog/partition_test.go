package catalog_test

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/meridiandb/meridian/sql/catalog"
	"github.com/meridiandb/meridian/sql/exec"
	"github.com/meridiandb/meridian/sql/types"
	"github.com/meridiandb/meridian/txn"
)

// partitionedTable is t(region VARCHAR, id BIGINT, name VARCHAR, email
// VARCHAR), PRIMARY KEY (region, id), KEY (region, name), KEY (email),
// LIST COLUMNS (region) partitioned into p_eu (eu-central, eu-west),
// p_us (us-east, us-west) and p_ap (ap-northeast).
func partitionedTable() *catalog.Table {
	vc := types.T{Name: types.TVarchar, Len: 64}
	return &catalog.Table{ID: 120, Name: "t",
		Columns: []catalog.Column{{ID: 1, Name: "region", Type: vc}, {ID: 2, Name: "id", Type: types.T{Name: types.TBigInt}},
			{ID: 3, Name: "name", Type: vc}, {ID: 4, Name: "email", Type: vc}},
		Primary: catalog.Index{ID: 1, Name: "PRIMARY", Unique: true, Columns: []uint32{1, 2}},
		Indexes: []catalog.Index{{ID: 2, Name: "by_name", Columns: []uint32{1, 3}}, {ID: 3, Name: "by_email", Columns: []uint32{4}}},
		Partitioning: &catalog.Partitioning{Column: 1, Partitions: []catalog.Partition{
			{Name: "p_eu", Values: []string{"eu-west", "eu-central"}, Placement: "eu"},
			{Name: "p_us", Values: []string{"us-east", "us-west"}},
			{Name: "p_ap", Values: []string{"ap-northeast"}},
		}},
	}
}

func in(spans []txn.Span, k []byte) bool {
	for _, s := range spans {
		if bytes.Compare(s.Key, k) <= 0 && bytes.Compare(k, s.EndKey) < 0 {
			return true
		}
	}
	return false
}

// TestPartitionSpansHoldTheirRows: every key of a row — its primary key
// and its entries in the indexes the partitioning column leads — lies in
// its partition's spans and in no other's; global index entries lie in
// none; the partitions' spans tile each partitioned index.
func TestPartitionSpansHoldTheirRows(t *testing.T) {
	tbl := partitionedTable()
	spans := map[string][]txn.Span{}
	for i := range tbl.Partitioning.Partitions {
		p := &tbl.Partitioning.Partitions[i]
		ss, err := tbl.PartitionSpans(p)
		if err != nil {
			t.Fatal(err)
		}
		spans[p.Name] = ss
	}
	// p_eu's two values sort next to each other: one span per index.
	if len(spans["p_eu"]) != 2 || len(spans["p_us"]) != 2 || len(spans["p_ap"]) != 2 {
		t.Errorf("spans per partition: %v", spans)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for range 500 {
		p := &tbl.Partitioning.Partitions[rng.IntN(3)]
		region := p.Values[rng.IntN(len(p.Values))]
		row := []types.Value{types.NewString(region), types.NewInt(rng.Int64() - rng.Int64()),
			types.NewString(fmt.Sprintf("n%x\x00", rng.Uint64())), types.NewString(fmt.Sprintf("e%d", rng.IntN(100)))}
		if err := tbl.CheckPartition(row); err != nil {
			t.Fatal(err)
		}
		keys := map[string][]byte{"primary": exec.RowKey(tbl, row)}
		keys["by_name"], _ = exec.IndexEntry(tbl, &tbl.Indexes[0], row)
		global, _ := exec.IndexEntry(tbl, &tbl.Indexes[1], row)
		for what, k := range keys {
			for name, ss := range spans {
				if got, want := in(ss, k), name == p.Name; got != want {
					t.Fatalf("%s key of a row in %s (region %s): in %s's spans = %v", what, p.Name, region, name, got)
				}
			}
		}
		for name, ss := range spans {
			if in(ss, global) {
				t.Fatalf("a global index entry lies in %s's spans", name)
			}
		}
	}
	// Together the spans tile the two partitioned indexes exactly.
	var all []txn.Span
	for _, ss := range spans {
		all = append(all, ss...)
	}
	for _, idx := range []uint32{1, 2} {
		sp := tbl.IndexSpan(idx)
		at := sp.Key
		for !bytes.Equal(at, sp.EndKey) {
			next := []byte(nil)
			for _, s := range all {
				if bytes.Equal(s.Key, at) {
					next = s.EndKey
				}
			}
			if next == nil {
				t.Fatalf("index %d: no span starts at %x", idx, at)
			}
			at = next
		}
	}
}

func TestCheckPartition(t *testing.T) {
	tbl := partitionedTable()
	err := tbl.CheckPartition([]types.Value{types.NewString("mars"), types.NewInt(1), types.NewString("x"), types.NewString("y")})
	var np *catalog.NoPartitionError
	if !errors.As(err, &np) || np.Value != "'mars'" || np.Column != "region" {
		t.Errorf("a row of no partition: %v", err)
	}
	if err := tbl.CheckPartition([]types.Value{types.NewString("eu-central"), types.NewInt(1), types.NewString("x"), types.NewString("y")}); err != nil {
		t.Errorf("a row of p_eu: %v", err)
	}
	if p := tbl.PartitionByName("P_US"); p == nil || p.Name != "p_us" {
		t.Errorf("PartitionByName: %+v", p)
	}
}
