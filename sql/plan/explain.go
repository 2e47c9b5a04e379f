package plan

import (
	"fmt"
	"strings"

	"github.com/pingcap/tidb/pkg/parser/ast"

	"github.com/meridiandb/meridian/sql/expr"
)

// subquery plans a subquery used as an expression in scope s.
func (b *Builder) subquery(s *scope, n ast.Node, kind int) (*expr.Subquery, error) {
	if sq, ok := n.(*ast.SubqueryExpr); ok {
		n = sq.Query
	}
	before := len(b.outerTargets)
	saved := b.clause
	p, err := b.buildQuery(s, n)
	b.clause = saved
	if err != nil {
		return nil, err
	}
	if kind != expr.SubExists && len(p.Schema()) != 1 {
		return nil, fmt.Errorf("Operand should contain 1 column(s)")
	}
	sq := &expr.Subquery{Kind: kind, Plan: p}
	for _, t := range b.outerTargets[before:] {
		for x := s; x != nil; x = x.outer {
			if x == t {
				sq.Correlated = true
			}
		}
	}
	if sq.Correlated {
		sq.Desc = "correlated subquery"
	} else {
		sq.Desc = "subquery"
	}
	return sq, nil
}

// Explain renders a plan as indented lines, one per operator: the operator
// and its details. annotate, if set, appends runtime statistics.
func Explain(n Node, annotate func(Node) string) []string {
	var out []string
	var walk func(n Node, prefix string, last bool, root bool)
	walk = func(n Node, prefix string, last bool, root bool) {
		line := prefix
		childPrefix := prefix
		if !root {
			if last {
				line += "└─"
				childPrefix += "  "
			} else {
				line += "├─"
				childPrefix += "│ "
			}
		}
		line += describe(n)
		if annotate != nil {
			line += " " + annotate(n)
		}
		out = append(out, line)
		kids := n.Children()
		if ij, ok := n.(*IndexJoin); ok {
			kids = []Node{ij.Left, ij.Right}
		}
		for i, c := range kids {
			walk(c, childPrefix, i == len(kids)-1, false)
		}
		for _, sq := range subqueries(n) {
			out = append(out, childPrefix+"  "+sq.Desc+":")
			walk(sq.Plan.(Node), childPrefix+"    ", true, false)
		}
	}
	walk(n, "", true, true)
	return out
}

func subqueries(n Node) []*expr.Subquery {
	var es []expr.Expr
	switch n := n.(type) {
	case *Filter:
		es = append(es, n.Cond)
	case *Project:
		es = n.Exprs
	case *TableAccess:
		es = append(es, n.Filter)
	case *HashJoin:
		es = append(es, n.Cond)
	}
	var out []*expr.Subquery
	for _, e := range es {
		expr.Walk(e, func(x expr.Expr) bool {
			if s, ok := x.(*expr.Subquery); ok {
				out = append(out, s)
			}
			return true
		})
	}
	return out
}

func exprList(es []expr.Expr) string {
	parts := make([]string, len(es))
	for i, e := range es {
		parts[i] = e.String()
	}
	return strings.Join(parts, ", ")
}

func describe(n Node) string {
	switch n := n.(type) {
	case *TableAccess:
		return describeAccess(n)
	case *Values:
		if n.Name != "" {
			return "Values " + n.Name
		}
		return fmt.Sprintf("Values rows:%d", len(n.Rows))
	case *Filter:
		return "Selection " + n.Cond.String()
	case *Project:
		return "Projection " + exprList(n.Exprs)
	case *HashJoin:
		kind := "inner"
		if n.Kind == LeftJoin {
			kind = "left outer"
		}
		if len(n.LeftKeys) == 0 {
			s := "NestedLoopJoin " + kind
			if n.Cond != nil {
				s += " other:" + n.Cond.String()
			}
			return s
		}
		s := fmt.Sprintf("HashJoin %s left:[%s] right:[%s]", kind, exprList(n.LeftKeys), exprList(n.RightKeys))
		if n.Cond != nil {
			s += " other:" + n.Cond.String()
		}
		return s
	case *IndexJoin:
		kind := "inner"
		if n.Kind == LeftJoin {
			kind = "left outer"
		}
		s := fmt.Sprintf("IndexJoin %s keys:[%s]", kind, exprList(n.Keys))
		if n.Cond != nil {
			s += " other:" + n.Cond.String()
		}
		return s
	case *Agg:
		var aggs []string
		for _, a := range n.Aggs {
			arg := "*"
			if a.Arg != nil {
				arg = a.Arg.String()
			}
			d := ""
			if a.Distinct {
				d = "distinct "
			}
			aggs = append(aggs, fmt.Sprintf("%s(%s%s)", a.Name, d, arg))
		}
		s := "HashAgg"
		if len(n.GroupBy) > 0 {
			s += " group:[" + exprList(n.GroupBy) + "]"
		}
		return s + " funcs:[" + strings.Join(aggs, ", ") + "]"
	case *Sort:
		var ks []string
		for _, k := range n.Keys {
			d := ""
			if k.Desc {
				d = " desc"
			}
			ks = append(ks, k.X.String()+d)
		}
		if n.TopN > 0 {
			return fmt.Sprintf("TopN %s limit:%d", strings.Join(ks, ", "), n.TopN)
		}
		return "Sort " + strings.Join(ks, ", ")
	case *Limit:
		s := "Limit"
		if n.Count != nil {
			s += " count:" + n.Count.String()
		}
		if n.Offset != nil {
			s += " offset:" + n.Offset.String()
		}
		return s
	case *Distinct:
		return "Distinct"
	case *Union:
		if n.All {
			return "UnionAll"
		}
		return "Union"
	case *Trim:
		return fmt.Sprintf("Trim width:%d", n.Width)
	case *Insert:
		s := "Insert table:" + n.Table.Name
		if n.Replace {
			s = "Replace table:" + n.Table.Name
		}
		if n.Rows != nil {
			s += fmt.Sprintf(" rows:%d", len(n.Rows))
		}
		if n.OnDup != nil {
			s += " on-duplicate-key-update"
		}
		return s
	case *Update:
		return "Update table:" + n.Table.Name
	case *Delete:
		return "Delete table:" + n.Table.Name
	}
	return fmt.Sprintf("%T", n)
}

func describeAccess(n *TableAccess) string {
	var sb strings.Builder
	idxName := "PRIMARY"
	if n.Index.ID != n.Table.Primary.ID {
		idxName = n.Index.Name
	}
	switch {
	case n.Point && len(n.Ranges) > 1:
		sb.WriteString("BatchPointGet")
	case n.Point:
		sb.WriteString("PointGet")
	case n.Ranges != nil:
		sb.WriteString("IndexRangeScan")
	default:
		sb.WriteString("TableFullScan")
	}
	fmt.Fprintf(&sb, " table:%s index:%s", n.Alias, idxName)
	if n.Index.ID != n.Table.Primary.ID {
		sb.WriteString(" lookup")
	}
	for i, r := range n.Ranges {
		if i >= 4 {
			fmt.Fprintf(&sb, " …(%d ranges)", len(n.Ranges))
			break
		}
		sb.WriteString(" range:")
		sb.WriteString(describeRange(r))
	}
	if n.Reverse {
		sb.WriteString(" desc")
	}
	if n.Limit > 0 {
		fmt.Fprintf(&sb, " limit:%d", n.Limit)
	}
	if n.ForUpdate {
		sb.WriteString(" for-update")
	}
	if n.Filter != nil && !n.Point {
		sb.WriteString(" filter:" + n.Filter.String())
	}
	return sb.String()
}

func describeRange(r KeyRange) string {
	var parts []string
	for _, e := range r.Eq {
		parts = append(parts, e.String())
	}
	s := "[" + strings.Join(parts, ",")
	if r.Lo != nil || r.Hi != nil {
		if len(parts) > 0 {
			s += ","
		}
		lo, hi := "-inf", "+inf"
		lb, hb := "(", ")"
		if r.Lo != nil {
			lo = r.Lo.X.String()
			if r.Lo.Inclusive {
				lb = "["
			}
		}
		if r.Hi != nil {
			hi = r.Hi.X.String()
			if r.Hi.Inclusive {
				hb = "]"
			}
		}
		s += lb + lo + " " + hi + hb
	}
	return s + "]"
}
