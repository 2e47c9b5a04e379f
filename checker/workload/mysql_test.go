package workload_test

import (
	"database/sql"
	"math/rand/v2"
	"os"
	"testing"

	_ "github.com/go-sql-driver/mysql"

	"github.com/meridiandb/meridian/checker/workload"
)

// TestMySQL runs every workload against a real MySQL-dialect server at
// serializable isolation and checks the histories: the SQL must work there,
// and a single-node server must pass.
func TestMySQL(t *testing.T) {
	dsn := os.Getenv("MERIDIAN_TEST_MYSQL_DSN")
	if dsn == "" {
		t.Skip("set MERIDIAN_TEST_MYSQL_DSN (e.g. root@tcp(127.0.0.1:33306)/test, a server such as ../shared/tools/mariadb-local.sh starts) to run the workloads against MySQL")
	}
	db, err := sql.Open("mysql", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, kind := range kinds {
		t.Run(kind.String(), func(t *testing.T) {
			opts := workload.Options{
				Kind: kind, Concurrency: 4, Txns: 400, Isolation: sql.LevelSerializable,
				Rand: rand.New(rand.NewPCG(1, 2)),
			}
			res, stats := runAndCheck(t, db, opts)
			if !res.Valid || stats.OK < opts.Txns/2 {
				t.Fatalf("stats %+v:\n%s", stats, report(res))
			}
		})
	}
}
