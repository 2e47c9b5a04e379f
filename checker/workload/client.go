package workload

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/meridiandb/meridian/checker/history"
)

// schema returns the statements that (re)create the workload's tables.
//
//	list-append  <prefix>append_<g> (id BIGINT PRIMARY KEY, val TEXT)      val = "1,2,3"
//	rw-register  <prefix>register_<g> (id BIGINT PRIMARY KEY, val BIGINT)
//	bank         <prefix>accounts (id BIGINT PRIMARY KEY, balance BIGINT)
//
// Key k lives in group g = k mod Tables.
func schema(o Options) []string {
	var out []string
	switch o.Kind {
	case Bank:
		t := o.Prefix + "accounts"
		out = append(out, "DROP TABLE IF EXISTS "+t,
			"CREATE TABLE "+t+" (id BIGINT NOT NULL PRIMARY KEY, balance BIGINT NOT NULL)")
	default:
		col := "TEXT"
		if o.Kind == Register {
			col = "BIGINT"
		}
		for g := range o.Tables {
			t := table(o, int64(g))
			out = append(out, "DROP TABLE IF EXISTS "+t,
				"CREATE TABLE "+t+" (id BIGINT NOT NULL PRIMARY KEY, val "+col+")")
		}
	}
	return out
}

func table(o Options, key int64) string {
	g := (key%int64(o.Tables) + int64(o.Tables)) % int64(o.Tables)
	if o.Kind == Register {
		return o.Prefix + "register_" + strconv.FormatInt(g, 10)
	}
	return o.Prefix + "append_" + strconv.FormatInt(g, 10)
}

// client is one process: a connection and the process id it records under.
// A client whose transaction ended in info takes a new process id (the
// history format retires a process after info) and a new connection.
type client struct {
	r     *runner
	id    int64
	dbIdx int
	db    *sql.DB
	conn  *sql.Conn
}

func (r *runner) newClient(ctx context.Context, id int64) (*client, error) {
	idx := int(id) % len(r.dbs)
	db := r.dbs[idx]
	conn, err := db.Conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("workload: process %d: %w", id, err)
	}
	return &client{r: r, id: id, dbIdx: idx, db: db, conn: conn}, nil
}

// run runs t as one transaction and records its invocation and completion.
// The error is non-nil only when no database gave a new connection after
// a failed transaction.
func (c *client) run(ctx context.Context, t Txn) error {
	o := c.r.opts
	c.r.hw.Invoke(c.id, t.Mops)
	out, typ, ts, hasTS := c.exec(ctx, t)
	if typ != history.OK {
		out = nil // fail and info carry the invocation's value
	}
	c.r.hw.Complete(typ, c.id, out, ts, hasTS)
	c.r.count(typ)
	if typ == history.OK {
		return nil
	}
	// The connection's state is unknown after an error: start afresh.
	c.conn.Close()
	if typ == history.Info {
		c.id += int64(o.Concurrency)
	}
	return c.reconnect(ctx)
}

// reconnect gets a new connection, moving on to the next database (node)
// while one cannot be had, for up to a minute.
func (c *client) reconnect(ctx context.Context) error {
	deadline := time.Now().Add(time.Minute)
	var err error
	for i := 0; ; i++ {
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		var conn *sql.Conn
		conn, err = c.db.Conn(cctx)
		cancel()
		if err == nil {
			c.conn = conn
			return nil
		}
		if time.Now().After(deadline) {
			break
		}
		if i%len(c.r.dbs) == len(c.r.dbs)-1 {
			// Every database refused: wait before the next round.
			t := time.NewTimer(200 * time.Millisecond)
			select {
			case <-t.C:
			case <-ctx.Done():
				t.Stop()
			}
		}
		c.dbIdx = (c.dbIdx + 1) % len(c.r.dbs)
		c.db = c.r.dbs[c.dbIdx]
	}
	c.conn = nil
	return fmt.Errorf("workload: process %d: no database accepted a connection for a minute: %w", c.id, err)
}

// exec runs t and classifies the outcome: fail if the transaction cannot
// have committed (an error before COMMIT, or a COMMIT refused with a
// deadlock or lock timeout), info if COMMIT's outcome is unknown.
func (c *client) exec(ctx context.Context, t Txn) (out []history.Mop, typ history.Type, ts int64, hasTS bool) {
	o := c.r.opts
	readOnly := true
	for _, m := range t.Mops {
		if m.F != history.Read {
			readOnly = false
		}
	}
	tx, err := c.conn.BeginTx(ctx, &sql.TxOptions{Isolation: o.Isolation, ReadOnly: readOnly})
	if err != nil {
		return nil, history.Fail, 0, false
	}
	out, err = c.statements(ctx, tx, t)
	if err != nil {
		_ = tx.Rollback()
		return nil, history.Fail, 0, false
	}
	if err := tx.Commit(); err != nil {
		if definitelyAborted(err) {
			return nil, history.Fail, 0, false
		}
		return nil, history.Info, 0, false
	}
	if o.CommitTS != nil {
		if v, ok, err := o.CommitTS(ctx, c.conn); err == nil && ok {
			ts, hasTS = v, true
		}
	}
	return out, history.OK, ts, hasTS
}

// errInsufficientFunds aborts a transfer.
var errInsufficientFunds = errors.New("insufficient funds")

// statements runs t's micro-ops inside tx and returns them completed.
func (c *client) statements(ctx context.Context, tx *sql.Tx, t Txn) ([]history.Mop, error) {
	o := c.r.opts
	out := slices.Clone(t.Mops)
	if o.Kind == Bank {
		return c.bank(ctx, tx, t, out)
	}
	for i, m := range out {
		k := m.Key.Int
		tbl := table(o, k)
		switch m.F {
		case history.Read:
			var v sql.NullString
			err := tx.QueryRowContext(ctx, "SELECT val FROM "+tbl+" WHERE id = ?", k).Scan(&v)
			switch {
			case errors.Is(err, sql.ErrNoRows):
				out[i].Nil = true
			case err != nil:
				return nil, err
			case !v.Valid:
				out[i].Nil = true
			case o.Kind == ListAppend:
				l, err := parseList(v.String)
				if err != nil {
					return nil, fmt.Errorf("key %d: %w", k, err)
				}
				out[i].Nil, out[i].List = false, l
			default:
				n, err := strconv.ParseInt(v.String, 10, 64)
				if err != nil {
					return nil, fmt.Errorf("key %d: %w", k, err)
				}
				out[i].Nil, out[i].Value = false, n
			}
		case history.Append:
			if _, err := tx.ExecContext(ctx, "INSERT INTO "+tbl+" (id, val) VALUES (?, ?) ON DUPLICATE KEY UPDATE val = CONCAT(val, ',', ?)",
				k, strconv.FormatInt(m.Value, 10), strconv.FormatInt(m.Value, 10)); err != nil {
				return nil, err
			}
		case history.Write:
			if _, err := tx.ExecContext(ctx, "INSERT INTO "+tbl+" (id, val) VALUES (?, ?) ON DUPLICATE KEY UPDATE val = ?", k, m.Value, m.Value); err != nil {
				return nil, err
			}
		}
	}
	return out, nil
}

// bank runs the setup (blind writes), a transfer or a read of every account.
func (c *client) bank(ctx context.Context, tx *sql.Tx, t Txn, out []history.Mop) ([]history.Mop, error) {
	accounts := c.r.opts.Prefix + "accounts"
	switch {
	case t.Amount > 0:
		for i := range 2 {
			var bal int64
			if err := tx.QueryRowContext(ctx, "SELECT balance FROM "+accounts+" WHERE id = ? FOR UPDATE", out[i].Key.Int).Scan(&bal); err != nil {
				return nil, err
			}
			out[i].Nil, out[i].Value = false, bal
		}
		if out[0].Value < t.Amount {
			return nil, errInsufficientFunds
		}
		out[2].Nil, out[2].Value = false, out[0].Value-t.Amount
		out[3].Nil, out[3].Value = false, out[1].Value+t.Amount
		for _, m := range out[2:] {
			if _, err := tx.ExecContext(ctx, "UPDATE "+accounts+" SET balance = ? WHERE id = ?", m.Value, m.Key.Int); err != nil {
				return nil, err
			}
		}
	case out[0].F == history.Write:
		for _, m := range out {
			if _, err := tx.ExecContext(ctx, "INSERT INTO "+accounts+" (id, balance) VALUES (?, ?)", m.Key.Int, m.Value); err != nil {
				return nil, err
			}
		}
	default:
		rows, err := tx.QueryContext(ctx, "SELECT id, balance FROM "+accounts)
		if err != nil {
			return nil, err
		}
		bal := map[int64]int64{}
		for rows.Next() {
			var id, b int64
			if err := rows.Scan(&id, &b); err != nil {
				rows.Close()
				return nil, err
			}
			bal[id] = b
		}
		if err := rows.Close(); err != nil {
			return nil, err
		}
		if err := rows.Err(); err != nil {
			return nil, err
		}
		for i, m := range out {
			if b, ok := bal[m.Key.Int]; ok {
				out[i].Nil, out[i].Value = false, b
			}
		}
	}
	return out, nil
}

// definitelyAborted reports whether a COMMIT error means the transaction was
// rolled back: MySQL's deadlock (1213) and lock wait timeout (1205), or any
// error with SQLSTATE class 40 (transaction rollback).
func definitelyAborted(err error) bool {
	var me *mysql.MySQLError
	if !errors.As(err, &me) {
		return false
	}
	return me.Number == 1213 || me.Number == 1205 || strings.HasPrefix(string(me.SQLState[:]), "40")
}

func parseList(s string) ([]int64, error) {
	if s == "" {
		return []int64{}, nil
	}
	parts := strings.Split(s, ",")
	l := make([]int64, len(parts))
	for i, p := range parts {
		v, err := strconv.ParseInt(p, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("list element %q: %w", p, err)
		}
		l[i] = v
	}
	return l, nil
}
