package server

import (
	"context"
	gosql "database/sql"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
)

func startSQLCluster(t *testing.T) *Cluster {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	c, err := StartCluster(ctx, ClusterOptions{Nodes: 3, SQL: true, Node: Config{QueueInterval: 100 * time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Stop)
	if err := c.WaitReplicated(ctx, 3); err != nil {
		t.Fatal(err)
	}
	return c
}

func openDB(t *testing.T, n *Node) *gosql.DB {
	t.Helper()
	db, err := gosql.Open("mysql", fmt.Sprintf("root@tcp(%s)/test", n.SQLAddr()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// TestSQLOverTheCluster drives SQL through go-sql-driver against every node
// of an in-process cluster: DDL, prepared statements, transactions and
// errors with their MySQL codes.
func TestSQLOverTheCluster(t *testing.T) {
	c := startSQLCluster(t)
	ctx := context.Background()
	db1, db2, db3 := openDB(t, c.Node(1)), openDB(t, c.Node(2)), openDB(t, c.Node(3))
	if _, err := db1.ExecContext(ctx, "CREATE TABLE accounts (id INT PRIMARY KEY, owner VARCHAR(20) NOT NULL, balance BIGINT NOT NULL, UNIQUE KEY (owner))"); err != nil {
		t.Fatal(err)
	}
	ins, err := db2.PrepareContext(ctx, "INSERT INTO accounts VALUES (?, ?, ?)")
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 10; i++ {
		if _, err := ins.ExecContext(ctx, i, fmt.Sprintf("owner%d", i), 100); err != nil {
			t.Fatal(err)
		}
	}
	ins.Close()
	var me *mysql.MySQLError
	if _, err := db3.ExecContext(ctx, "INSERT INTO accounts VALUES (1, 'x', 0)"); !errors.As(err, &me) || me.Number != 1062 {
		t.Fatalf("duplicate key: %v, want error 1062", err)
	}
	if _, err := db3.ExecContext(ctx, "SELECT * FROM nope"); !errors.As(err, &me) || me.Number != 1146 {
		t.Fatalf("missing table: %v, want error 1146", err)
	}
	// Concurrent transfers through all three nodes keep the total.
	var wg sync.WaitGroup
	dbs := []*gosql.DB{db1, db2, db3}
	errs := make(chan error, 30)
	for w := 0; w < 6; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			db := dbs[w%3]
			for i := 0; i < 10; i++ {
				from, to := (w+i)%10, (w+i+3)%10
				err := transfer(ctx, db, from, to, 7)
				if err != nil {
					errs <- err
					return
				}
			}
		}(w)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	var total int64
	if err := db2.QueryRowContext(ctx, "SELECT SUM(balance) FROM accounts").Scan(&total); err != nil {
		t.Fatal(err)
	}
	if total != 1000 {
		t.Fatalf("total balance %d, want 1000", total)
	}
	var ts int64
	if err := db1.QueryRowContext(ctx, "SELECT @@last_commit_ts").Scan(&ts); err != nil {
		t.Fatal(err)
	}
}

// transfer moves amount between accounts, retrying retryable conflicts.
func transfer(ctx context.Context, db *gosql.DB, from, to, amount int) error {
	for attempt := 0; attempt < 50; attempt++ {
		err := func() error {
			tx, err := db.BeginTx(ctx, nil)
			if err != nil {
				return err
			}
			defer tx.Rollback()
			var a, b int
			if err := tx.QueryRowContext(ctx, "SELECT balance FROM accounts WHERE id = ? FOR UPDATE", from).Scan(&a); err != nil {
				return err
			}
			if err := tx.QueryRowContext(ctx, "SELECT balance FROM accounts WHERE id = ? FOR UPDATE", to).Scan(&b); err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, "UPDATE accounts SET balance = ? WHERE id = ?", a-amount, from); err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, "UPDATE accounts SET balance = ? WHERE id = ?", b+amount, to); err != nil {
				return err
			}
			return tx.Commit()
		}()
		var me *mysql.MySQLError
		if errors.As(err, &me) && (me.Number == 1213 || me.Number == 1205) {
			continue
		}
		return err
	}
	return fmt.Errorf("transfer %d->%d: too many retries", from, to)
}
