package session

import (
	"strings"

	"github.com/meridiandb/meridian/sql/catalog"
	"github.com/meridiandb/meridian/sql/expr"
	"github.com/meridiandb/meridian/sql/plan"
	"github.com/meridiandb/meridian/sql/types"
)

// virtualTable resolves information_schema tables over a catalog snapshot.
func (s *Session) virtualTable(snap *catalog.Snapshot) plan.VirtualTables {
	return func(db, name string) *plan.Values {
		if !strings.EqualFold(db, "information_schema") || snap == nil {
			return nil
		}
		mk := func(cols []string, gen func() [][]types.Value) *plan.Values {
			return plan.NewValues("information_schema."+strings.ToLower(name), strCols(cols...), func(*expr.Env) ([]expr.Row, error) {
				var out []expr.Row
				for _, r := range gen() {
					out = append(out, r)
				}
				return out, nil
			})
		}
		switch strings.ToLower(name) {
		case "schemata":
			return mk([]string{"CATALOG_NAME", "SCHEMA_NAME", "DEFAULT_CHARACTER_SET_NAME", "DEFAULT_COLLATION_NAME"}, func() [][]types.Value {
				var rows [][]types.Value
				for _, n := range append([]string{"information_schema"}, snap.DatabaseNames()...) {
					rows = append(rows, strRow("def", n, "utf8mb4", "utf8mb4_bin"))
				}
				return rows
			})
		case "tables":
			return mk([]string{"TABLE_CATALOG", "TABLE_SCHEMA", "TABLE_NAME", "TABLE_TYPE", "ENGINE"}, func() [][]types.Value {
				var rows [][]types.Value
				for _, dn := range snap.DatabaseNames() {
					for _, t := range snap.TablesIn(snap.Database(dn)) {
						rows = append(rows, strRow("def", dn, t.Name, "BASE TABLE", "InnoDB"))
					}
				}
				return rows
			})
		case "columns":
			return mk([]string{"TABLE_CATALOG", "TABLE_SCHEMA", "TABLE_NAME", "COLUMN_NAME", "ORDINAL_POSITION", "COLUMN_DEFAULT", "IS_NULLABLE", "DATA_TYPE", "COLUMN_TYPE", "COLUMN_KEY", "EXTRA"}, func() [][]types.Value {
				var rows [][]types.Value
				for _, dn := range snap.DatabaseNames() {
					for _, t := range snap.TablesIn(snap.Database(dn)) {
						pos := 0
						for _, c := range t.Columns {
							if !c.Listed() {
								continue
							}
							pos++
							null, key, extra := "YES", "", ""
							if !c.Nullable {
								null = "NO"
							}
							if t.IsPKColumn(c.ID) {
								key = "PRI"
							}
							if c.AutoInc {
								extra = "auto_increment"
							}
							def := types.Null
							if c.Default != nil {
								def = types.NewString(*c.Default)
							}
							dt, _, _ := strings.Cut(c.Type.SQL(), "(")
							rows = append(rows, []types.Value{types.NewString("def"), types.NewString(dn), types.NewString(t.Name),
								types.NewString(c.Name), types.NewInt(int64(pos)), def, types.NewString(null),
								types.NewString(dt), types.NewString(c.Type.SQL()), types.NewString(key), types.NewString(extra)})
						}
					}
				}
				return rows
			})
		case "statistics":
			return mk([]string{"TABLE_SCHEMA", "TABLE_NAME", "NON_UNIQUE", "INDEX_NAME", "SEQ_IN_INDEX", "COLUMN_NAME"}, func() [][]types.Value {
				var rows [][]types.Value
				for _, dn := range snap.DatabaseNames() {
					for _, t := range snap.TablesIn(snap.Database(dn)) {
						for _, idx := range append([]*catalog.Index{&t.Primary}, t.PublicIndexes()[1:]...) {
							nu := "1"
							if idx.Unique {
								nu = "0"
							}
							for i, id := range idx.Columns {
								c := t.Columns[t.ColumnOrdinal(id)]
								if c.Hidden {
									continue
								}
								rows = append(rows, strRow(dn, t.Name, nu, idx.Name, string(rune('1'+i)), c.Name))
							}
						}
					}
				}
				return rows
			})
		case "engines":
			return mk([]string{"ENGINE", "SUPPORT"}, func() [][]types.Value { return [][]types.Value{strRow("InnoDB", "DEFAULT")} })
		case "character_sets":
			return mk([]string{"CHARACTER_SET_NAME", "DEFAULT_COLLATE_NAME", "MAXLEN"}, func() [][]types.Value {
				return [][]types.Value{strRow("utf8mb4", "utf8mb4_bin", "4")}
			})
		case "collations":
			return mk([]string{"COLLATION_NAME", "CHARACTER_SET_NAME", "ID", "IS_DEFAULT"}, func() [][]types.Value {
				return [][]types.Value{strRow("utf8mb4_bin", "utf8mb4", "46", "Yes")}
			})
		case "processlist", "user_privileges", "key_column_usage", "routines", "views", "triggers", "partitions", "referential_constraints", "table_constraints":
			return mk([]string{"TABLE_SCHEMA", "TABLE_NAME"}, func() [][]types.Value { return nil })
		}
		return nil
	}
}
