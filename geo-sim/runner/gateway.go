package runner

import (
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"net"
	"sync"
	"time"

	"github.com/meridiandb/meridian/geo-sim/workload"
	"github.com/meridiandb/meridian/kv/kvpb"
	"github.com/meridiandb/meridian/ranges"
	"github.com/meridiandb/meridian/server"
	"github.com/meridiandb/meridian/truetime"
	"github.com/meridiandb/meridian/txn"
)

// gateway is one client's access to the cluster, used by its client's
// goroutine (and by the SQL driver's, through delayConn).
type gateway struct {
	sim    *Sim
	region string
	home   int

	mu struct {
		sync.Mutex
		rng    *rand.Rand    // the client's delay jitter
		waited time.Duration // client delay charged since takeWaited
		// virtual is the part of waited not slept (trips shorter than
		// Config.MinSleep); the runner adds it to the latency.
		virtual time.Duration
	}

	// sqlDB is opened on first use (one pool per client).
	sqlOnce sync.Once
	sqlDB   *sql.DB
	sqlErr  error
}

var _ workload.Gateway = (*gateway)(nil)

func newGateway(s *Sim, region string, home int, seed uint64) *gateway {
	g := &gateway{sim: s, region: region, home: home}
	g.mu.rng = rand.New(rand.NewPCG(seed, 0x6777))
	return g
}

// Region implements workload.Gateway.
func (g *gateway) Region() string { return g.region }

// Node implements workload.Gateway.
func (g *gateway) Node() int { _, i := g.node(); return i }

// node returns the gateway node now: the home node, another running node
// of the region, or the nearest running node elsewhere.
func (g *gateway) node() (*server.Node, int) {
	if n := g.sim.Node(g.home); n != nil {
		return n, g.home
	}
	top := g.sim.Topology()
	for _, i := range top.NodesIn(g.region) {
		if n := g.sim.Node(i); n != nil {
			return n, i
		}
	}
	var best *server.Node
	bestID, bestRTT := 0, time.Duration(-1)
	for _, nd := range top.Nodes() {
		n := g.sim.Node(nd.ID)
		if n == nil {
			continue
		}
		if rtt := top.RegionLink(g.region, nd.Region).RTT; bestRTT < 0 || rtt < bestRTT {
			best, bestID, bestRTT = n, nd.ID, rtt
		}
	}
	return best, bestID
}

// oneWay draws the client→gateway (or back) delay to gateway node id.
func (g *gateway) oneWay(id int) time.Duration {
	top := g.sim.Topology()
	r, _ := top.Region(g.region)
	d := r.ClientRTT / 2
	if r.ClientJitter > 0 {
		g.mu.Lock()
		d += time.Duration(g.mu.rng.Int64N(int64(r.ClientJitter))) / 2
		g.mu.Unlock()
	}
	if id > 0 {
		if gr := top.Node(id).Region; gr != g.region {
			d += top.RegionLink(g.region, gr).RTT / 2
		}
	}
	return d
}

// travel waits one client↔gateway trip. A trip shorter than
// Config.MinSleep is not slept but charged (takeWaited reports it), since
// the host's timers cannot sleep that briefly with any precision.
func (g *gateway) travel(ctx context.Context, id int) error {
	d := g.oneWay(id)
	g.mu.Lock()
	g.mu.waited += d
	virtual := d < g.sim.cfg.MinSleep
	if virtual {
		g.mu.virtual += d
	}
	g.mu.Unlock()
	if virtual {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// call runs fn at the gateway, a trip away each way.
func (g *gateway) call(ctx context.Context, fn func(n *server.Node) error) error {
	n, id := g.node()
	if n == nil {
		return fmt.Errorf("client in %s: no gateway node is running", g.region)
	}
	if err := g.travel(ctx, id); err != nil {
		return err
	}
	err := fn(n)
	if terr := g.travel(ctx, id); err == nil {
		err = terr
	}
	return err
}

// KV implements workload.Gateway.
func (g *gateway) KV() workload.KV { return gatewayKV{g} }

type gatewayKV struct{ g *gateway }

func (k gatewayKV) Put(ctx context.Context, key, value []byte) (ts truetime.Timestamp, err error) {
	err = k.g.call(ctx, func(n *server.Node) error {
		ts, err = n.Router().Put(ctx, key, value)
		return err
	})
	return ts, err
}

func (k gatewayKV) Get(ctx context.Context, key []byte) (v []byte, found bool, err error) {
	err = k.g.call(ctx, func(n *server.Node) error {
		v, found, err = n.Router().Get(ctx, key)
		return err
	})
	return v, found, err
}

func (k gatewayKV) ReadAt(ctx context.Context, key []byte, ts truetime.Timestamp, nearest bool) (v []byte, found bool, err error) {
	err = k.g.call(ctx, func(n *server.Node) error {
		res, err := n.Router().Send(ctx, key, ranges.SendOptions{ReadTS: ts, Follower: nearest},
			[]*kvpb.Request{{Value: &kvpb.Request_Get{Get: &kvpb.GetRequest{Key: key}}}})
		if err != nil {
			return err
		}
		gr := res.Resp.Responses[0].GetGet()
		v, found = gr.Value, gr.Found
		return nil
	})
	return v, found, err
}

func (k gatewayKV) Now() truetime.Interval {
	_, id := k.g.node()
	if c := k.g.sim.Clock(id); c != nil {
		return c.Now()
	}
	return k.g.sim.clocks[0].Now()
}

// Txn implements workload.Gateway: the gateway node's txn.DB, charging a
// client round trip for every read, scan and commit (writes are buffered
// at the client until commit, as Spanner's client library does, and Begin
// is free).
func (g *gateway) Txn() (txn.DB, error) {
	if g.sim.cfg.Layers.TxnDB == nil {
		return nil, workload.ErrNeedsTxnLayer
	}
	if _, id := g.node(); id == 0 {
		return nil, fmt.Errorf("client in %s: no gateway node is running", g.region)
	}
	return delayDB{g}, nil
}

// SQL implements workload.Gateway.
func (g *gateway) SQL() (*sql.DB, error) {
	if g.sim.cfg.Layers.SQLDB == nil {
		return nil, workload.ErrNeedsSQL
	}
	g.sqlOnce.Do(func() {
		n, id := g.node()
		if n == nil {
			g.sqlErr = fmt.Errorf("client in %s: no gateway node is running", g.region)
			return
		}
		dial := func(ctx context.Context, network, addr string) (net.Conn, error) {
			var d net.Dialer
			c, err := d.DialContext(ctx, network, addr)
			if err != nil {
				return nil, err
			}
			return &delayConn{Conn: c, g: g, id: id, fresh: true}, nil
		}
		g.sqlDB, g.sqlErr = g.sim.cfg.Layers.SQLDB(context.Background(), n, dial)
	})
	return g.sqlDB, g.sqlErr
}

func (g *gateway) close() {
	if g.sqlDB != nil {
		_ = g.sqlDB.Close()
	}
}

// takeWaited returns and resets the client delay charged so far, and the
// part of it that was not slept.
func (g *gateway) takeWaited() (waited, virtual time.Duration) {
	g.mu.Lock()
	defer g.mu.Unlock()
	waited, virtual = g.mu.waited, g.mu.virtual
	g.mu.waited, g.mu.virtual = 0, 0
	return waited, virtual
}

// delayConn charges a one-way trip before each request a client writes and
// before the first bytes of each response it reads (requests and responses
// alternate in the MySQL protocol; the server speaks first).
type delayConn struct {
	net.Conn
	g     *gateway
	id    int
	mu    sync.Mutex
	fresh bool // the next Read starts a response
}

func (c *delayConn) Write(p []byte) (int, error) {
	if err := c.g.travel(context.Background(), c.id); err != nil {
		return 0, err
	}
	c.mu.Lock()
	c.fresh = true
	c.mu.Unlock()
	return c.Conn.Write(p)
}

func (c *delayConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.mu.Lock()
	first := c.fresh && n > 0
	if first {
		c.fresh = false
	}
	c.mu.Unlock()
	if first {
		_ = c.g.travel(context.Background(), c.id)
	}
	return n, err
}

// delayDB wraps the gateway node's txn.DB, charging client round trips.
type delayDB struct{ g *gateway }

func (d delayDB) db() (txn.DB, int, error) {
	n, id := d.g.node()
	if n == nil {
		return nil, 0, fmt.Errorf("client in %s: no gateway node is running", d.g.region)
	}
	db, err := d.g.sim.cfg.Layers.TxnDB(n)
	return db, id, err
}

func (d delayDB) Begin(ctx context.Context, opts txn.Options) (txn.Txn, error) {
	db, id, err := d.db()
	if err != nil {
		return nil, err
	}
	tx, err := db.Begin(ctx, opts)
	if err != nil {
		return nil, err
	}
	return &delayTxn{Txn: tx, g: d.g, id: id}, nil
}

func (d delayDB) Clock() truetime.Clock {
	_, id := d.g.node()
	if c := d.g.sim.Clock(id); c != nil {
		return c
	}
	return d.g.sim.clocks[0]
}

type delayTxn struct {
	txn.Txn
	g  *gateway
	id int
}

func (t *delayTxn) round(ctx context.Context, fn func() error) error {
	if err := t.g.travel(ctx, t.id); err != nil {
		return err
	}
	err := fn()
	if terr := t.g.travel(ctx, t.id); err == nil {
		err = terr
	}
	return err
}

func (t *delayTxn) Get(ctx context.Context, key []byte, o txn.ReadOptions) (v []byte, found bool, err error) {
	err = t.round(ctx, func() error { v, found, err = t.Txn.Get(ctx, key, o); return err })
	return v, found, err
}

func (t *delayTxn) Scan(ctx context.Context, span txn.Span, o txn.ScanOptions) (r txn.ScanResult, err error) {
	err = t.round(ctx, func() error { r, err = t.Txn.Scan(ctx, span, o); return err })
	return r, err
}

func (t *delayTxn) Commit(ctx context.Context) (ts truetime.Timestamp, err error) {
	err = t.round(ctx, func() error { ts, err = t.Txn.Commit(ctx); return err })
	return ts, err
}
