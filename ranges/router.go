package ranges

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/meridiandb/meridian/kv/kvpb"
	"github.com/meridiandb/meridian/replication"
	"github.com/meridiandb/meridian/storage"
	"github.com/meridiandb/meridian/truetime"
)

// MethodBatch is the transport method carrying a kvpb.BatchRequest.
const MethodBatch = "kv.batch"

// Caller sends a request to a node; replication.Transport is one.
type Caller interface {
	Call(ctx context.Context, to replication.NodeID, method string, payload []byte) ([]byte, error)
}

// Directory tells the router about the cluster.
type Directory interface {
	// MetaRange returns the best known descriptor of the meta range.
	MetaRange() *replication.RangeDescriptor
	// NodeLive reports whether a node is believed up.
	NodeLive(replication.NodeID) bool
	// Distance orders nodes by how far they are from this one (0: self,
	// 1: same zone, 2: same region, 3: another region).
	Distance(replication.NodeID) int
}

// RouterOptions configure a Router.
type RouterOptions struct {
	NodeID    replication.NodeID
	Caller    Caller
	Directory Directory
	// Local serves batches addressed to this node without a network hop.
	Local  func(ctx context.Context, ba *kvpb.BatchRequest) (*kvpb.BatchResponse, error)
	Logger *slog.Logger
	// Parallelism bounds the ranges a multi-range scan reads at once.
	// Default: 16.
	Parallelism int
}

// Router is a gateway's client of the ranges: it finds the range holding a
// key (range cache, then the meta range), sends requests to its
// leaseholder (or the nearest replica for follower reads), and on routing
// errors updates the cache and retries with backoff, so callers never see
// a split or a lease move. Safe for concurrent use.
type Router struct {
	opts  RouterOptions
	Cache RangeCache
	rngMu sync.Mutex
	rng   *rand.Rand
}

// NewRouter returns a router.
func NewRouter(opts RouterOptions) *Router {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Parallelism == 0 {
		opts.Parallelism = 16
	}
	return &Router{opts: opts, rng: rand.New(rand.NewPCG(uint64(opts.NodeID), 17))}
}

// SendOptions modify how a batch is routed.
type SendOptions struct {
	// ReadTS, if set, is the timestamp reads see.
	ReadTS truetime.Timestamp
	// Follower lets the nearest replica whose safe time passed ReadTS
	// serve the reads; otherwise (or if it is behind) the leaseholder does.
	Follower bool
	// MaxFollowerWait bounds a follower's wait for safe time. Default: 20ms.
	MaxFollowerWait time.Duration
	// Fresh, with Follower, says ReadTS is the present rather than a stale
	// timestamp: the leaseholder is preferred if it is in this region.
	Fresh bool
	// AtMostOnce marks requests that must not run twice (a commit): if a
	// call's answer is lost after it may have run, Send returns an error
	// wrapping replication.ErrAmbiguousResult instead of retrying.
	AtMostOnce bool
}

// Result is a batch's response with where it was served.
type Result struct {
	Resp *kvpb.BatchResponse
	Desc *replication.RangeDescriptor
	// Retries counts routing retries; Waited sums their backoff.
	Retries int
	Waited  time.Duration
}

// ErrRangeUnavailable: no replica could serve the request before the
// context ended.
var ErrRangeUnavailable = errors.New("range unavailable")

// Send sends reqs (all for keys of one range) to the range holding key and
// returns its response. Errors other than routing errors (e.g. transaction
// errors) come back as *RemoteError.
func (r *Router) Send(ctx context.Context, key []byte, o SendOptions, reqs []*kvpb.Request) (Result, error) {
	var res Result
	backoff := 5 * time.Millisecond
	tried := map[replication.ReplicaID]bool{}
	follower := o.Follower && o.ReadTS != 0
	var lastErr error
	for {
		if err := ctx.Err(); err != nil {
			if lastErr != nil {
				return res, fmt.Errorf("%w: %s: %v (last error: %v)", ErrRangeUnavailable, storage.PrettyKey(key), err, lastErr)
			}
			return res, err
		}
		entry, err := r.lookup(ctx, key)
		if err != nil {
			lastErr = err
			if !r.wait(ctx, &backoff, &res) {
				continue
			}
			continue
		}
		res.Desc = entry.Desc
		target := r.pickReplica(entry, follower, o.Fresh, tried)
		if target == nil {
			// Every replica was tried: start over after a pause.
			tried = map[replication.ReplicaID]bool{}
			r.wait(ctx, &backoff, &res)
			continue
		}
		h := &kvpb.Header{RangeId: entry.Desc.RangeId, ReadTs: int64(o.ReadTS), GatewayNode: uint64(r.opts.NodeID)}
		if follower {
			h.ReadMode = kvpb.ReadMode_FOLLOWER
			h.MaxFollowerWaitNanos = int64(o.MaxFollowerWait)
			if h.MaxFollowerWaitNanos == 0 {
				h.MaxFollowerWaitNanos = int64(20 * time.Millisecond)
			}
		}
		br, err := r.call(ctx, replication.NodeID(target.NodeId), &kvpb.BatchRequest{Header: h, Requests: reqs})
		if err != nil {
			if o.AtMostOnce && errors.Is(err, replication.ErrResponseLost) {
				r.Cache.SetLeaseholder(replication.RangeID(entry.Desc.RangeId), nil)
				return res, fmt.Errorf("%w: %v", replication.ErrAmbiguousResult, err)
			}
			// Unreachable: try another replica.
			lastErr = err
			tried[replication.ReplicaID(target.ReplicaId)] = true
			if entry.Leaseholder != nil && entry.Leaseholder.ReplicaId == target.ReplicaId {
				r.Cache.SetLeaseholder(replication.RangeID(entry.Desc.RangeId), nil)
			}
			r.wait(ctx, &backoff, &res)
			continue
		}
		if br.Error == nil {
			if !follower {
				r.Cache.SetLeaseholder(replication.RangeID(entry.Desc.RangeId), target)
			}
			res.Resp = br
			return res, nil
		}
		werr := br.Error
		lastErr = FromWireError(werr)
		switch d := werr.Detail.(type) {
		case *kvpb.Error_NotLeaseholder:
			tried[replication.ReplicaID(target.ReplicaId)] = true
			if nd := d.NotLeaseholder.Desc; nd != nil && nd.Generation > entry.Desc.Generation {
				r.Cache.Insert(nd)
			}
			if d.NotLeaseholder.Hint != nil && !tried[replication.ReplicaID(d.NotLeaseholder.Hint.ReplicaId)] {
				r.Cache.SetLeaseholder(replication.RangeID(entry.Desc.RangeId), d.NotLeaseholder.Hint)
				res.Retries++
				continue
			}
			r.Cache.SetLeaseholder(replication.RangeID(entry.Desc.RangeId), nil)
			r.wait(ctx, &backoff, &res)
		case *kvpb.Error_Mismatch:
			if cur := d.Mismatch.Current; cur != nil && cur.RangeId == entry.Desc.RangeId &&
				cur.Generation == entry.Desc.Generation && replication.ContainsKey(cur, key) {
				// Routed right by the current descriptor, yet refused: the
				// request itself reaches outside the range.
				return res, &OutsideRangeError{Key: key, Desc: cur, Err: lastErr}
			}
			r.Cache.Evict(replication.RangeID(entry.Desc.RangeId))
			r.Cache.Insert(d.Mismatch.Current)
			r.Cache.Insert(d.Mismatch.Suggested...)
			tried = map[replication.ReplicaID]bool{}
			res.Retries++
		case *kvpb.Error_RangeNotFound:
			tried[replication.ReplicaID(target.ReplicaId)] = true
			if len(tried) >= len(entry.Desc.Replicas) {
				r.Cache.Evict(replication.RangeID(entry.Desc.RangeId))
				tried = map[replication.ReplicaID]bool{}
			}
			r.wait(ctx, &backoff, &res)
		case *kvpb.Error_FollowerBehind:
			follower = false
			res.Retries++
		default:
			return res, lastErr
		}
	}
}

// wait sleeps for the backoff (doubling it, up to 500ms) unless ctx ends;
// it reports whether it slept the whole time.
func (r *Router) wait(ctx context.Context, backoff *time.Duration, res *Result) bool {
	d := *backoff
	*backoff = min(2**backoff, 500*time.Millisecond)
	res.Retries++
	res.Waited += d
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// pickReplica chooses where to send: for follower reads the nearest live
// replica, otherwise the known leaseholder, else a live replica not tried.
func (r *Router) pickReplica(e *CacheEntry, follower, fresh bool, tried map[replication.ReplicaID]bool) *replication.ReplicaDescriptor {
	if lh := e.Leaseholder; lh != nil && !tried[replication.ReplicaID(lh.ReplicaId)] {
		if !follower {
			return lh
		}
		// A fresh read waits for safe time at a follower (up to a closed
		// timestamp interval), not at the leaseholder: within the region
		// the leaseholder is nearer in time.
		if fresh && r.opts.Directory.Distance(replication.NodeID(lh.NodeId)) < 3 && r.opts.Directory.NodeLive(replication.NodeID(lh.NodeId)) {
			return lh
		}
	}
	var best *replication.ReplicaDescriptor
	bestDist := 1 << 30
	for _, rd := range e.Desc.Replicas {
		if tried[replication.ReplicaID(rd.ReplicaId)] {
			continue
		}
		d := r.opts.Directory.Distance(replication.NodeID(rd.NodeId))
		if !r.opts.Directory.NodeLive(replication.NodeID(rd.NodeId)) {
			d += 100
		}
		if rd.Type != 0 && !follower {
			d += 50 // learners cannot lead
		}
		if d < bestDist {
			best, bestDist = rd, d
		}
	}
	return best
}

func (r *Router) call(ctx context.Context, node replication.NodeID, ba *kvpb.BatchRequest) (*kvpb.BatchResponse, error) {
	if node == r.opts.NodeID && r.opts.Local != nil {
		return r.opts.Local(ctx, ba)
	}
	payload, err := proto.Marshal(ba)
	if err != nil {
		return nil, err
	}
	out, err := r.opts.Caller.Call(ctx, node, MethodBatch, payload)
	if err != nil {
		return nil, err
	}
	br := &kvpb.BatchResponse{}
	if err := proto.Unmarshal(out, br); err != nil {
		return nil, fmt.Errorf("decoding response from n%d: %w", node, err)
	}
	return br, nil
}

// lookup returns the cached range holding key, reading the meta range on a
// miss.
func (r *Router) lookup(ctx context.Context, key []byte) (*CacheEntry, error) {
	if e := r.Cache.Lookup(key); e != nil {
		return e, nil
	}
	if IsMetaKey(key) || bytes.Compare(key, SystemMax) < 0 {
		meta := r.opts.Directory.MetaRange()
		if meta == nil {
			return nil, fmt.Errorf("the meta range is not known yet")
		}
		r.Cache.Insert(meta)
		return r.Cache.Lookup(key), nil
	}
	desc, err := r.metaLookup(ctx, key)
	if err != nil {
		return nil, err
	}
	r.Cache.Insert(desc)
	e := r.Cache.Lookup(key)
	if e == nil {
		return nil, fmt.Errorf("meta entry %s does not hold %s", replication.DescribeRange(desc), storage.PrettyKey(key))
	}
	return e, nil
}

// metaLookup reads the meta entry of the range holding key.
func (r *Router) metaLookup(ctx context.Context, key []byte) (*replication.RangeDescriptor, error) {
	scan := &kvpb.Request{Value: &kvpb.Request_Scan{Scan: &kvpb.ScanRequest{
		StartKey: metaLookupStart(key), EndKey: MetaMax, MaxRows: 1,
	}}}
	res, err := r.Send(ctx, MetaMin, SendOptions{}, []*kvpb.Request{scan})
	if err != nil {
		return nil, fmt.Errorf("looking up %s in the meta range: %w", storage.PrettyKey(key), err)
	}
	rows := res.Resp.Responses[0].GetScan().Rows
	if len(rows) == 0 {
		return nil, fmt.Errorf("no meta entry holds %s", storage.PrettyKey(key))
	}
	d := &replication.RangeDescriptor{}
	if err := unmarshalDesc(rows[0].Value, d); err != nil {
		return nil, err
	}
	if !replication.ContainsKey(d, key) {
		return nil, fmt.Errorf("meta entry %s does not hold %s (meta is being repaired)", replication.DescribeRange(d), storage.PrettyKey(key))
	}
	return d, nil
}

// Descriptors returns the ranges covering [start, end), in order, from the
// cache and the meta range.
func (r *Router) Descriptors(ctx context.Context, start, end []byte) ([]*replication.RangeDescriptor, error) {
	var out []*replication.RangeDescriptor
	for bytes.Compare(start, end) < 0 {
		e, err := r.Lookup(ctx, start)
		if err != nil {
			return nil, err
		}
		out = append(out, e.Desc)
		start = e.Desc.EndKey
	}
	return out, nil
}

// Lookup returns the range (as cached, or read from the meta range) holding
// key. While the meta range lags behind a split (it answers with a range
// older than one the cache knows) it asks again with backoff, for up to
// lookupPatience, as Send does.
func (r *Router) Lookup(ctx context.Context, key []byte) (*CacheEntry, error) {
	backoff := 5 * time.Millisecond
	deadline := truetime.Mono() + lookupPatience
	var res Result
	for {
		e, err := r.lookup(ctx, key)
		if err == nil {
			return e, nil
		}
		if truetime.Mono() > deadline || !r.wait(ctx, &backoff, &res) {
			return nil, fmt.Errorf("%w: %v", ErrRangeUnavailable, err)
		}
	}
}

// lookupPatience bounds how long Lookup retries.
const lookupPatience = 10 * time.Second
