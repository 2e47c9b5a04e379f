package session_test

import (
	"context"
	"fmt"
	"math/rand"
	"slices"
	"strings"
	"testing"

	"github.com/meridiandb/meridian/sql/session"
)

// TestPlannerDifferential runs random queries through the optimising
// planner (point gets, index ranges, push-down, index joins, sort
// elision, limit push-down) and through naive plans (full scans, nested
// loops, explicit sorts) and requires the same results.
func TestPlannerDifferential(t *testing.T) {
	e, _ := newEngine(t)
	ctx := context.Background()
	opt := e.NewSession("root")
	naive := e.NewSession("root")
	naive.SetNaivePlans(true)
	r := rand.New(rand.NewSource(42))
	exec := func(q string) {
		t.Helper()
		if _, err := opt.Execute(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	for _, s := range []*session.Session{opt, naive} {
		if _, err := s.Execute(ctx, "USE test"); err != nil {
			t.Fatal(err)
		}
	}
	exec("CREATE TABLE a (id INT PRIMARY KEY, x INT, y VARCHAR(5), z INT, KEY x_idx (x), UNIQUE KEY y_u (y), KEY xz (x, z))")
	exec("CREATE TABLE b (id INT, k INT, a_id INT, w INT, PRIMARY KEY (id, k), KEY aid (a_id))")
	val := func(max int) string {
		if r.Intn(8) == 0 {
			return "NULL"
		}
		return fmt.Sprint(r.Intn(max) - 2)
	}
	for i := 0; i < 60; i++ {
		y := "NULL"
		if r.Intn(3) > 0 {
			y = fmt.Sprintf("'s%d'", i)
		}
		exec(fmt.Sprintf("INSERT INTO a VALUES (%d, %s, %s, %s)", i, val(10), y, val(20)))
	}
	for i := 0; i < 80; i++ {
		exec(fmt.Sprintf("INSERT INTO b VALUES (%d, %d, %s, %s)", i%20, i/20, val(65), val(10)))
	}
	cols := map[string][]string{"a": {"id", "x", "z"}, "b": {"id", "k", "a_id", "w"}}
	pred := func(t, alias string) string {
		var parts []string
		for n := r.Intn(3) + 1; n > 0; n-- {
			c := alias + "." + cols[t][r.Intn(len(cols[t]))]
			switch r.Intn(7) {
			case 0:
				parts = append(parts, fmt.Sprintf("%s = %d", c, r.Intn(30)-2))
			case 1:
				parts = append(parts, fmt.Sprintf("%s > %d", c, r.Intn(30)-2))
			case 2:
				parts = append(parts, fmt.Sprintf("%s <= %d", c, r.Intn(30)-2))
			case 3:
				parts = append(parts, fmt.Sprintf("%s BETWEEN %d AND %d", c, r.Intn(10), r.Intn(40)))
			case 4:
				parts = append(parts, fmt.Sprintf("%s IN (%d, %d, %d)", c, r.Intn(20), r.Intn(20), r.Intn(60)))
			case 5:
				parts = append(parts, c+" IS NULL")
			case 6:
				parts = append(parts, fmt.Sprintf("(%s = %d OR %s < %d)", c, r.Intn(10), c, r.Intn(10)))
			}
		}
		return strings.Join(parts, " AND ")
	}
	templates := []func() string{
		func() string { return "SELECT * FROM a WHERE " + pred("a", "a") },
		func() string { return "SELECT id, y FROM a WHERE a.y = 's" + fmt.Sprint(r.Intn(60)) + "'" },
		func() string {
			return fmt.Sprintf("SELECT a.id FROM a WHERE %s ORDER BY a.id DESC LIMIT %d", pred("a", "a"), r.Intn(5)+1)
		},
		func() string {
			return fmt.Sprintf("SELECT a.id, a.x FROM a WHERE %s ORDER BY a.x, a.id LIMIT %d OFFSET %d", pred("a", "a"), r.Intn(5)+1, r.Intn(3))
		},
		func() string { return "SELECT * FROM b WHERE " + pred("b", "b") },
		func() string {
			return "SELECT a.id, b.id, b.k, b.w FROM a JOIN b ON b.a_id = a.id WHERE " + pred("a", "a") + " AND " + pred("b", "b")
		},
		func() string {
			return "SELECT a.id, b.id, b.k FROM b JOIN a ON a.id = b.a_id WHERE " + pred("b", "b")
		},
		func() string {
			return "SELECT a.id, b.w FROM a LEFT JOIN b ON b.a_id = a.id AND " + pred("b", "b") + " WHERE " + pred("a", "a")
		},
		func() string {
			return "SELECT a.x, COUNT(*), SUM(a.z), MIN(a.id), MAX(a.y) FROM a WHERE " + pred("a", "a") + " GROUP BY a.x"
		},
		func() string {
			return "SELECT a.id FROM a WHERE a.x IN (SELECT b.w FROM b WHERE " + pred("b", "b") + ")"
		},
		func() string {
			return "SELECT a.id FROM a WHERE EXISTS (SELECT 1 FROM b WHERE b.a_id = a.id AND " + pred("b", "b") + ")"
		},
		func() string {
			return "SELECT a.id, (SELECT COUNT(*) FROM b WHERE b.id = a.x) FROM a WHERE " + pred("a", "a")
		},
		func() string { return "SELECT DISTINCT a.x FROM a WHERE " + pred("a", "a") },
		func() string {
			return "SELECT b.id, b.k FROM b WHERE b.id = " + fmt.Sprint(r.Intn(22)) + " AND b.k >= " + fmt.Sprint(r.Intn(4)) + " ORDER BY b.id, b.k"
		},
	}
	for i := 0; i < 600; i++ {
		q := templates[r.Intn(len(templates))]()
		got, gerr := opt.Execute(ctx, q)
		want, werr := naive.Execute(ctx, q)
		if (gerr == nil) != (werr == nil) {
			t.Fatalf("%s:\noptimised error %v\nnaive error %v", q, gerr, werr)
		}
		if gerr != nil {
			continue
		}
		g, w := rows(got), rows(want)
		if !strings.Contains(q, "ORDER BY") {
			slices.Sort(g)
			slices.Sort(w)
		}
		if !slices.Equal(g, w) {
			t.Fatalf("%s:\noptimised %v\nnaive     %v", q, g, w)
		}
	}
}

func rows(res *session.Result) []string {
	var out []string
	for _, r := range res.Rows {
		var vs []string
		for _, v := range r {
			vs = append(vs, v.String())
		}
		out = append(out, strings.Join(vs, ","))
	}
	return out
}
