package workload_test

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"io"
	"maps"
	"regexp"
	"strconv"
	"sync"
)

// fakeDB is a serial in-memory database behind database/sql that
// understands exactly the statements this package issues. A transaction
// holds txnMu from BEGIN to COMMIT or ROLLBACK, so transactions are serial;
// writes are buffered and applied at COMMIT.
type fakeDB struct {
	txnMu sync.Mutex // held by the open transaction

	mu struct {
		sync.Mutex
		tables  map[string]map[int64]string
		commits int
	}
	// commitFault, if set, decides for the n-th commit (from 1) whether its
	// writes are applied and what COMMIT returns.
	commitFault func(n int) (apply bool, err error)
}

func newFakeDB() *fakeDB {
	f := &fakeDB{}
	f.mu.tables = map[string]map[int64]string{}
	return f
}

func (f *fakeDB) Connect(context.Context) (driver.Conn, error) { return &fakeConn{db: f}, nil }
func (f *fakeDB) Driver() driver.Driver                        { return nil }

type fakeConn struct {
	db *fakeDB
	tx *fakeTx
	// lastCommit is the commit number of the connection's last commit: a
	// commit timestamp that orders transactions as they ran.
	lastCommit int64
}

type fakeTx struct {
	c      *fakeConn
	writes map[string]map[int64]string
}

func (c *fakeConn) Prepare(string) (driver.Stmt, error) { return nil, fmt.Errorf("fakedb: no prepare") }
func (c *fakeConn) Close() error {
	if c.tx != nil {
		return c.tx.Rollback()
	}
	return nil
}
func (c *fakeConn) Begin() (driver.Tx, error) {
	return c.BeginTx(context.Background(), driver.TxOptions{})
}
func (c *fakeConn) BeginTx(context.Context, driver.TxOptions) (driver.Tx, error) {
	c.db.txnMu.Lock()
	c.tx = &fakeTx{c: c, writes: map[string]map[int64]string{}}
	return c.tx, nil
}

func (t *fakeTx) Commit() error {
	db := t.c.db
	defer db.txnMu.Unlock()
	t.c.tx = nil
	db.mu.Lock()
	defer db.mu.Unlock()
	db.mu.commits++
	t.c.lastCommit = int64(db.mu.commits)
	apply, err := true, error(nil)
	if db.commitFault != nil {
		apply, err = db.commitFault(db.mu.commits)
	}
	if apply {
		for tbl, rows := range t.writes {
			maps.Copy(db.mu.tables[tbl], rows)
		}
	}
	return err
}

func (t *fakeTx) Rollback() error {
	t.c.tx = nil
	t.c.db.txnMu.Unlock()
	return nil
}

// get reads a row as the open transaction sees it.
func (c *fakeConn) get(tbl string, id int64) (string, bool) {
	if c.tx != nil {
		if v, ok := c.tx.writes[tbl][id]; ok {
			return v, true
		}
	}
	c.db.mu.Lock()
	defer c.db.mu.Unlock()
	v, ok := c.db.mu.tables[tbl][id]
	return v, ok
}

func (c *fakeConn) put(tbl string, id int64, v string) {
	if c.tx.writes[tbl] == nil {
		c.tx.writes[tbl] = map[int64]string{}
	}
	c.tx.writes[tbl][id] = v
}

var (
	reDrop      = regexp.MustCompile(`^DROP TABLE IF EXISTS (\w+)$`)
	reCreate    = regexp.MustCompile(`^CREATE TABLE (\w+) \(`)
	reSelect    = regexp.MustCompile(`^SELECT val FROM (\w+) WHERE id = \?$`)
	reAppend    = regexp.MustCompile(`^INSERT INTO (\w+) \(id, val\) VALUES \(\?, \?\) ON DUPLICATE KEY UPDATE val = CONCAT\(val, ',', \?\)$`)
	reWrite     = regexp.MustCompile(`^INSERT INTO (\w+) \(id, val\) VALUES \(\?, \?\) ON DUPLICATE KEY UPDATE val = \?$`)
	reBalance   = regexp.MustCompile(`^SELECT balance FROM (\w+) WHERE id = \? FOR UPDATE$`)
	reUpdate    = regexp.MustCompile(`^UPDATE (\w+) SET balance = \? WHERE id = \?$`)
	reInsert    = regexp.MustCompile(`^INSERT INTO (\w+) \(id, balance\) VALUES \(\?, \?\)$`)
	reSelectAll = regexp.MustCompile(`^SELECT id, balance FROM (\w+)$`)
)

func str(v driver.Value) string {
	switch v := v.(type) {
	case int64:
		return strconv.FormatInt(v, 10)
	case string:
		return v
	}
	return fmt.Sprint(v)
}

func (c *fakeConn) ExecContext(_ context.Context, q string, args []driver.NamedValue) (driver.Result, error) {
	arg := func(i int) driver.Value { return args[i].Value }
	switch {
	case reDrop.MatchString(q), reCreate.MatchString(q):
		tbl := reDrop.FindStringSubmatch(q)
		if tbl == nil {
			tbl = reCreate.FindStringSubmatch(q)
		}
		c.db.mu.Lock()
		c.db.mu.tables[tbl[1]] = map[int64]string{}
		c.db.mu.Unlock()
	case reAppend.MatchString(q):
		tbl := reAppend.FindStringSubmatch(q)[1]
		id := arg(0).(int64)
		if v, ok := c.get(tbl, id); ok {
			c.put(tbl, id, v+","+str(arg(2)))
		} else {
			c.put(tbl, id, str(arg(1)))
		}
	case reWrite.MatchString(q):
		c.put(reWrite.FindStringSubmatch(q)[1], arg(0).(int64), str(arg(1)))
	case reUpdate.MatchString(q):
		c.put(reUpdate.FindStringSubmatch(q)[1], arg(1).(int64), str(arg(0)))
	case reInsert.MatchString(q):
		c.put(reInsert.FindStringSubmatch(q)[1], arg(0).(int64), str(arg(1)))
	default:
		return nil, fmt.Errorf("fakedb: unknown statement %q", q)
	}
	return driver.RowsAffected(1), nil
}

func (c *fakeConn) QueryContext(_ context.Context, q string, args []driver.NamedValue) (driver.Rows, error) {
	var rows fakeRows
	switch {
	case reSelect.MatchString(q), reBalance.MatchString(q):
		m := reSelect.FindStringSubmatch(q)
		if m == nil {
			m = reBalance.FindStringSubmatch(q)
		}
		rows.cols = []string{"val"}
		if v, ok := c.get(m[1], args[0].Value.(int64)); ok {
			rows.rows = [][]driver.Value{{v}}
		}
	case reSelectAll.MatchString(q):
		tbl := reSelectAll.FindStringSubmatch(q)[1]
		rows.cols = []string{"id", "balance"}
		c.db.mu.Lock()
		ids := make(map[int64]bool)
		for id := range c.db.mu.tables[tbl] {
			ids[id] = true
		}
		c.db.mu.Unlock()
		for id := range c.tx.writes[tbl] {
			ids[id] = true
		}
		for id := range ids {
			v, _ := c.get(tbl, id)
			rows.rows = append(rows.rows, []driver.Value{id, v})
		}
	default:
		return nil, fmt.Errorf("fakedb: unknown query %q", q)
	}
	return &rows, nil
}

type fakeRows struct {
	cols []string
	rows [][]driver.Value
}

func (r *fakeRows) Columns() []string { return r.cols }
func (r *fakeRows) Close() error      { return nil }
func (r *fakeRows) Next(dest []driver.Value) error {
	if len(r.rows) == 0 {
		return io.EOF
	}
	copy(dest, r.rows[0])
	r.rows = r.rows[1:]
	return nil
}

func openFake(f *fakeDB) *sql.DB { return sql.OpenDB(f) }

// fakeCommitTS reads the commit number of the connection's last commit.
func fakeCommitTS(ctx context.Context, conn *sql.Conn) (ts int64, ok bool, err error) {
	err = conn.Raw(func(dc any) error {
		ts = dc.(*fakeConn).lastCommit
		return nil
	})
	return ts, err == nil, err
}
