package txn

import (
	"context"
	"time"

	"github.com/meridiandb/meridian/kv/kvpb"
	"github.com/meridiandb/meridian/ranges"
	"github.com/meridiandb/meridian/truetime"
)

// roTxn is a read-only transaction at one timestamp: no locks; each read is
// served by the nearest replica whose safe time reached the timestamp (the
// leaseholder if none does within a short wait).
type roTxn struct {
	db     *Gateway
	opts   Options
	ts     truetime.Timestamp
	fresh  bool // a strong read at the present, not a stale one
	start  timeMark
	ledger Ledger
	ranges map[uint64]bool
	done   bool
}

func (db *Gateway) readOnly(o Options, ts truetime.Timestamp, fresh bool) *roTxn {
	return &roTxn{db: db, opts: o, ts: ts, fresh: fresh, start: mark(), ranges: map[uint64]bool{}}
}

func (t *roTxn) ID() string                        { return "ro@" + t.ts.String() }
func (t *roTxn) Mode() Mode                        { return t.opts.Mode }
func (t *roTxn) ReadTimestamp() truetime.Timestamp { return t.ts }

func (t *roTxn) Ledger() Ledger {
	l := t.ledger
	l.Total = t.start.elapsed()
	l.Ranges = len(t.ranges)
	return l
}

func (t *roTxn) send(ctx context.Context, key []byte, req *kvpb.Request) (*kvpb.Response, error) {
	if t.done {
		return nil, ErrFinished
	}
	start := truetime.Mono()
	res, err := t.db.opts.Router.Send(ctx, key, ranges.SendOptions{ReadTS: t.ts, Follower: true, Fresh: t.fresh, MaxFollowerWait: t.db.opts.MaxFollowerWait}, []*kvpb.Request{req})
	el := truetime.Mono() - start
	t.ledger.RetryTime += res.Waited
	if res.Retries > 0 {
		t.ledger.Retries += res.Retries
	}
	if err != nil {
		t.ledger.Network += el
		return nil, err
	}
	sw := time.Duration(res.Resp.SafeTimeWaitNanos)
	t.ledger.SafeTimeWait += sw
	if rest := el - sw - res.Waited; rest > 0 {
		t.ledger.Network += rest
	}
	if res.Desc != nil {
		t.ranges[res.Desc.RangeId] = true
	}
	return res.Resp.Responses[0], nil
}

// Get implements Txn.
func (t *roTxn) Get(ctx context.Context, key []byte, _ ReadOptions) ([]byte, bool, error) {
	resp, err := t.send(ctx, key, &kvpb.Request{Value: &kvpb.Request_Get{Get: &kvpb.GetRequest{Key: key}}})
	if err != nil {
		return nil, false, err
	}
	g := resp.GetGet()
	return g.Value, g.Found, nil
}

// Scan implements Txn.
func (t *roTxn) Scan(ctx context.Context, span Span, o ScanOptions) (ScanResult, error) {
	fetch := func(ctx context.Context, cur Span, limit int) ([]KeyValue, *Span, error) {
		route := cur.Key
		if o.Reverse {
			route = t.db.reverseRouteKey(ctx, cur)
		}
		resp, err := t.send(ctx, route, &kvpb.Request{Value: &kvpb.Request_Scan{Scan: &kvpb.ScanRequest{
			StartKey: cur.Key, EndKey: cur.EndKey, MaxRows: int64(max(limit, 0)), Reverse: o.Reverse}}})
		if err != nil {
			return nil, nil, err
		}
		s := resp.GetScan()
		rows := make([]KeyValue, 0, len(s.Rows))
		for _, kv := range s.Rows {
			rows = append(rows, KeyValue{Key: kv.Key, Value: kv.Value})
		}
		var next *Span
		if len(s.ResumeKey) > 0 {
			if o.Reverse {
				next = &Span{Key: cur.Key, EndKey: s.ResumeKey}
			} else {
				next = &Span{Key: s.ResumeKey, EndKey: cur.EndKey}
			}
		}
		return rows, next, nil
	}
	return mergeScan(ctx, span, o, nil, fetch)
}

// Put implements Txn.
func (t *roTxn) Put(context.Context, []byte, []byte) error { return ErrReadOnly }

// Delete implements Txn.
func (t *roTxn) Delete(context.Context, []byte) error { return ErrReadOnly }

// Commit implements Txn: it returns the read timestamp.
func (t *roTxn) Commit(context.Context) (truetime.Timestamp, error) {
	if t.done {
		return 0, ErrFinished
	}
	t.done = true
	return t.ts, nil
}

// Rollback implements Txn.
func (t *roTxn) Rollback(context.Context) error {
	t.done = true
	return nil
}

// timeMark measures elapsed time on the monotonic clock.
type timeMark time.Duration

func mark() timeMark { return timeMark(truetime.Mono()) }

func (m timeMark) elapsed() time.Duration { return truetime.Mono() - time.Duration(m) }

// reverseRouteKey returns a key of the last range of a span, to send a
// reverse scan of the span to.
func (db *Gateway) reverseRouteKey(ctx context.Context, s Span) []byte {
	descs, err := db.opts.Router.Descriptors(ctx, s.Key, s.EndKey)
	if err != nil || len(descs) == 0 {
		return s.Key
	}
	last := descs[len(descs)-1]
	if string(last.StartKey) > string(s.Key) {
		return last.StartKey
	}
	return s.Key
}
