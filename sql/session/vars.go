package session

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/pingcap/tidb/pkg/parser/ast"

	"github.com/meridiandb/meridian/sql/types"
)

// sysVarDefaults are the system variables drivers and CLIs read, with
// MySQL-compatible values. Session overrides live in Session.vars.
var sysVarDefaults = map[string]types.Value{
	"autocommit":                      types.NewInt(1),
	"version_comment":                 types.NewString("Meridian"),
	"max_allowed_packet":              types.NewInt(67108864),
	"transaction_isolation":           types.NewString("SERIALIZABLE"),
	"tx_isolation":                    types.NewString("SERIALIZABLE"),
	"transaction_read_only":           types.NewInt(0),
	"tx_read_only":                    types.NewInt(0),
	"sql_mode":                        types.NewString("STRICT_TRANS_TABLES,NO_ENGINE_SUBSTITUTION"),
	"character_set_client":            types.NewString("utf8mb4"),
	"character_set_connection":        types.NewString("utf8mb4"),
	"character_set_results":           types.NewString("utf8mb4"),
	"character_set_server":            types.NewString("utf8mb4"),
	"character_set_database":          types.NewString("utf8mb4"),
	"character_set_system":            types.NewString("utf8"),
	"collation_connection":            types.NewString("utf8mb4_bin"),
	"collation_server":                types.NewString("utf8mb4_bin"),
	"collation_database":              types.NewString("utf8mb4_bin"),
	"time_zone":                       types.NewString("+00:00"),
	"system_time_zone":                types.NewString("UTC"),
	"lower_case_table_names":          types.NewInt(0),
	"wait_timeout":                    types.NewInt(28800),
	"interactive_timeout":             types.NewInt(28800),
	"net_write_timeout":               types.NewInt(60),
	"net_read_timeout":                types.NewInt(30),
	"net_buffer_length":               types.NewInt(16384),
	"license":                         types.NewString("Apache-2.0"),
	"auto_increment_increment":        types.NewInt(1),
	"auto_increment_offset":           types.NewInt(1),
	"init_connect":                    types.NewString(""),
	"performance_schema":              types.NewInt(0),
	"have_ssl":                        types.NewString("DISABLED"),
	"query_cache_size":                types.NewInt(0),
	"query_cache_type":                types.NewString("OFF"),
	"default_storage_engine":          types.NewString("InnoDB"),
	"storage_engine":                  types.NewString("InnoDB"),
	"innodb_lock_wait_timeout":        types.NewInt(5),
	"sql_select_limit":                types.NewInt(1<<63 - 1),
	"sql_auto_is_null":                types.NewInt(0),
	"sql_safe_updates":                types.NewInt(0),
	"foreign_key_checks":              types.NewInt(1),
	"unique_checks":                   types.NewInt(1),
	"max_execution_time":              types.NewInt(0),
	"hostname":                        types.NewString("meridian"),
	"port":                            types.NewInt(3306),
	"socket":                          types.NewString(""),
	"datadir":                         types.NewString(""),
	"warning_count":                   types.NewInt(0),
	"error_count":                     types.NewInt(0),
	"session_track_gtids":             types.NewString("OFF"),
	"binlog_format":                   types.NewString("ROW"),
	"log_bin":                         types.NewInt(0),
	"server_id":                       types.NewInt(1),
	"default_week_format":             types.NewInt(0),
	"div_precision_increment":         types.NewInt(4),
	"group_concat_max_len":            types.NewInt(1024),
	"explicit_defaults_for_timestamp": types.NewInt(1),
}

// SysVar implements expr.Session.
func (s *Session) SysVar(name string) (types.Value, bool) {
	name = strings.TrimPrefix(strings.TrimPrefix(name, "session."), "global.")
	name = strings.TrimPrefix(name, "local.")
	switch name {
	case "last_commit_ts":
		return types.NewInt(int64(s.lastCommitTS)), true
	case "version":
		return types.NewString(s.e.opts.Version), true
	case "autocommit":
		return types.NewBool(s.autocommit), true
	case "last_insert_id", "identity":
		return types.NewInt(s.lastInsertID), true
	case "in_transaction":
		return types.NewBool(s.tx != nil), true
	}
	if v, ok := s.vars[name]; ok {
		return v, true
	}
	v, ok := sysVarDefaults[name]
	return v, ok
}

func (s *Session) set(ctx context.Context, st *ast.SetStmt) (*Result, error) {
	for _, a := range st.Variables {
		name := strings.ToLower(a.Name)
		if name == strings.ToLower(ast.SetNames) || name == strings.ToLower(ast.SetCharset) {
			cs := "utf8mb4"
			if v, ok := a.Value.(ast.ValueExpr); ok {
				cs = fmt.Sprint(v.GetValue())
			}
			for _, n := range []string{"character_set_client", "character_set_connection", "character_set_results"} {
				s.vars[n] = types.NewString(cs)
			}
			continue
		}
		var v types.Value
		if a.Value != nil {
			if c, ok := a.Value.(*ast.ColumnNameExpr); ok {
				// SET x = ON / OFF / SERIALIZABLE: identifiers as strings.
				v = types.NewString(c.Name.Name.O)
			} else if _, ok := a.Value.(*ast.DefaultExpr); ok {
				v = sysVarDefaults[name]
			} else {
				e, err := compileConst(s.builder(nil), a.Value)
				if err != nil {
					return nil, err
				}
				if v, err = e.Eval(s.env(nil), nil); err != nil {
					return nil, err
				}
			}
		}
		if !a.IsSystem {
			s.uvars[name] = v
			continue
		}
		switch name {
		case "autocommit":
			on := false
			switch v.K {
			case types.KString:
				on = strings.EqualFold(v.S, "on") || v.S == "1"
			default:
				on, _ = types.Truthy(v)
			}
			if on && !s.autocommit {
				if err := s.implicitCommit(ctx); err != nil {
					return nil, err
				}
			}
			s.autocommit = on
			continue
		case "last_commit_ts":
			return nil, fmt.Errorf("Variable 'last_commit_ts' is a read only variable")
		}
		if _, known := sysVarDefaults[name]; !known && !strings.HasPrefix(name, "tidb_") {
			// Accept unknown variables quietly, as many tools set
			// vendor-specific ones; remember them so reads round-trip.
		}
		s.vars[name] = v
	}
	return &Result{}, nil
}

func (s *Session) showVariables(st *ast.ShowStmt) (*Result, error) {
	names := map[string]bool{}
	for n := range sysVarDefaults {
		names[n] = true
	}
	for n := range s.vars {
		names[n] = true
	}
	for _, n := range []string{"last_commit_ts", "version", "autocommit"} {
		names[n] = true
	}
	var sorted []string
	for n := range names {
		sorted = append(sorted, n)
	}
	sort.Strings(sorted)
	res := &Result{Columns: strCols("Variable_name", "Value")}
	for _, n := range sorted {
		if !matchPattern(st, n) {
			continue
		}
		v, _ := s.SysVar(n)
		res.Rows = append(res.Rows, []types.Value{types.NewString(n), types.NewString(v.String())})
	}
	return res, nil
}
