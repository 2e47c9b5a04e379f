package session

import (
	"context"
	"fmt"
	"strings"
	"sync"

	"github.com/pingcap/tidb/pkg/parser/ast"

	"github.com/meridiandb/meridian/sql"
	"github.com/meridiandb/meridian/sql/catalog"
	"github.com/meridiandb/meridian/sql/plan"
	"github.com/meridiandb/meridian/sql/types"
	"github.com/meridiandb/meridian/txn"
)

// Partition-level placement, TiDB's syntax:
//
//	CREATE TABLE t (region VARCHAR(32) NOT NULL, id BIGINT NOT NULL, …,
//	                PRIMARY KEY (region, id), KEY (region, x), KEY (y))
//	PARTITION BY LIST COLUMNS (region) (
//	  PARTITION p_us VALUES IN ('us-east') PLACEMENT POLICY = p_us,
//	  PARTITION p_eu VALUES IN ('eu-west', 'eu-central') PLACEMENT POLICY = p_eu)
//	ALTER TABLE t PARTITION p_us PLACEMENT POLICY = other | DEFAULT
//
// implemented for the case where the partitioning column leads the primary
// key (catalog.Partitioning): a partition's rows are key spans of the
// primary index and of the secondary indexes the column leads, and its
// policy is applied to each span through sql.Cluster.SetPlacement, inside
// the table's own rule. Indexes the column does not lead (KEY (y)) are
// global and follow the table's policy.

// partitioning builds the descriptor of a CREATE TABLE's PARTITION BY
// clause for t (whose columns and indexes are set), checking it against
// snap's placement policies.
func (s *Session) partitioning(snap *catalog.Snapshot, t *catalog.Table, po *ast.PartitionOptions) (*catalog.Partitioning, error) {
	if po.Tp != ast.PartitionTypeList || len(po.ColumnNames) != 1 || po.Expr != nil {
		what := "PARTITION BY " + po.Tp.String()
		if po.Tp == ast.PartitionTypeList && len(po.ColumnNames) != 1 {
			what = fmt.Sprintf("PARTITION BY LIST over %d columns or an expression", len(po.ColumnNames))
		}
		return nil, &plan.UnsupportedError{What: what + " (Meridian partitions only BY LIST COLUMNS (one column that leads the primary key))"}
	}
	if po.Sub != nil {
		return nil, &plan.UnsupportedError{What: "subpartitions"}
	}
	if len(po.UpdateIndexes) > 0 {
		return nil, &plan.UnsupportedError{What: "UPDATE INDEXES in PARTITION BY"}
	}
	name := po.ColumnNames[0].Name.O
	_, col := t.ColumnByName(name)
	if col == nil {
		return nil, &DDLError{1488, fmt.Sprintf("Field in list of fields for partition function not found in table: no column '%s' in '%s'", name, t.Name)}
	}
	if pk := t.Columns[t.ColumnOrdinal(t.Primary.Columns[0])]; pk.Hidden || pk.ID != col.ID {
		have := "none"
		if !pk.Hidden {
			var ns []string
			for _, id := range t.Primary.Columns {
				ns = append(ns, t.Columns[t.ColumnOrdinal(id)].Name)
			}
			have = "(" + strings.Join(ns, ", ") + ")"
		}
		return nil, &DDLError{1503, fmt.Sprintf("A PRIMARY KEY must include all columns in the table's partitioning function: "+
			"Meridian homes a partition's rows as key spans, so the partitioning column '%s' must lead the primary key of '%s' (its primary key is %s)",
			col.Name, t.Name, have)}
	}
	if len(po.Definitions) == 0 {
		return nil, &DDLError{1492, "For LIST partitions each partition must be defined"}
	}
	p := &catalog.Partitioning{Column: col.ID}
	b := s.builder(snap)
	seen := map[string]string{} // value text → partition
	for _, d := range po.Definitions {
		if len(d.Sub) > 0 {
			return nil, &plan.UnsupportedError{What: "subpartitions"}
		}
		part := catalog.Partition{Name: d.Name.O}
		for _, q := range p.Partitions {
			if strings.EqualFold(q.Name, part.Name) {
				return nil, &DDLError{1517, fmt.Sprintf("Duplicate partition name %s", part.Name)}
			}
		}
		in, ok := d.Clause.(*ast.PartitionDefinitionClauseIn)
		if !ok {
			return nil, &DDLError{1480, fmt.Sprintf("Only LIST PARTITIONING can use VALUES IN in partition definition; partition %s has no VALUES IN", part.Name)}
		}
		if len(in.Values) == 0 {
			return nil, &plan.UnsupportedError{What: "a DEFAULT partition (every value of the partitioning column must be listed)"}
		}
		for _, list := range in.Values {
			if len(list) != 1 {
				return nil, &DDLError{1653, fmt.Sprintf("Inconsistency in usage of column lists for partitioning: partition %s lists %d values per row for one column", part.Name, len(list))}
			}
			if _, isDefault := list[0].(*ast.DefaultExpr); isDefault {
				return nil, &plan.UnsupportedError{What: "a DEFAULT partition (every value of the partitioning column must be listed)"}
			}
			x, err := b.CompileConst(list[0])
			if err != nil {
				return nil, err
			}
			v, err := x.Eval(s.env(nil), nil)
			if err != nil {
				return nil, err
			}
			cv, err := col.Type.Coerce(v)
			if err != nil || cv.IsNull() {
				return nil, &DDLError{1654, fmt.Sprintf("Partition column values of incorrect type: %s in partition %s is not a value of column '%s' (%s, NOT NULL)",
					v.SQLLiteral(), part.Name, col.Name, col.Type.SQL())}
			}
			txt := cv.String()
			if other, dup := seen[txt]; dup {
				return nil, &DDLError{1495, fmt.Sprintf("Multiple definition of same constant in list partitioning: %s is in partitions %s and %s", cv.SQLLiteral(), other, part.Name)}
			}
			seen[txt] = part.Name
			part.Values = append(part.Values, txt)
		}
		for _, o := range d.Options {
			switch o.Tp {
			case ast.TableOptionPlacementPolicy:
				if o.Default || strings.EqualFold(o.StrValue, "default") {
					part.Placement = ""
					continue
				}
				if snap.Policies[strings.ToLower(o.StrValue)] == nil {
					return nil, &DDLError{8239, fmt.Sprintf("Unknown placement policy '%s' (partition %s of table %s)", o.StrValue, part.Name, t.Name)}
				}
				part.Placement = o.StrValue
			case ast.TableOptionComment, ast.TableOptionEngine:
			default:
				return nil, &plan.UnsupportedError{What: "this partition option"}
			}
		}
		p.Partitions = append(p.Partitions, part)
	}
	return p, nil
}

// partitionPlacement says which of a table's partitions placePartitions
// places, with which policies.
type partitionPlacement struct {
	// policies by lower-case name (a snapshot's, or with a changed one).
	policies map[string]*catalog.Policy
	// only, if set, limits it to the partitions using this policy.
	only string
	// clear names partitions that lost their own policy: their spans'
	// rules are removed, so that the table's policy governs them again.
	clear []string
}

// placePartitions applies the placement of t's partitions: each
// partition's own policy to its spans (and none to those in pp.clear).
// Spans are placed concurrently (each one a rule, and splits at its
// bounds).
func (s *Session) placePartitions(ctx context.Context, t *catalog.Table, pp partitionPlacement) error {
	if t.Partitioning == nil {
		return nil
	}
	type job struct {
		span txn.Span
		pol  *sql.Placement
	}
	var jobs []job
	for i := range t.Partitioning.Partitions {
		part := &t.Partitioning.Partitions[i]
		var pol *sql.Placement
		switch {
		case pp.only != "" && !strings.EqualFold(part.Placement, pp.only):
			continue
		case part.Placement != "":
			p := pp.policies[strings.ToLower(part.Placement)]
			if p == nil {
				return &DDLError{8239, fmt.Sprintf("Unknown placement policy '%s' (partition %s of table %s)", part.Placement, part.Name, t.Name)}
			}
			pp := p.Placement
			pol = &pp
		case !containsFold(pp.clear, part.Name):
			continue
		}
		spans, err := t.PartitionSpans(part)
		if err != nil {
			return err
		}
		for _, sp := range spans {
			jobs = append(jobs, job{sp, pol})
		}
	}
	errs := make([]error, len(jobs))
	var wg sync.WaitGroup
	for i, j := range jobs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := s.e.opts.Cluster.SetPlacement(ctx, j.span, j.pol); err != nil {
				errs[i] = fmt.Errorf("placing partition span [%x, %x) of table %s: %w", j.span.Key, j.span.EndKey, t.Name, err)
			}
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

func containsFold(list []string, s string) bool {
	for _, x := range list {
		if strings.EqualFold(x, s) {
			return true
		}
	}
	return false
}

// alterPartitions runs ALTER TABLE t PARTITION p[, q…] PLACEMENT POLICY =
// pol | DEFAULT.
func (s *Session) alterPartitions(ctx context.Context, tn *ast.TableName, names []ast.CIStr, opts []*ast.TableOption) error {
	return s.e.Catalog.Mutate(ctx, func(snap *catalog.Snapshot, w *catalog.Writer) error {
		t0, _, err := s.tableFor(snap, tn)
		if err != nil {
			return err
		}
		if t0.Partitioning == nil {
			return &DDLError{1505, fmt.Sprintf("Partition management on a not partitioned table is not possible: %s", t0.Name)}
		}
		t := catalog.CloneTable(t0)
		var cleared []string
		for _, n := range names {
			part := t.PartitionByName(n.O)
			if part == nil {
				return &DDLError{1735, fmt.Sprintf("Unknown partition '%s' in table '%s'", n.O, t.Name)}
			}
			for _, o := range opts {
				if o.Tp != ast.TableOptionPlacementPolicy {
					return &plan.UnsupportedError{What: "this ALTER TABLE … PARTITION option"}
				}
				if o.Default || strings.EqualFold(o.StrValue, "default") {
					part.Placement = ""
					cleared = append(cleared, part.Name)
					continue
				}
				if snap.Policies[strings.ToLower(o.StrValue)] == nil {
					return &DDLError{8239, fmt.Sprintf("Unknown placement policy '%s'", o.StrValue)}
				}
				part.Placement = o.StrValue
			}
		}
		if err := s.placePartitions(ctx, t, partitionPlacement{policies: snap.Policies, clear: cleared}); err != nil {
			return err
		}
		return w.PutTable(ctx, t)
	})
}

// placePartitionsOf re-applies the partitions' placement of table id (after
// a new index that the partitioning column leads got its ID).
func (s *Session) placePartitionsOf(ctx context.Context, tableID uint32) error {
	snap, err := s.e.snapshot(ctx)
	if err != nil {
		return err
	}
	t := snap.Tables[tableID]
	if t == nil || t.Partitioning == nil {
		return nil
	}
	return s.placePartitions(ctx, t, partitionPlacement{policies: snap.Policies})
}

// policyUser names a table or partition using policy name ("" if none).
func policyUser(snap *catalog.Snapshot, name string) string {
	for _, t := range snap.Tables {
		if strings.EqualFold(t.Placement, name) {
			return "table " + t.Name
		}
		if t.Partitioning != nil {
			for _, p := range t.Partitioning.Partitions {
				if strings.EqualFold(p.Placement, name) {
					return "partition " + p.Name + " of table " + t.Name
				}
			}
		}
	}
	return ""
}

// partitionSQL renders t's PARTITION BY clause as TiDB's SHOW CREATE TABLE
// does ("" if t is not partitioned).
func partitionSQL(t *catalog.Table) string {
	p := t.Partitioning
	if p == nil {
		return ""
	}
	var parts []string
	for i := range p.Partitions {
		part := &p.Partitions[i]
		vals, err := t.PartitionValues(part)
		var lits []string
		for j, txt := range part.Values {
			v := types.NewString(txt)
			if err == nil {
				v = vals[j]
			}
			lits = append(lits, v.SQLLiteral())
		}
		l := fmt.Sprintf("PARTITION %s VALUES IN (%s)", quoteIdent(part.Name), strings.Join(lits, ","))
		if part.Placement != "" {
			l += " /*T![placement] PLACEMENT POLICY=" + quoteIdent(part.Placement) + " */"
		}
		parts = append(parts, l)
	}
	col := t.Columns[t.ColumnOrdinal(p.Column)].Name
	return "\nPARTITION BY LIST COLUMNS(" + quoteIdent(col) + ")\n(" + strings.Join(parts, ",\n ") + ")"
}

func quoteIdent(s string) string { return "`" + strings.ReplaceAll(s, "`", "``") + "`" }
