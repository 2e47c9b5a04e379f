package session

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/pingcap/tidb/pkg/parser/ast"
	"github.com/pingcap/tidb/pkg/parser/test_driver"

	"github.com/meridiandb/meridian/sql"
	"github.com/meridiandb/meridian/sql/catalog"
	"github.com/meridiandb/meridian/sql/exec"
	"github.com/meridiandb/meridian/sql/plan"
	"github.com/meridiandb/meridian/sql/types"
	"github.com/meridiandb/meridian/txn"
)

// DDLError carries a MySQL error code for schema errors.
type DDLError struct {
	Code uint16
	Msg  string
}

func (e *DDLError) Error() string { return e.Msg }

func errDBExists(n string) error {
	return &DDLError{1007, fmt.Sprintf("Can't create database '%s'; database exists", n)}
}
func errTableExists(n string) error {
	return &DDLError{1050, fmt.Sprintf("Table '%s' already exists", n)}
}
func errDupKeyName(n string) error { return &DDLError{1061, fmt.Sprintf("Duplicate key name '%s'", n)} }
func errDupColumn(n string) error {
	return &DDLError{1060, fmt.Sprintf("Duplicate column name '%s'", n)}
}

func (s *Session) dbName(n string) (string, error) {
	if n != "" {
		return n, nil
	}
	if s.db == "" {
		return "", &plan.NoDatabaseError{}
	}
	return s.db, nil
}

func (s *Session) ddl(ctx context.Context, st ast.StmtNode) (*Result, error) {
	m := s.e.Catalog
	switch st := st.(type) {
	case *ast.CreateDatabaseStmt:
		return &Result{AffectedRows: 1}, m.Mutate(ctx, func(snap *catalog.Snapshot, w *catalog.Writer) error {
			if snap.Database(st.Name.O) != nil || strings.EqualFold(st.Name.O, "information_schema") {
				if st.IfNotExists {
					return nil
				}
				return errDBExists(st.Name.O)
			}
			return w.PutDatabase(ctx, &catalog.Database{ID: w.NewID(), Name: st.Name.O})
		})
	case *ast.DropDatabaseStmt:
		var dropped []*catalog.Table
		err := m.Mutate(ctx, func(snap *catalog.Snapshot, w *catalog.Writer) error {
			dropped = nil
			d := snap.Database(st.Name.O)
			if d == nil {
				if st.IfExists {
					return nil
				}
				return &DDLError{1008, fmt.Sprintf("Can't drop database '%s'; database doesn't exist", st.Name.O)}
			}
			for _, t := range snap.TablesIn(d) {
				if err := w.Delete(ctx, t.ID); err != nil {
					return err
				}
				dropped = append(dropped, t)
			}
			return w.Delete(ctx, d.ID)
		})
		if err == nil && strings.EqualFold(s.db, st.Name.O) {
			s.db = ""
		}
		if err == nil {
			err = s.clearTables(ctx, dropped)
		}
		return &Result{}, err
	case *ast.CreateTableStmt:
		return &Result{}, s.createTable(ctx, st)
	case *ast.DropTableStmt:
		var dropped []*catalog.Table
		err := m.Mutate(ctx, func(snap *catalog.Snapshot, w *catalog.Writer) error {
			dropped = nil
			for _, tn := range st.Tables {
				t, _, err := s.tableFor(snap, tn)
				if err != nil {
					if st.IfExists {
						continue
					}
					return err
				}
				if err := w.Delete(ctx, t.ID); err != nil {
					return err
				}
				dropped = append(dropped, t)
			}
			return nil
		})
		if err == nil {
			err = s.clearTables(ctx, dropped)
		}
		return &Result{}, err
	case *ast.TruncateTableStmt:
		return &Result{}, m.Mutate(ctx, func(snap *catalog.Snapshot, w *catalog.Writer) error {
			t, _, err := s.tableFor(snap, st.Table)
			if err != nil {
				return err
			}
			if err := clearSpan(ctx, w.Txn(), t.Span()); err != nil {
				return err
			}
			if err := w.Txn().Delete(ctx, catalog.AutoIncKey(t.ID)); err != nil {
				return err
			}
			s.e.autoInc.reset(t.ID)
			return w.PutTable(ctx, catalog.CloneTable(t))
		})
	case *ast.CreateIndexStmt:
		return &Result{}, s.addIndex(ctx, st.Table, st.IndexName, st.KeyType == ast.IndexKeyTypeUnique, st.IndexPartSpecifications, st.IfNotExists)
	case *ast.DropIndexStmt:
		return &Result{}, s.dropIndex(ctx, st.Table, st.IndexName, st.IfExists)
	case *ast.AlterTableStmt:
		return &Result{}, s.alterTable(ctx, st)
	case *ast.CreatePlacementPolicyStmt:
		return &Result{}, s.putPolicy(ctx, st.PolicyName.O, st.PlacementOptions, st.IfNotExists, st.OrReplace, true)
	case *ast.AlterPlacementPolicyStmt:
		return &Result{}, s.putPolicy(ctx, st.PolicyName.O, st.PlacementOptions, false, true, false)
	case *ast.DropPlacementPolicyStmt:
		return &Result{}, m.Mutate(ctx, func(snap *catalog.Snapshot, w *catalog.Writer) error {
			p := snap.Policies[strings.ToLower(st.PolicyName.O)]
			if p == nil {
				if st.IfExists {
					return nil
				}
				return &DDLError{8239, fmt.Sprintf("Unknown placement policy '%s'", st.PolicyName.O)}
			}
			if user := policyUser(snap, p.Name); user != "" {
				return &DDLError{8241, fmt.Sprintf("Placement policy '%s' is still in use (by %s)", p.Name, user)}
			}
			return w.Delete(ctx, p.ID)
		})
	}
	return nil, &plan.UnsupportedError{What: fmt.Sprintf("DDL %T", st)}
}

// clearSpan deletes every key in span inside tx.
func clearSpan(ctx context.Context, tx txn.Txn, span txn.Span) error {
	for {
		res, err := tx.Scan(ctx, span, txn.ScanOptions{MaxRows: 1000})
		if err != nil {
			return err
		}
		for _, kv := range res.Rows {
			if err := tx.Delete(ctx, kv.Key); err != nil {
				return err
			}
		}
		if res.Resume == nil {
			return nil
		}
		span = *res.Resume
	}
}

// clearDropped deletes the data of a dropped table or index (see
// janitor).
func (s *Session) clearDropped(ctx context.Context, span txn.Span) {
	s.e.janitor.clear(ctx, span)
}

// clearTables deletes the data and auto-increment counters of dropped
// tables (the counters in the same span's cleanup: see janitor).
func (s *Session) clearTables(ctx context.Context, ts []*catalog.Table) error {
	for _, t := range ts {
		s.clearDropped(ctx, t.Span())
		k := catalog.AutoIncKey(t.ID)
		s.clearDropped(ctx, txn.Span{Key: k, EndKey: append(append([]byte(nil), k...), 0)})
		s.e.autoInc.reset(t.ID)
	}
	return nil
}

// columnDesc builds a column descriptor from a column definition.
func columnDesc(def *ast.ColumnDef, id uint32) (catalog.Column, bool, bool, error) {
	t, err := plan.FieldType(def.Tp)
	if err != nil {
		return catalog.Column{}, false, false, err
	}
	c := catalog.Column{ID: id, Name: def.Name.Name.O, Type: t, Nullable: true}
	pk, uniq := false, false
	for _, o := range def.Options {
		switch o.Tp {
		case ast.ColumnOptionNotNull:
			c.Nullable = false
		case ast.ColumnOptionNull:
			c.Nullable = true
		case ast.ColumnOptionAutoIncrement:
			c.AutoInc = true
		case ast.ColumnOptionPrimaryKey:
			pk = true
			c.Nullable = false
		case ast.ColumnOptionUniqKey:
			uniq = true
		case ast.ColumnOptionDefaultValue:
			d, err := defaultText(o.Expr, t)
			if err != nil {
				return c, false, false, err
			}
			c.Default = d
		}
	}
	return c, pk, uniq, nil
}

func defaultText(e ast.ExprNode, t types.T) (*string, error) {
	switch e := e.(type) {
	case *test_driver.ValueExpr:
		if e.Datum.Kind() == test_driver.KindNull {
			return nil, nil
		}
		v := valueOf(&e.Datum)
		cv, err := t.Coerce(v)
		if err != nil {
			return nil, &DDLError{1067, "Invalid default value"}
		}
		s := cv.String()
		return &s, nil
	case *ast.FuncCallExpr:
		switch e.FnName.L {
		case "current_timestamp", "now", "localtime", "localtimestamp":
			s := "CURRENT_TIMESTAMP"
			return &s, nil
		}
	case *ast.UnaryOperationExpr:
		if v, ok := e.V.(*test_driver.ValueExpr); ok {
			cv, err := t.Coerce(valueOf(&v.Datum))
			if err == nil {
				neg, err := t.Coerce(types.NewString("-" + cv.String()))
				if err == nil {
					s := neg.String()
					return &s, nil
				}
			}
		}
	}
	return nil, &DDLError{1067, "Invalid default value"}
}

func valueOf(d *test_driver.Datum) types.Value {
	b := &plan.Builder{}
	e, err := b.CompileConst(&test_driver.ValueExpr{Datum: *d})
	if err != nil {
		return types.Null
	}
	v, _ := e.Eval(nil, nil)
	return v
}

func indexColumns(t *catalog.Table, parts []*ast.IndexPartSpecification) ([]uint32, error) {
	var ids []uint32
	for _, p := range parts {
		if p.Column == nil {
			return nil, &plan.UnsupportedError{What: "expression indexes"}
		}
		_, c := t.ColumnByName(p.Column.Name.O)
		if c == nil {
			return nil, &plan.UnknownColumnError{Name: p.Column.Name.O, Where: "key column"}
		}
		ids = append(ids, c.ID)
	}
	return ids, nil
}

func (s *Session) createTable(ctx context.Context, st *ast.CreateTableStmt) error {
	if st.ReferTable != nil || st.Select != nil {
		return &plan.UnsupportedError{What: "CREATE TABLE … LIKE / AS SELECT"}
	}
	dbn, err := s.dbName(st.Table.Schema.O)
	if err != nil {
		return err
	}
	return s.e.Catalog.Mutate(ctx, func(snap *catalog.Snapshot, w *catalog.Writer) error {
		d := snap.Database(dbn)
		if d == nil {
			return &UnknownDBError{DB: dbn}
		}
		if snap.Table(dbn, st.Table.Name.O) != nil {
			if st.IfNotExists {
				return nil
			}
			return errTableExists(st.Table.Name.O)
		}
		t := &catalog.Table{ID: w.NewID(), DBID: d.ID, Name: st.Table.Name.O, NextColumnID: 1, NextIndexID: 2}
		var uniqueCols []uint32
		for _, def := range st.Cols {
			c, pk, uniq, err := columnDesc(def, t.NextColumnID)
			if err != nil {
				return err
			}
			if _, dup := t.ColumnByName(c.Name); dup != nil {
				return errDupColumn(c.Name)
			}
			t.NextColumnID++
			t.Columns = append(t.Columns, c)
			if pk {
				if len(t.Primary.Columns) > 0 {
					return &DDLError{1068, "Multiple primary key defined"}
				}
				t.Primary = catalog.Index{ID: 1, Name: "PRIMARY", Unique: true, Columns: []uint32{c.ID}}
			}
			if uniq {
				uniqueCols = append(uniqueCols, c.ID)
			}
		}
		for _, cons := range st.Constraints {
			ids, err := indexColumns(t, cons.Keys)
			if err != nil {
				return err
			}
			switch cons.Tp {
			case ast.ConstraintPrimaryKey:
				if len(t.Primary.Columns) > 0 {
					return &DDLError{1068, "Multiple primary key defined"}
				}
				t.Primary = catalog.Index{ID: 1, Name: "PRIMARY", Unique: true, Columns: ids}
				for _, id := range ids {
					t.Columns[t.ColumnOrdinal(id)].Nullable = false
				}
			case ast.ConstraintKey, ast.ConstraintIndex, ast.ConstraintUniq, ast.ConstraintUniqKey, ast.ConstraintUniqIndex:
				name := cons.Name
				if name == "" {
					name = t.Columns[t.ColumnOrdinal(ids[0])].Name
				}
				if t.IndexByName(name) != nil {
					return errDupKeyName(name)
				}
				unique := cons.Tp == ast.ConstraintUniq || cons.Tp == ast.ConstraintUniqKey || cons.Tp == ast.ConstraintUniqIndex
				t.Indexes = append(t.Indexes, catalog.Index{ID: t.NextIndexID, Name: name, Unique: unique, Columns: ids})
				t.NextIndexID++
			}
		}
		for _, id := range uniqueCols {
			name := t.Columns[t.ColumnOrdinal(id)].Name
			t.Indexes = append(t.Indexes, catalog.Index{ID: t.NextIndexID, Name: name, Unique: true, Columns: []uint32{id}})
			t.NextIndexID++
		}
		if len(t.Primary.Columns) == 0 {
			c := catalog.Column{ID: t.NextColumnID, Name: "_rowid", Type: types.T{Name: types.TBigInt}, AutoInc: t.AutoIncColumn() < 0, Hidden: true}
			if !c.AutoInc {
				return &plan.UnsupportedError{What: "AUTO_INCREMENT on a table without a primary key"}
			}
			t.NextColumnID++
			t.Columns = append(t.Columns, c)
			t.Primary = catalog.Index{ID: 1, Name: "PRIMARY", Unique: true, Columns: []uint32{c.ID}}
		}
		for _, o := range st.Options {
			if o.Tp == ast.TableOptionPlacementPolicy {
				if snap.Policies[strings.ToLower(o.StrValue)] == nil {
					return &DDLError{8239, fmt.Sprintf("Unknown placement policy '%s'", o.StrValue)}
				}
				t.Placement = o.StrValue
			}
		}
		if st.Partition != nil {
			p, err := s.partitioning(snap, t, st.Partition)
			if err != nil {
				return err
			}
			t.Partitioning = p
		}
		if err := w.PutTable(ctx, t); err != nil {
			return err
		}
		if err := s.applyPlacement(ctx, snap, t); err != nil {
			return err
		}
		return s.placePartitions(ctx, t, partitionPlacement{policies: snap.Policies})
	})
}

func (s *Session) applyPlacement(ctx context.Context, snap *catalog.Snapshot, t *catalog.Table) error {
	var p *sql.Placement
	if t.Placement != "" {
		if pol := snap.Policies[strings.ToLower(t.Placement)]; pol != nil {
			pp := pol.Placement
			p = &pp
		}
	}
	if t.Placement == "" {
		return nil
	}
	return s.e.opts.Cluster.SetPlacement(ctx, t.Span(), p)
}

func (s *Session) alterTable(ctx context.Context, st *ast.AlterTableStmt) error {
	for _, spec := range st.Specs {
		var err error
		switch spec.Tp {
		case ast.AlterTableAddColumns:
			err = s.addColumns(ctx, st.Table, spec.NewColumns)
		case ast.AlterTableAddConstraint:
			c := spec.Constraint
			switch c.Tp {
			case ast.ConstraintKey, ast.ConstraintIndex, ast.ConstraintUniq, ast.ConstraintUniqKey, ast.ConstraintUniqIndex:
				unique := c.Tp == ast.ConstraintUniq || c.Tp == ast.ConstraintUniqKey || c.Tp == ast.ConstraintUniqIndex
				err = s.addIndex(ctx, st.Table, c.Name, unique, c.Keys, c.IfNotExists)
			default:
				err = &plan.UnsupportedError{What: "this ALTER TABLE constraint"}
			}
		case ast.AlterTableDropIndex:
			err = s.dropIndex(ctx, st.Table, spec.Name, spec.IfExists)
		case ast.AlterTableDropColumn:
			err = s.dropColumn(ctx, st.Table, spec.OldColumnName.Name.O, spec.IfExists)
		case ast.AlterTableOption:
			err = s.alterOptions(ctx, st.Table, spec.Options)
		case ast.AlterTablePartitionOptions:
			err = s.alterPartitions(ctx, st.Table, spec.PartitionNames, spec.Options)
		default:
			err = &plan.UnsupportedError{What: "this ALTER TABLE clause"}
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func (s *Session) alterOptions(ctx context.Context, tn *ast.TableName, opts []*ast.TableOption) error {
	return s.e.Catalog.Mutate(ctx, func(snap *catalog.Snapshot, w *catalog.Writer) error {
		t0, _, err := s.tableFor(snap, tn)
		if err != nil {
			return err
		}
		t := catalog.CloneTable(t0)
		for _, o := range opts {
			if o.Tp != ast.TableOptionPlacementPolicy {
				continue
			}
			if o.Default || strings.EqualFold(o.StrValue, "default") {
				t.Placement = ""
				if err := s.e.opts.Cluster.SetPlacement(ctx, t.Span(), nil); err != nil {
					return err
				}
				continue
			}
			if snap.Policies[strings.ToLower(o.StrValue)] == nil {
				return &DDLError{8239, fmt.Sprintf("Unknown placement policy '%s'", o.StrValue)}
			}
			t.Placement = o.StrValue
			if err := s.applyPlacement(ctx, snap, t); err != nil {
				return err
			}
		}
		return w.PutTable(ctx, t)
	})
}

// addColumns adds columns in two steps: write-only (rows written by
// transactions that do not know the columns yet, which may still commit,
// lose nothing: write-only columns only ever hold their defaults), then
// public.
func (s *Session) addColumns(ctx context.Context, tn *ast.TableName, defs []*ast.ColumnDef) error {
	var tableID uint32
	var ids []uint32
	err := s.e.Catalog.Mutate(ctx, func(snap *catalog.Snapshot, w *catalog.Writer) error {
		ids = nil
		t0, _, err := s.tableFor(snap, tn)
		if err != nil {
			return err
		}
		t := catalog.CloneTable(t0)
		tableID = t.ID
		for _, def := range defs {
			c, pk, uniq, err := columnDesc(def, t.NextColumnID)
			if err != nil {
				return err
			}
			if pk || uniq || c.AutoInc {
				return &plan.UnsupportedError{What: "ADD COLUMN with PRIMARY KEY / UNIQUE / AUTO_INCREMENT"}
			}
			if _, dup := t.AnyColumnByName(c.Name); dup != nil {
				return errDupColumn(c.Name)
			}
			if !c.Nullable && c.Default == nil {
				// MySQL fills existing rows with the type's zero value.
				z := zeroText(c.Type)
				c.Default = &z
			}
			c.State = catalog.ColumnWriteOnly
			t.NextColumnID++
			t.Columns = append(t.Columns, c)
			ids = append(ids, c.ID)
		}
		return w.PutTable(ctx, t)
	})
	if err != nil {
		return err
	}
	return s.setColumnState(ctx, tableID, ids, catalog.ColumnPublic, false)
}

// setColumnState moves columns to state (or removes them) in one schema
// change.
func (s *Session) setColumnState(ctx context.Context, tableID uint32, ids []uint32, state catalog.ColumnState, remove bool) error {
	return s.e.Catalog.Mutate(ctx, func(snap *catalog.Snapshot, w *catalog.Writer) error {
		t0 := snap.Tables[tableID]
		if t0 == nil {
			return fmt.Errorf("table %d dropped during ALTER TABLE", tableID)
		}
		t := catalog.CloneTable(t0)
		var kept []catalog.Column
		for _, c := range t.Columns {
			if slices.Contains(ids, c.ID) {
				if remove {
					continue
				}
				c.State = state
			}
			kept = append(kept, c)
		}
		t.Columns = kept
		return w.PutTable(ctx, t)
	})
}

// dropColumn drops a column in two steps: write-only (statements no
// longer see it, but writes keep its values for the transactions that
// still read it), then gone. Its bytes stay in rows until they are
// rewritten; column IDs are never reused.
func (s *Session) dropColumn(ctx context.Context, tn *ast.TableName, name string, ifExists bool) error {
	snap, err := s.e.snapshot(ctx)
	if err != nil {
		return err
	}
	t, _, err := s.tableFor(snap, tn)
	if err != nil {
		return err
	}
	_, c := t.ColumnByName(name)
	if c == nil || c.Hidden {
		if ifExists {
			return nil
		}
		return &DDLError{1091, fmt.Sprintf("Can't DROP '%s'; check that column/key exists", name)}
	}
	listed := 0
	for _, o := range t.Columns {
		if o.Listed() {
			listed++
		}
	}
	if listed == 1 {
		return &DDLError{1090, "You can't delete all columns with ALTER TABLE; use DROP TABLE instead"}
	}
	if t.IsPKColumn(c.ID) {
		return &plan.UnsupportedError{What: "dropping a primary key column"}
	}
	for _, idx := range t.Indexes {
		if slices.Contains(idx.Columns, c.ID) {
			return &plan.UnsupportedError{What: fmt.Sprintf("dropping column '%s' of index '%s' (drop the index first)", c.Name, idx.Name)}
		}
	}
	if err := s.setColumnState(ctx, t.ID, []uint32{c.ID}, catalog.ColumnWriteOnly, false); err != nil {
		return err
	}
	return s.setColumnState(ctx, t.ID, []uint32{c.ID}, 0, true)
}

func zeroText(t types.T) string {
	switch t.Kind() {
	case types.KString, types.KBytes:
		return ""
	case types.KTime:
		return "1970-01-01 00:00:00"
	}
	return "0"
}

// addIndex adds a secondary index online, in F1's steps (each a schema
// change that returns once every node uses it): (1) delete-only, so that
// writes by transactions still on the previous version (which ignore the
// index) meet no entries they would leave stale; (2) write-only, so that
// every transaction that commits from now on maintains it; (3) existing
// rows are backfilled in batches, each its own transaction that reads the
// rows it indexes under lock; (4) public. A uniqueness violation found
// while backfilling removes the index again.
func (s *Session) addIndex(ctx context.Context, tn *ast.TableName, name string, unique bool, parts []*ast.IndexPartSpecification, ifNotExists bool) error {
	var tableID, indexID uint32
	skip := false
	err := s.e.Catalog.Mutate(ctx, func(snap *catalog.Snapshot, w *catalog.Writer) error {
		t0, _, err := s.tableFor(snap, tn)
		if err != nil {
			return err
		}
		t := catalog.CloneTable(t0)
		ids, err := indexColumns(t, parts)
		if err != nil {
			return err
		}
		iname := name
		if iname == "" {
			iname = t.Columns[t.ColumnOrdinal(ids[0])].Name
		}
		if t.IndexByName(iname) != nil {
			if ifNotExists {
				skip = true
				return nil
			}
			return errDupKeyName(iname)
		}
		tableID, indexID = t.ID, t.NextIndexID
		t.Indexes = append(t.Indexes, catalog.Index{ID: t.NextIndexID, Name: iname, Unique: unique, Columns: ids, State: catalog.IndexDeleteOnly})
		t.NextIndexID++
		return w.PutTable(ctx, t)
	})
	if err != nil || skip {
		return err
	}
	// A partitioned table's new index that the partitioning column leads
	// is homed with the partitions before it gets entries.
	if err := s.placePartitionsOf(ctx, tableID); err != nil {
		_ = s.removeIndex(ctx, tableID, indexID)
		return err
	}
	if err := s.setIndexState(ctx, tableID, indexID, catalog.IndexWriteOnly); err != nil {
		_ = s.removeIndex(ctx, tableID, indexID)
		return err
	}
	if err := s.backfill(ctx, tableID, indexID); err != nil {
		_ = s.removeIndex(ctx, tableID, indexID)
		return err
	}
	return s.setIndexState(ctx, tableID, indexID, catalog.IndexPublic)
}

// setIndexState moves an index to state in one schema change.
func (s *Session) setIndexState(ctx context.Context, tableID, indexID uint32, state catalog.IndexState) error {
	return s.e.Catalog.Mutate(ctx, func(snap *catalog.Snapshot, w *catalog.Writer) error {
		t0 := snap.Tables[tableID]
		if t0 == nil {
			return fmt.Errorf("table %d dropped during a change of its index %d", tableID, indexID)
		}
		t := catalog.CloneTable(t0)
		found := false
		for i := range t.Indexes {
			if t.Indexes[i].ID == indexID {
				t.Indexes[i].State = state
				found = true
			}
		}
		if !found {
			return fmt.Errorf("index %d of table %s dropped during a change of its state", indexID, t.Name)
		}
		return w.PutTable(ctx, t)
	})
}

func (s *Session) backfill(ctx context.Context, tableID, indexID uint32) error {
	var next *txn.Span
	first := true
	for first || next != nil {
		first = false
		if f := s.e.opts.Knobs.BeforeBackfillBatch; f != nil {
			f()
		}
		batch := 500
		if n := s.e.opts.Knobs.BackfillBatchSize; n > 0 {
			batch = n
		}
		var resume *txn.Span
		err := retryTxn(ctx, s.e.opts.DB, func(tx txn.Txn) error {
			snap, err := s.e.Catalog.Get(ctx, tx)
			if err != nil {
				return err
			}
			t := snap.Tables[tableID]
			if t == nil {
				return fmt.Errorf("table %d dropped during ADD INDEX", tableID)
			}
			var idx *catalog.Index
			for i := range t.Indexes {
				if t.Indexes[i].ID == indexID {
					idx = &t.Indexes[i]
				}
			}
			if idx == nil {
				return fmt.Errorf("index %d of table %s dropped during ADD INDEX", indexID, t.Name)
			}
			span := t.IndexSpan(t.Primary.ID)
			if next != nil {
				span = *next
			}
			c := &exec.Ctx{Ctx: ctx, Txn: tx}
			resume, err = c.BackfillIndex(t, idx, span, batch)
			return err
		})
		if err != nil {
			return err
		}
		next = resume
	}
	return nil
}

func retryTxn(ctx context.Context, db txn.DB, fn func(tx txn.Txn) error) error {
	return retryTxnOpts(ctx, db, txn.Options{}, catalog.MaxRetries, fn)
}

// removeIndex drops an index: public ones become write-only first (so
// that transactions still reading them under the previous version see
// them maintained), then the index leaves the descriptor, then — once no
// transaction can write it any more — its entries are deleted.
func (s *Session) removeIndex(ctx context.Context, tableID, indexID uint32) error {
	snap, err := s.e.snapshot(ctx)
	if err != nil {
		return err
	}
	if t := snap.Tables[tableID]; t != nil {
		for _, idx := range t.Indexes {
			if idx.ID == indexID && idx.State == catalog.IndexPublic {
				if err := s.setIndexState(ctx, tableID, indexID, catalog.IndexWriteOnly); err != nil {
					return err
				}
			}
		}
	}
	var span txn.Span
	err = s.e.Catalog.Mutate(ctx, func(snap *catalog.Snapshot, w *catalog.Writer) error {
		t0 := snap.Tables[tableID]
		if t0 == nil {
			return nil
		}
		t := catalog.CloneTable(t0)
		var kept []catalog.Index
		for _, idx := range t.Indexes {
			if idx.ID != indexID {
				kept = append(kept, idx)
			}
		}
		t.Indexes = kept
		span = t.IndexSpan(indexID)
		return w.PutTable(ctx, t)
	})
	if err != nil || span.Key == nil {
		return err
	}
	s.clearDropped(ctx, span)
	return nil
}

func (s *Session) dropIndex(ctx context.Context, tn *ast.TableName, name string, ifExists bool) error {
	snap, err := s.e.snapshot(ctx)
	if err != nil {
		return err
	}
	t, _, err := s.tableFor(snap, tn)
	if err != nil {
		return err
	}
	idx := t.IndexByName(name)
	if idx == nil || idx.ID == t.Primary.ID {
		if ifExists && idx == nil {
			return nil
		}
		return &DDLError{1091, fmt.Sprintf("Can't DROP '%s'; check that column/key exists", name)}
	}
	return s.removeIndex(ctx, t.ID, idx.ID)
}
