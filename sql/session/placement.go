package session

import (
	"context"
	"fmt"
	"maps"
	"strings"

	"github.com/pingcap/tidb/pkg/parser/ast"

	"github.com/meridiandb/meridian/sql"
	"github.com/meridiandb/meridian/sql/catalog"
	"github.com/meridiandb/meridian/sql/plan"
	"github.com/meridiandb/meridian/sql/types"
)

// Meridian's own DDL: placement policies and SPLIT TABLE; and users.

func (s *Session) putPolicy(ctx context.Context, name string, opts []*ast.PlacementOption, ifNotExists, replace, create bool) error {
	p := &catalog.Policy{Placement: sql.Placement{Name: name}}
	for _, o := range opts {
		switch o.Tp {
		case ast.PlacementOptionPrimaryRegion:
			p.PrimaryRegion = o.StrValue
		case ast.PlacementOptionRegions:
			for _, r := range strings.Split(o.StrValue, ",") {
				if r = strings.TrimSpace(r); r != "" {
					p.Regions = append(p.Regions, r)
				}
			}
		case ast.PlacementOptionFollowerCount:
			p.Followers = int(o.UintValue)
		default:
			return &plan.UnsupportedError{What: "this placement option"}
		}
	}
	if p.PrimaryRegion != "" && len(p.Regions) > 0 {
		found := false
		for _, r := range p.Regions {
			found = found || r == p.PrimaryRegion
		}
		if !found {
			return &DDLError{8240, "PRIMARY_REGION must be one of REGIONS"}
		}
	}
	return s.e.Catalog.Mutate(ctx, func(snap *catalog.Snapshot, w *catalog.Writer) error {
		old := snap.Policies[strings.ToLower(name)]
		switch {
		case old != nil && create && ifNotExists:
			return nil
		case old != nil && create && !replace:
			return &DDLError{8238, fmt.Sprintf("Placement policy '%s' already exists", name)}
		case old == nil && !create:
			return &DDLError{8239, fmt.Sprintf("Unknown placement policy '%s'", name)}
		}
		pol := *p
		if old != nil {
			pol.ID = old.ID
		} else {
			pol.ID = w.NewID()
		}
		if err := w.PutPolicy(ctx, &pol); err != nil {
			return err
		}
		// Re-apply to the tables and partitions using it.
		for _, t := range snap.Tables {
			if strings.EqualFold(t.Placement, name) {
				pp := pol.Placement
				if err := s.e.opts.Cluster.SetPlacement(ctx, t.Span(), &pp); err != nil {
					return err
				}
			}
			if t.Partitioning != nil {
				policies := maps.Clone(snap.Policies)
				if policies == nil {
					policies = map[string]*catalog.Policy{}
				}
				policies[strings.ToLower(name)] = &pol
				if err := s.placePartitions(ctx, t, partitionPlacement{policies: policies, only: name}); err != nil {
					return err
				}
			}
		}
		return nil
	})
}

func (s *Session) users(ctx context.Context, st ast.StmtNode) (*Result, error) {
	return &Result{}, s.e.Catalog.Mutate(ctx, func(snap *catalog.Snapshot, w *catalog.Writer) error {
		switch st := st.(type) {
		case *ast.CreateUserStmt:
			for _, spec := range st.Specs {
				name := spec.User.Username
				if snap.Users[name] != nil {
					if st.IfNotExists {
						continue
					}
					return &DDLError{1396, fmt.Sprintf("Operation CREATE USER failed for '%s'@'%%'", name)}
				}
				u := &catalog.User{Name: name}
				if spec.AuthOpt != nil {
					u.Password = spec.AuthOpt.AuthString
				}
				if err := w.PutUser(ctx, u); err != nil {
					return err
				}
			}
		case *ast.AlterUserStmt:
			for _, spec := range st.Specs {
				name := spec.User.Username
				if spec.User.CurrentUser {
					name = s.user
				}
				if snap.Users[name] == nil {
					if st.IfExists {
						continue
					}
					return &DDLError{1396, fmt.Sprintf("Operation ALTER USER failed for '%s'@'%%'", name)}
				}
				u := &catalog.User{Name: name}
				if spec.AuthOpt != nil {
					u.Password = spec.AuthOpt.AuthString
				}
				if err := w.PutUser(ctx, u); err != nil {
					return err
				}
			}
		case *ast.DropUserStmt:
			for _, ui := range st.UserList {
				if snap.Users[ui.Username] == nil {
					if st.IfExists {
						continue
					}
					return &DDLError{1396, fmt.Sprintf("Operation DROP USER failed for '%s'@'%%'", ui.Username)}
				}
				if err := w.DeleteUser(ctx, ui.Username); err != nil {
					return err
				}
			}
		}
		return nil
	})
}

// split runs SPLIT TABLE t BY (v), (v)… or BETWEEN (lo) AND (hi) REGIONS n
// (on the primary key's first column).
func (s *Session) split(ctx context.Context, st *ast.SplitRegionStmt) (*Result, error) {
	snap, err := s.e.snapshot(ctx)
	if err != nil {
		return nil, err
	}
	t, _, err := s.tableFor(snap, st.Table)
	if err != nil {
		return nil, err
	}
	idx := &t.Primary
	if st.IndexName.L != "" {
		if idx = t.IndexByName(st.IndexName.O); idx == nil {
			return nil, &DDLError{1176, fmt.Sprintf("Key '%s' doesn't exist in table '%s'", st.IndexName.O, t.Name)}
		}
	}
	b := s.builder(snap)
	eval := func(es []ast.ExprNode) ([]types.Value, error) {
		var out []types.Value
		for i, e := range es {
			if i >= len(idx.Columns) {
				break
			}
			x, err := b.CompileConst(e)
			if err != nil {
				return nil, err
			}
			v, err := x.Eval(s.env(nil), nil)
			if err != nil {
				return nil, err
			}
			cv, err := t.Columns[t.ColumnOrdinal(idx.Columns[i])].Type.Coerce(v)
			if err != nil {
				return nil, err
			}
			out = append(out, cv)
		}
		return out, nil
	}
	var keys [][]byte
	key := func(vals []types.Value) []byte {
		row := make([]types.Value, len(t.Columns))
		k := append([]byte{}, t.IndexSpan(idx.ID).Key...)
		_ = row
		for _, v := range vals {
			k = appendKeyValue(k, v)
		}
		return k
	}
	o := st.SplitOpt
	if o == nil {
		return nil, &plan.UnsupportedError{What: "this SPLIT syntax"}
	}
	if len(o.ValueLists) > 0 {
		for _, l := range o.ValueLists {
			vals, err := eval(l)
			if err != nil {
				return nil, err
			}
			keys = append(keys, key(vals))
		}
	} else {
		lo, err := eval(o.Lower)
		if err != nil {
			return nil, err
		}
		hi, err := eval(o.Upper)
		if err != nil {
			return nil, err
		}
		if len(lo) == 0 || len(hi) == 0 || lo[0].K != types.KInt || hi[0].K != types.KInt || o.Num < 1 || hi[0].I <= lo[0].I {
			return nil, &DDLError{1105, "SPLIT … BETWEEN needs integer bounds lo < hi and REGIONS ≥ 1"}
		}
		step := (hi[0].I - lo[0].I) / int64(o.Num)
		if step < 1 {
			step = 1
		}
		for v := lo[0].I; v < hi[0].I && len(keys) < int(o.Num); v += step {
			keys = append(keys, key([]types.Value{types.NewInt(v)}))
		}
	}
	if err := s.e.opts.Cluster.SplitAt(ctx, keys); err != nil {
		return nil, err
	}
	return &Result{Columns: []plan.Column{{Name: "TOTAL_SPLIT_REGION", Type: types.T{Name: types.TBigInt}}, {Name: "SCATTER_FINISH_RATIO", Type: types.T{Name: types.TDouble}}},
		Rows: [][]types.Value{{types.NewInt(int64(len(keys))), types.NewFloat(1)}}}, nil
}
