package catalog_test

import (
	"context"
	"testing"
	"time"

	"github.com/meridiandb/meridian/sql/catalog"
	"github.com/meridiandb/meridian/sql/sqltest"
	"github.com/meridiandb/meridian/sql/types"
	"github.com/meridiandb/meridian/truetime"
	"github.com/meridiandb/meridian/txn"
)

func TestVersioningAndCache(t *testing.T) {
	ctx := context.Background()
	clock := truetime.NewManual(1e18, time.Microsecond)
	db := sqltest.NewMemDB(sqltest.MemDBOptions{Clock: clock, NoCommitWait: true})
	m := catalog.NewManager(db)
	read := func() *catalog.Snapshot {
		t.Helper()
		tx, _ := db.Begin(ctx, txn.Options{Mode: txn.ReadOnly})
		defer tx.Rollback(ctx)
		s, err := m.Get(ctx, tx)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	tx, _ := db.Begin(ctx, txn.Options{Mode: txn.ReadOnly})
	if _, err := m.Get(ctx, tx); err != catalog.ErrNotBootstrapped {
		t.Fatalf("before bootstrap: %v", err)
	}
	_ = tx.Rollback(ctx)
	for i := 0; i < 2; i++ { // idempotent
		if err := m.Bootstrap(ctx); err != nil {
			t.Fatal(err)
		}
	}
	s1 := read()
	if s1.Version != 1 || s1.Database("test") == nil || s1.Users["root"] == nil {
		t.Fatalf("bootstrap snapshot: %+v", s1)
	}
	if read() != s1 {
		t.Fatal("unchanged version was not served from the cache")
	}
	var tableID uint32
	err := m.Mutate(ctx, func(s *catalog.Snapshot, w *catalog.Writer) error {
		tableID = w.NewID()
		return w.PutTable(ctx, &catalog.Table{ID: tableID, DBID: s.Database("test").ID, Name: "t",
			Columns: []catalog.Column{{ID: 1, Name: "id", Type: types.T{Name: types.TInt}}},
			Primary: catalog.Index{ID: 1, Name: "PRIMARY", Unique: true, Columns: []uint32{1}}})
	})
	if err != nil {
		t.Fatal(err)
	}
	s2 := read()
	if s2.Version != 2 || s2.Table("TEST", "T") == nil || tableID < catalog.FirstUserID {
		t.Fatalf("after create: version %d table %v id %d", s2.Version, s2.Table("test", "t"), tableID)
	}
	if s1.Table("test", "t") != nil {
		t.Fatal("old snapshot changed")
	}
	// A read-write transaction holding the version key blocks a schema
	// change until it ends (the change then commits).
	rw, _ := db.Begin(ctx, txn.Options{})
	if _, err := m.Get(ctx, rw); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		done <- m.Mutate(ctx, func(s *catalog.Snapshot, w *catalog.Writer) error {
			return w.PutDatabase(ctx, &catalog.Database{ID: w.NewID(), Name: "other"})
		})
	}()
	if _, err := rw.Commit(ctx); err != nil {
		t.Fatalf("reader of the schema could not commit: %v", err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if s3 := read(); s3.Version != 3 || s3.Database("other") == nil {
		t.Fatalf("after second change: %d", s3.Version)
	}
}
