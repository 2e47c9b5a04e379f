package session_test

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/cockroachdb/datadriven"

	"github.com/meridiandb/meridian/sql/rowcodec"
	"github.com/meridiandb/meridian/sql/session"
	"github.com/meridiandb/meridian/sql/sqltest"
	"github.com/meridiandb/meridian/sql/types"
	"github.com/meridiandb/meridian/truetime"
)

// newEngine returns an engine over a fresh MemDB with a manual clock (no
// commit wait), bootstrapped.
func newEngine(t testing.TB) (*session.Engine, *truetime.ManualClock) {
	return newEngineWithKnobs(t, session.TestingKnobs{})
}

func newEngineWithKnobs(t testing.TB, knobs session.TestingKnobs) (*session.Engine, *truetime.ManualClock) {
	e, clock, _ := newEngineCluster(t, knobs)
	return e, clock
}

// newEngineCluster is newEngineWithKnobs, also returning the one-node
// cluster, which records the placements the SQL layer applies.
func newEngineCluster(t testing.TB, knobs session.TestingKnobs) (*session.Engine, *truetime.ManualClock, *sqltest.SingleNode) {
	t.Helper()
	clock := truetime.NewManual(truetime.Timestamp(1_700_000_000_000_000_000), time.Millisecond)
	db := sqltest.NewMemDB(sqltest.MemDBOptions{Clock: clock, NoCommitWait: true, LockTimeout: time.Second})
	cluster := sqltest.NewSingleNode(clock)
	e := session.NewEngine(session.EngineOptions{DB: db, Cluster: cluster, Knobs: knobs})
	if err := e.Bootstrap(context.Background()); err != nil {
		t.Fatal(err)
	}
	return e, clock, cluster
}

var (
	timingRE = regexp.MustCompile(`(time|total|lock_wait|commit_wait|raft|network):[0-9.]+[µmn]?s`)
	// txnIDRE matches MemDB transaction names, which depend on how many
	// transactions ran before (lease renewals included).
	txnIDRE = regexp.MustCompile(`mem-[0-9]+`)
)

// formatResult renders a result as the logic tests print it: a header of
// column names, then one line per row, values separated by " | ".
func formatResult(res *session.Result, err error) string {
	if err != nil {
		m := session.ToMySQL(err)
		return fmt.Sprintf("error %d: %s\n", m.Code, txnIDRE.ReplaceAllString(m.Message, "mem-N"))
	}
	if res.Columns == nil {
		if res.AffectedRows > 0 {
			return fmt.Sprintf("ok, %d rows affected\n", res.AffectedRows)
		}
		return "ok\n"
	}
	var sb strings.Builder
	var names []string
	for _, c := range res.Columns {
		names = append(names, c.Name)
	}
	sb.WriteString(strings.Join(names, " | ") + "\n")
	for _, r := range res.Rows {
		var vals []string
		for _, v := range r {
			vals = append(vals, v.String())
		}
		sb.WriteString(strings.Join(vals, " | ") + "\n")
	}
	return timingRE.ReplaceAllString(sb.String(), "$1:X")
}

// TestLogic runs the SQL logic scripts in testdata/logic. Commands:
//
//	exec         run the statements (one per line, or ;-separated); print ok/errors
//	query        run one statement and print its result (query types:
//	             first a line with the columns' types)
//	session NAME switch to (creating) another session
//	advance D    move the clock forward by duration D
//	placements   print the placement rules the cluster was given
//	clock        print the clock's current latest time as an integer
func TestLogic(t *testing.T) {
	datadriven.Walk(t, "testdata/logic", func(t *testing.T, path string) {
		e, clock, cluster := newEngineCluster(t, session.TestingKnobs{})
		ctx := context.Background()
		sessions := map[string]*session.Session{"default": e.NewSession("root")}
		cur := sessions["default"]
		datadriven.RunTest(t, path, func(t *testing.T, d *datadriven.TestData) string {
			switch d.Cmd {
			case "session":
				name := d.CmdArgs[0].Key
				if sessions[name] == nil {
					sessions[name] = e.NewSession("root")
				}
				cur = sessions[name]
				return ""
			case "placements":
				// The placement rules applied so far: span, policy.
				var sb strings.Builder
				for _, r := range cluster.Placements() {
					p := r.Policy
					fmt.Fprintf(&sb, "[%s, %s) %s leader=%s regions=%s replicas=%d\n", rowcodec.PrettyKey(r.Span.Key), rowcodec.PrettyKey(r.Span.EndKey),
						p.Name, p.PrimaryRegion, strings.Join(p.Regions, ","), p.Replicas())
				}
				return sb.String()
			case "advance":
				dur, err := time.ParseDuration(d.CmdArgs[0].Key)
				if err != nil {
					t.Fatal(err)
				}
				clock.Advance(dur)
				return ""
			case "exec":
				var sb strings.Builder
				for _, stmt := range splitStatements(d.Input) {
					res, err := cur.Execute(ctx, stmt)
					if err != nil {
						sb.WriteString(formatResult(nil, err))
					} else if !strings.HasPrefix(formatResult(res, nil), "ok") {
						sb.WriteString(formatResult(res, nil))
					}
				}
				if sb.Len() == 0 {
					return "ok\n"
				}
				return sb.String()
			case "query":
				res, err := cur.Execute(ctx, d.Input)
				if d.HasArg("types") && err == nil && res.Columns != nil {
					// A first line with each column's type.
					var ts []string
					for _, c := range res.Columns {
						ts = append(ts, c.Type.SQL())
					}
					return strings.Join(ts, " | ") + "\n" + formatResult(res, err)
				}
				return formatResult(res, err)
			case "prepare":
				// prepare\nSQL\n--args a,b (one execution per args line after the SQL)
				lines := strings.Split(d.Input, "\n")
				p, err := cur.Prepare(ctx, lines[0])
				if err != nil {
					return formatResult(nil, err)
				}
				var sb strings.Builder
				for _, l := range lines[1:] {
					var args []types.Value
					for _, a := range strings.Split(strings.TrimPrefix(l, "args "), ",") {
						a = strings.TrimSpace(a)
						if a == "NULL" {
							args = append(args, types.Null)
						} else {
							args = append(args, types.NewString(a))
						}
					}
					if l == "args" {
						args = nil
					}
					res, err := cur.ExecutePrepared(ctx, p, args)
					sb.WriteString(formatResult(res, err))
				}
				return sb.String()
			}
			t.Fatalf("unknown command %s", d.Cmd)
			return ""
		})
	})
}

// splitStatements splits a script on lines ending with ";" (or one
// statement per line when there are no semicolons).
func splitStatements(s string) []string {
	var out []string
	var cur []string
	for _, l := range strings.Split(s, "\n") {
		cur = append(cur, l)
		if strings.HasSuffix(strings.TrimSpace(l), ";") || !strings.Contains(s, ";") {
			out = append(out, strings.Join(cur, "\n"))
			cur = nil
		}
	}
	if len(cur) > 0 && strings.TrimSpace(strings.Join(cur, "")) != "" {
		out = append(out, strings.Join(cur, "\n"))
	}
	return out
}
