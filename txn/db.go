package txn

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/meridiandb/meridian/kv/kvpb"
	"github.com/meridiandb/meridian/ranges"
	"github.com/meridiandb/meridian/replication"
	"github.com/meridiandb/meridian/truetime"
	"github.com/meridiandb/meridian/txn/admission"
	"github.com/meridiandb/meridian/txn/txnpb"
)

// GatewayOptions configure a Gateway.
type GatewayOptions struct {
	// NodeID of the gateway. Required.
	NodeID replication.NodeID
	// Router reaches the ranges. Required.
	Router *ranges.Router
	// Clock is the gateway's TrueTime. Required.
	Clock  truetime.Clock
	Logger *slog.Logger
	// LockTimeout is the default bound of a lock wait. Default: 5s.
	LockTimeout time.Duration
	// MaxFollowerWait bounds how long a follower waits for its safe time
	// before the read goes to the leaseholder. Default: 20ms.
	MaxFollowerWait time.Duration
	// Admission configures the load control of transactions begun with
	// Options.LoadControl.
	Admission admission.Options
	// TestingKnobs are for tests and demonstrations only.
	TestingKnobs TestingKnobs
}

// Gateway is a gateway node's transaction coordinator: it implements DB
// over the ranges. Its background work (resolving participants
// after a two-phase commit, rolling back) runs on goroutines it owns; Close
// cancels and waits for them (what they leave undone, participants' recovery
// and the abandoned-transaction sweep finish).
type Gateway struct {
	opts   GatewayOptions
	idBase uint64
	seq    atomic.Uint64
	wg     sync.WaitGroup
	closed atomic.Bool
	// stopCtx is cancelled by Close; background work runs under it.
	stopCtx context.Context
	stop    context.CancelFunc
	live    sync.Map // string(txn id) -> struct{}: open read-write transactions
	admit   *admission.Controller
}

var _ DB = (*Gateway)(nil)

// NewGateway returns a Gateway.
func NewGateway(o GatewayOptions) *Gateway {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.LockTimeout == 0 {
		o.LockTimeout = 5 * time.Second
	}
	if o.MaxFollowerWait == 0 {
		o.MaxFollowerWait = 20 * time.Millisecond
	}
	var b [8]byte
	_, _ = rand.Read(b[:])
	ctx, cancel := context.WithCancel(context.Background())
	return &Gateway{opts: o, idBase: binary.LittleEndian.Uint64(b[:]), stopCtx: ctx, stop: cancel, admit: admission.New(o.Admission)}
}

// Admission returns the state of the gateway's load control.
func (db *Gateway) Admission() admission.Metrics { return db.admit.Metrics() }

// Clock implements txn.DB.
func (db *Gateway) Clock() truetime.Clock { return db.opts.Clock }

// Close cancels the background work of finished transactions and waits
// for it to return.
func (db *Gateway) Close() {
	db.closed.Store(true)
	db.stop()
	db.wg.Wait()
}

func (db *Gateway) newMeta(priority int64) *txnpb.TxnMeta {
	id := make([]byte, 16)
	binary.BigEndian.PutUint64(id[:8], uint64(db.opts.NodeID))
	binary.BigEndian.PutUint64(id[8:], db.idBase+db.seq.Add(1))
	if priority == 0 {
		priority = int64(db.opts.Clock.Now().Latest)
	}
	return &txnpb.TxnMeta{Id: id, Priority: priority, GatewayNode: uint64(db.opts.NodeID)}
}

// Begin implements txn.DB.
func (db *Gateway) Begin(ctx context.Context, o Options) (Txn, error) {
	if o.LockTimeout == 0 {
		o.LockTimeout = db.opts.LockTimeout
	}
	switch o.Mode {
	case ReadWrite:
		t := &rwTxn{db: db, meta: db.newMeta(o.Priority), opts: o, start: mark(),
			writes: map[string]*txnpb.Write{}, parts: map[replication.RangeID]*participant{}}
		db.register(t.meta.Id)
		return t, nil
	case ReadOnly:
		return db.readOnly(o, db.opts.Clock.Now().Latest, true), nil
	case Stale:
		ts := o.ReadTimestamp
		if ts == 0 {
			if o.MaxStaleness <= 0 {
				return nil, errors.New("txn: a stale transaction needs a read timestamp or a maximum staleness")
			}
			ts = db.opts.Clock.Now().Latest - truetime.Timestamp(o.MaxStaleness)
		}
		if now := db.opts.Clock.Now(); ts > now.Latest {
			return nil, fmt.Errorf("txn: stale read timestamp %v lies in the future (now %v)", ts, now)
		}
		return db.readOnly(o, ts, false), nil
	}
	return nil, fmt.Errorf("txn: unknown mode %d", o.Mode)
}

// background runs fn on a goroutine the DB owns.
func (db *Gateway) background(fn func(ctx context.Context)) {
	db.wg.Add(1)
	go func() {
		defer db.wg.Done()
		ctx, cancel := context.WithTimeout(db.stopCtx, 30*time.Second)
		defer cancel()
		fn(ctx)
	}()
}

func routeOpts() ranges.SendOptions { return ranges.SendOptions{} }

// atMostOnce reports whether a request must not be retried once it may have
// run: a commit or prepare that writes would write again at a later
// timestamp.
func atMostOnce(in proto.Message) bool {
	switch r := in.(type) {
	case *txnpb.CommitRequest:
		return !r.ReadOnly
	case *txnpb.PrepareRequest:
		return !r.LockOnly
	}
	return false
}

// call sends one transaction request to the range holding key and decodes
// the response into out, updating the ledger.
func (db *Gateway) call(ctx context.Context, key []byte, method string, in, out proto.Message, l *Ledger, txnID []byte) (*replication.RangeDescriptor, *txnpb.Timings, error) {
	payload, err := proto.Marshal(in)
	if err != nil {
		return nil, nil, err
	}
	req := &kvpb.Request{Value: &kvpb.Request_Txn{Txn: &kvpb.TxnRequest{Method: method, Payload: payload}}}
	start := truetime.Mono()
	o := routeOpts()
	o.AtMostOnce = atMostOnce(in)
	res, err := db.opts.Router.Send(ctx, key, o, []*kvpb.Request{req})
	el := truetime.Mono() - start
	if l != nil {
		l.RetryTime += res.Waited
	}
	if err != nil {
		if l != nil {
			l.Network += el - res.Waited
		}
		return res.Desc, nil, fromWire(err, txnID)
	}
	if err := proto.Unmarshal(res.Resp.Responses[0].GetTxn().GetPayload(), out); err != nil {
		return nil, nil, fmt.Errorf("decoding %s response: %w", method, err)
	}
	tm := timingsOf(out)
	if l != nil {
		l.add(el-res.Waited, tm)
	}
	return res.Desc, tm, nil
}

func timingsOf(m proto.Message) *txnpb.Timings {
	switch v := m.(type) {
	case *txnpb.LockReadResponse:
		return v.Timings
	case *txnpb.LockScanResponse:
		return v.Timings
	case *txnpb.CommitResponse:
		return v.Timings
	case *txnpb.PrepareResponse:
		return v.Timings
	case *txnpb.ResolveResponse:
		return v.Timings
	}
	return nil
}

// add charges a request's time: what the leaseholder measured to its
// items, the rest to the network.
func (l *Ledger) add(total time.Duration, tm *txnpb.Timings) {
	if tm == nil {
		l.Network += total
		return
	}
	lw, rf, cw, sw := time.Duration(tm.LockWaitNanos), time.Duration(tm.RaftNanos), time.Duration(tm.CommitWaitNanos), time.Duration(tm.SafeTimeWaitNanos)
	l.LockWait += lw
	l.Raft += rf
	l.CommitWait += cw
	l.SafeTimeWait += sw
	if rest := total - lw - rf - cw - sw; rest > 0 {
		l.Network += rest
	}
}
