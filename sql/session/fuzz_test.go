package session_test

import (
	"context"
	"testing"
	"time"

	"github.com/meridiandb/meridian/sql/types"
)

// FuzzStatement feeds arbitrary text through parse, plan and execute (both
// as a query and as a prepared statement). Errors are fine; panics and
// hangs are not.
func FuzzStatement(f *testing.F) {
	for _, s := range []string{
		"SELECT 1", "SELECT * FROM t WHERE id = 1", "SELECT a.id, b.v FROM t a JOIN t b ON a.id = b.k",
		"INSERT INTO t VALUES (9, 9, 'z')", "UPDATE t SET k = k + 1 WHERE id > 1 ORDER BY id LIMIT 1",
		"SELECT k, COUNT(*) FROM t GROUP BY k HAVING COUNT(*) > 0 ORDER BY 1", "SELECT (SELECT MAX(id) FROM t)",
		"SELECT id FROM t WHERE v IN (SELECT v FROM t WHERE id < 3) UNION SELECT 5",
		"EXPLAIN ANALYZE SELECT * FROM t WHERE k BETWEEN 1 AND 2", "BEGIN; SELECT * FROM t FOR UPDATE; COMMIT",
		"SHOW TABLE t REGIONS", "SPLIT TABLE t BY (2)", "SELECT CAST('x' AS SIGNED), 1/0, -9223372036854775808 - 1",
		"SELECT * FROM t AS OF TIMESTAMP '2020-01-01'", "ALTER TABLE t ADD INDEX kv (k, v)",
		"SELECT ? + 1", "SELECT * FROM t WHERE id = ?", "SET @a = (SELECT 1)", "SHOW CLOCK",
	} {
		f.Add(s)
	}
	e, _ := newEngine(f)
	ctx := context.Background()
	setup := e.NewSession("root")
	for _, q := range []string{"USE test", "CREATE TABLE t (id INT PRIMARY KEY, k INT, v VARCHAR(10), KEY k_idx (k))",
		"INSERT INTO t VALUES (1, 1, 'a'), (2, 1, 'b'), (3, NULL, NULL)"} {
		if _, err := setup.Execute(ctx, q); err != nil {
			f.Fatal(err)
		}
	}
	f.Fuzz(func(t *testing.T, q string) {
		if len(q) > 2000 {
			return
		}
		s := e.NewSession("root")
		defer s.Close(ctx)
		ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		_, _ = s.Execute(ctx, "USE test")
		_, _ = s.Execute(ctx, q)
		if p, err := s.Prepare(ctx, q); err == nil {
			args := make([]types.Value, p.NumParams)
			for i := range args {
				args[i] = types.NewInt(int64(i))
			}
			_, _ = s.ExecutePrepared(ctx, p, args)
		}
	})
}
