package session

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/pingcap/tidb/pkg/parser/ast"
	"github.com/pingcap/tidb/pkg/parser/test_driver"

	"github.com/meridiandb/meridian/sql/catalog"
	"github.com/meridiandb/meridian/sql/plan"
	"github.com/meridiandb/meridian/sql/rowcodec"
	"github.com/meridiandb/meridian/sql/types"
)

func strCols(names ...string) []plan.Column {
	out := make([]plan.Column, len(names))
	for i, n := range names {
		out[i] = plan.Column{Name: n, Type: types.T{Name: types.TVarchar, Len: 255}}
	}
	return out
}

func strRow(vals ...string) []types.Value {
	out := make([]types.Value, len(vals))
	for i, v := range vals {
		out[i] = types.NewString(v)
	}
	return out
}

func matchPattern(st *ast.ShowStmt, name string) bool {
	if st == nil || st.Pattern == nil {
		return true
	}
	v, ok := st.Pattern.Pattern.(*test_driver.ValueExpr)
	if !ok {
		return true
	}
	re := "^(?i)" + strings.NewReplacer("%", ".*", "_", ".").Replace(regexp.QuoteMeta(v.Datum.GetString())) + "$"
	m, err := regexp.MatchString(re, name)
	return err == nil && m
}

var (
	showClockRE   = regexp.MustCompile(`(?i)^\s*show\s+clock\s*;?\s*$`)
	showLatencyRE = regexp.MustCompile(`(?i)^\s*show\s+latency\s*;?\s*$`)
)

// meridianShow handles statements the parser does not know: SHOW CLOCK and
// SHOW LATENCY.
func (s *Session) meridianShow(ctx context.Context, q string) (*Result, bool, error) {
	switch {
	case showClockRE.MatchString(q):
		clocks, err := s.e.opts.Cluster.ClockStatuses(ctx)
		if err != nil {
			return nil, true, err
		}
		res := &Result{Columns: strCols("node_id", "region", "source", "earliest", "latest", "epsilon", "offset", "since_sync", "unsafe")}
		for _, c := range clocks {
			st := c.Status
			res.Rows = append(res.Rows, []types.Value{types.NewInt(int64(c.NodeID)), types.NewString(c.Region),
				types.NewString(st.Source), types.NewString(st.Now.Earliest.String()), types.NewString(st.Now.Latest.String()),
				types.NewString(st.Epsilon.String()), types.NewString(st.Offset.String()), types.NewString(st.SinceSync.String()),
				types.NewString(st.Unsafe)})
		}
		return res, true, nil
	case showLatencyRE.MatchString(q):
		l := s.lastLedger
		res := &Result{Columns: []plan.Column{{Name: "component", Type: types.T{Name: types.TVarchar, Len: 64}}, {Name: "duration_us", Type: types.T{Name: types.TBigInt}}, {Name: "value", Type: types.T{Name: types.TVarchar, Len: 64}}}}
		add := func(name string, d time.Duration) {
			res.Rows = append(res.Rows, []types.Value{types.NewString(name), types.NewInt(d.Microseconds()), types.NewString(d.String())})
		}
		add("total", l.Total)
		add("network", l.Network)
		add("lock_wait", l.LockWait)
		add("raft", l.Raft)
		add("prepare", l.Prepare)
		add("commit_wait", l.CommitWait)
		add("safe_time_wait", l.SafeTimeWait)
		add("admission_wait", l.AdmissionWait)
		add("retry_time", l.RetryTime)
		res.Rows = append(res.Rows, []types.Value{types.NewString("retries"), types.NewInt(0), types.NewString(fmt.Sprint(l.Retries))})
		res.Rows = append(res.Rows, []types.Value{types.NewString("ranges"), types.NewInt(0), types.NewString(fmt.Sprint(l.Ranges))})
		return res, true, nil
	}
	return nil, false, nil
}

func (s *Session) tableFor(snap *catalog.Snapshot, tn *ast.TableName) (*catalog.Table, string, error) {
	db := tn.Schema.O
	if db == "" {
		db = s.db
	}
	if db == "" {
		return nil, "", &plan.NoDatabaseError{}
	}
	t := snap.Table(db, tn.Name.O)
	if t == nil {
		return nil, "", &plan.NoSuchTableError{DB: db, Table: tn.Name.O}
	}
	return t, db, nil
}

func (s *Session) show(ctx context.Context, st *ast.ShowStmt) (*Result, error) {
	snap, err := s.e.snapshot(ctx)
	if err != nil {
		return nil, err
	}
	switch st.Tp {
	case ast.ShowDatabases:
		res := &Result{Columns: strCols("Database")}
		names := append([]string{"information_schema"}, snap.DatabaseNames()...)
		for _, n := range names {
			if matchPattern(st, n) {
				res.Rows = append(res.Rows, strRow(n))
			}
		}
		return res, nil
	case ast.ShowTables:
		db := st.DBName
		if db == "" {
			db = s.db
		}
		if db == "" {
			return nil, &plan.NoDatabaseError{}
		}
		d := snap.Database(db)
		if d == nil {
			return nil, &UnknownDBError{DB: db}
		}
		cols := strCols("Tables_in_" + d.Name)
		if st.Full {
			cols = strCols("Tables_in_"+d.Name, "Table_type")
		}
		res := &Result{Columns: cols}
		for _, t := range snap.TablesIn(d) {
			if !matchPattern(st, t.Name) {
				continue
			}
			if st.Full {
				res.Rows = append(res.Rows, strRow(t.Name, "BASE TABLE"))
			} else {
				res.Rows = append(res.Rows, strRow(t.Name))
			}
		}
		return res, nil
	case ast.ShowColumns:
		t, _, err := s.tableFor(snap, st.Table)
		if err != nil {
			return nil, err
		}
		res := &Result{Columns: strCols("Field", "Type", "Null", "Key", "Default", "Extra")}
		for _, c := range t.Columns {
			if !c.Listed() || !matchPattern(st, c.Name) {
				continue
			}
			null, key, extra := "YES", "", ""
			if !c.Nullable {
				null = "NO"
			}
			if t.IsPKColumn(c.ID) {
				key = "PRI"
			} else {
				for _, idx := range t.Indexes {
					if idx.State.Reads() && idx.Columns[0] == c.ID {
						key = map[bool]string{true: "UNI", false: "MUL"}[idx.Unique]
						break
					}
				}
			}
			if c.AutoInc {
				extra = "auto_increment"
			}
			def := types.Null
			if c.Default != nil {
				def = types.NewString(*c.Default)
			}
			res.Rows = append(res.Rows, []types.Value{types.NewString(c.Name), types.NewString(c.Type.SQL()),
				types.NewString(null), types.NewString(key), def, types.NewString(extra)})
		}
		return res, nil
	case ast.ShowIndex:
		t, _, err := s.tableFor(snap, st.Table)
		if err != nil {
			return nil, err
		}
		res := &Result{Columns: strCols("Table", "Non_unique", "Key_name", "Seq_in_index", "Column_name", "Null", "Index_type", "Visible")}
		add := func(idx *catalog.Index, name string) {
			for i, id := range idx.Columns {
				c := t.Columns[t.ColumnOrdinal(id)]
				if c.Hidden {
					continue
				}
				nu, null := "1", ""
				if idx.Unique || idx.ID == t.Primary.ID {
					nu = "0"
				}
				if c.Nullable {
					null = "YES"
				}
				res.Rows = append(res.Rows, strRow(t.Name, nu, name, fmt.Sprint(i+1), c.Name, null, "BTREE", "YES"))
			}
		}
		add(&t.Primary, "PRIMARY")
		for i := range t.Indexes {
			if t.Indexes[i].State.Reads() {
				add(&t.Indexes[i], t.Indexes[i].Name)
			}
		}
		return res, nil
	case ast.ShowCreateTable:
		t, _, err := s.tableFor(snap, st.Table)
		if err != nil {
			return nil, err
		}
		return &Result{Columns: strCols("Table", "Create Table"), Rows: [][]types.Value{strRow(t.Name, ShowCreateTable(t))}}, nil
	case ast.ShowCreateDatabase:
		d := snap.Database(st.DBName)
		if d == nil {
			return nil, &UnknownDBError{DB: st.DBName}
		}
		return &Result{Columns: strCols("Database", "Create Database"), Rows: [][]types.Value{strRow(d.Name, fmt.Sprintf("CREATE DATABASE `%s`", d.Name))}}, nil
	case ast.ShowVariables:
		return s.showVariables(st)
	case ast.ShowWarnings, ast.ShowErrors:
		if st.CountWarningsOrErrors {
			return &Result{Columns: []plan.Column{{Name: "@@session.warning_count", Type: types.T{Name: types.TBigInt}}}, Rows: [][]types.Value{{types.NewInt(0)}}}, nil
		}
		return &Result{Columns: strCols("Level", "Code", "Message")}, nil
	case ast.ShowStatus:
		return &Result{Columns: strCols("Variable_name", "Value")}, nil
	case ast.ShowEngines:
		return &Result{Columns: strCols("Engine", "Support", "Comment", "Transactions", "XA", "Savepoints"),
			Rows: [][]types.Value{strRow("InnoDB", "DEFAULT", "Meridian (strictly serializable, geo-distributed)", "YES", "NO", "NO")}}, nil
	case ast.ShowCharset:
		return &Result{Columns: strCols("Charset", "Description", "Default collation", "Maxlen"),
			Rows: [][]types.Value{strRow("utf8mb4", "UTF-8 Unicode", "utf8mb4_bin", "4")}}, nil
	case ast.ShowCollation:
		return &Result{Columns: strCols("Collation", "Charset", "Id", "Default", "Compiled", "Sortlen"),
			Rows: [][]types.Value{strRow("utf8mb4_bin", "utf8mb4", "46", "Yes", "Yes", "1")}}, nil
	case ast.ShowGrants:
		return &Result{Columns: strCols("Grants for " + s.user + "@%"), Rows: [][]types.Value{strRow("GRANT ALL PRIVILEGES ON *.* TO '" + s.user + "'@'%'")}}, nil
	case ast.ShowProcessList:
		return s.showProcessList(st.Full), nil
	case ast.ShowTableStatus:
		return &Result{Columns: strCols("Name", "Engine", "Version", "Row_format", "Rows")}, nil
	case ast.ShowRegions:
		return s.showRegions(ctx, snap, st)
	case ast.ShowPlacement, ast.ShowPlacementForTable:
		res := &Result{Columns: strCols("Target", "Placement")}
		var policies, targets [][]types.Value
		for _, p := range snap.Policies {
			policies = append(policies, strRow("POLICY "+p.Name, policySQL(p)))
		}
		for _, t := range snap.Tables {
			d := snap.DatabaseByID(t.DBID)
			if t.Placement != "" {
				targets = append(targets, strRow("TABLE "+d.Name+"."+t.Name, "PLACEMENT POLICY="+t.Placement))
			}
			if t.Partitioning != nil {
				for _, p := range t.Partitioning.Partitions {
					if p.Placement != "" {
						targets = append(targets, strRow("TABLE "+d.Name+"."+t.Name+" PARTITION "+p.Name, "PLACEMENT POLICY="+p.Placement))
					}
				}
			}
		}
		byTarget := func(a, b []types.Value) int { return strings.Compare(a[0].S, b[0].S) }
		slices.SortFunc(policies, byTarget)
		slices.SortFunc(targets, byTarget)
		res.Rows = append(policies, targets...)
		return res, nil
	case ast.ShowCreatePlacementPolicy:
		return nil, &plan.UnsupportedError{What: "SHOW CREATE PLACEMENT POLICY"}
	}
	return &Result{Columns: strCols("Value")}, nil
}

func (s *Session) showRegions(ctx context.Context, snap *catalog.Snapshot, st *ast.ShowStmt) (*Result, error) {
	t, _, err := s.tableFor(snap, st.Table)
	if err != nil {
		return nil, err
	}
	ranges, err := s.e.opts.Cluster.RangesForSpan(ctx, t.Span())
	if err != nil {
		return nil, err
	}
	res := &Result{Columns: strCols("RANGE_ID", "START_KEY", "END_KEY", "LEADERHOLDER", "REPLICAS", "REGIONS")}
	for _, r := range ranges {
		var reps, regs []string
		for _, rp := range r.Replicas {
			reps = append(reps, fmt.Sprint(rp.NodeID))
			regs = append(regs, rp.Region)
		}
		res.Rows = append(res.Rows, strRow(fmt.Sprint(r.RangeID), rowcodec.PrettyKey(r.StartKey), rowcodec.PrettyKey(r.EndKey),
			fmt.Sprint(r.Leaseholder), strings.Join(reps, ","), strings.Join(regs, ",")))
	}
	return res, nil
}

// ShowCreateTable renders a table's CREATE TABLE statement.
func ShowCreateTable(t *catalog.Table) string {
	var sb strings.Builder
	fmt.Fprintf(&sb, "CREATE TABLE `%s` (\n", t.Name)
	var lines []string
	for _, c := range t.Columns {
		if !c.Listed() {
			continue
		}
		l := fmt.Sprintf("  `%s` %s", c.Name, c.Type.SQL())
		if !c.Nullable {
			l += " NOT NULL"
		}
		if c.Default != nil {
			if *c.Default == "CURRENT_TIMESTAMP" {
				l += " DEFAULT CURRENT_TIMESTAMP"
			} else {
				l += " DEFAULT " + types.NewString(*c.Default).SQLLiteral()
			}
		} else if c.Nullable {
			l += " DEFAULT NULL"
		}
		if c.AutoInc {
			l += " AUTO_INCREMENT"
		}
		lines = append(lines, l)
	}
	names := func(ids []uint32) string {
		var ns []string
		for _, id := range ids {
			ns = append(ns, "`"+t.Columns[t.ColumnOrdinal(id)].Name+"`")
		}
		return strings.Join(ns, ",")
	}
	if !t.Columns[t.ColumnOrdinal(t.Primary.Columns[0])].Hidden {
		lines = append(lines, "  PRIMARY KEY ("+names(t.Primary.Columns)+")")
	}
	for _, idx := range t.Indexes {
		if !idx.State.Reads() {
			continue
		}
		kind := "KEY"
		if idx.Unique {
			kind = "UNIQUE KEY"
		}
		lines = append(lines, fmt.Sprintf("  %s `%s` (%s)", kind, idx.Name, names(idx.Columns)))
	}
	sb.WriteString(strings.Join(lines, ",\n"))
	sb.WriteString("\n) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin")
	if t.Placement != "" {
		sb.WriteString(" /*T![placement] PLACEMENT POLICY=`" + t.Placement + "` */")
	}
	sb.WriteString(partitionSQL(t))
	return sb.String()
}

func policySQL(p *catalog.Policy) string {
	s := fmt.Sprintf("PRIMARY_REGION=%q REGIONS=%q", p.PrimaryRegion, strings.Join(p.Regions, ","))
	if p.Followers > 0 {
		s += fmt.Sprintf(" FOLLOWERS=%d", p.Followers)
	}
	return s
}
