package ranges

import (
	"bytes"
	"context"
	"fmt"
	"sync"

	"github.com/meridiandb/meridian/kv/kvpb"
	"github.com/meridiandb/meridian/replication"
	"github.com/meridiandb/meridian/storage"
	"github.com/meridiandb/meridian/truetime"
)

// Plain, non-transactional key-value operations through the router: every
// one is linearizable on its own (reads at the leaseholder see every
// acknowledged write; writes commit-wait).

// Get reads key.
func (r *Router) Get(ctx context.Context, key []byte) (value []byte, found bool, err error) {
	res, err := r.Send(ctx, key, SendOptions{}, []*kvpb.Request{{Value: &kvpb.Request_Get{Get: &kvpb.GetRequest{Key: key}}}})
	if err != nil {
		return nil, false, err
	}
	g := res.Resp.Responses[0].GetGet()
	return g.Value, g.Found, nil
}

// Put writes key and returns the write's timestamp.
func (r *Router) Put(ctx context.Context, key, value []byte) (truetime.Timestamp, error) {
	res, err := r.Send(ctx, key, SendOptions{}, []*kvpb.Request{{Value: &kvpb.Request_Put{Put: &kvpb.PutRequest{Key: key, Value: value}}}})
	if err != nil {
		return 0, err
	}
	return truetime.Timestamp(res.Resp.Responses[0].GetPut().Timestamp), nil
}

// Delete deletes key.
func (r *Router) Delete(ctx context.Context, key []byte) error {
	_, err := r.Send(ctx, key, SendOptions{}, []*kvpb.Request{{Value: &kvpb.Request_Delete{Delete: &kvpb.DeleteRequest{Key: key}}}})
	return err
}

// Increment adds delta to the counter at key and returns the new value.
func (r *Router) Increment(ctx context.Context, key []byte, delta int64) (int64, error) {
	res, err := r.Send(ctx, key, SendOptions{}, []*kvpb.Request{{Value: &kvpb.Request_Increment{Increment: &kvpb.IncrementRequest{Key: key, Delta: delta}}}})
	if err != nil {
		return 0, err
	}
	return res.Resp.Responses[0].GetIncrement().Value, nil
}

// UpdateMeta records descriptors in the meta range.
func (r *Router) UpdateMeta(ctx context.Context, descs ...*replication.RangeDescriptor) error {
	_, err := r.Send(ctx, MetaMin, SendOptions{}, []*kvpb.Request{{Value: &kvpb.Request_UpdateMeta{UpdateMeta: &kvpb.UpdateMetaRequest{Descs: descs}}}})
	return err
}

// KeyValue is a row a scan returned.
type KeyValue = kvpb.KeyValue

// Scan reads [start, end) at the present (or at o.ReadTS), across ranges:
// with maxRows 0 the ranges are read in parallel, otherwise one after the
// other until maxRows rows came back.
func (r *Router) Scan(ctx context.Context, start, end []byte, maxRows int, o SendOptions) ([]*KeyValue, error) {
	if maxRows > 0 {
		var out []*KeyValue
		for bytes.Compare(start, end) < 0 && len(out) < maxRows {
			rows, next, err := r.scanRange(ctx, start, end, maxRows-len(out), o)
			if err != nil {
				return nil, err
			}
			if err := progressed(start, next); err != nil {
				return nil, err
			}
			out = append(out, rows...)
			start = next
		}
		return out, nil
	}
	descs, err := r.Descriptors(ctx, start, end)
	if err != nil {
		return nil, err
	}
	parts := make([][]*KeyValue, len(descs))
	errs := make([]error, len(descs))
	sem := make(chan struct{}, r.opts.Parallelism)
	var wg sync.WaitGroup
	for i, d := range descs {
		s, e := clip(start, end, d)
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			for bytes.Compare(s, e) < 0 {
				rows, next, err := r.scanRange(ctx, s, e, 0, o)
				if err == nil {
					err = progressed(s, next)
				}
				if err != nil {
					errs[i] = err
					return
				}
				parts[i] = append(parts[i], rows...)
				s = next
			}
		}()
	}
	wg.Wait()
	var out []*KeyValue
	for i := range descs {
		if errs[i] != nil {
			return nil, errs[i]
		}
		out = append(out, parts[i]...)
	}
	return out, nil
}

// progressed fails a scan whose range answered with a resume key that does
// not move past where it began (it would loop).
func progressed(start, next []byte) error {
	if bytes.Compare(next, start) <= 0 {
		return fmt.Errorf("scan at %s made no progress (resume key %s)", storage.PrettyKey(start), storage.PrettyKey(next))
	}
	return nil
}

// scanRange scans the part of [start, end) inside the range holding start
// and returns where the rest begins.
func (r *Router) scanRange(ctx context.Context, start, end []byte, maxRows int, o SendOptions) ([]*KeyValue, []byte, error) {
	req := &kvpb.Request{Value: &kvpb.Request_Scan{Scan: &kvpb.ScanRequest{StartKey: start, EndKey: end, MaxRows: int64(maxRows)}}}
	res, err := r.Send(ctx, start, o, []*kvpb.Request{req})
	if err != nil {
		return nil, nil, err
	}
	s := res.Resp.Responses[0].GetScan()
	if s == nil {
		return nil, nil, fmt.Errorf("scan of %q got no scan response", start)
	}
	next := end
	if len(s.ResumeKey) > 0 {
		next = s.ResumeKey
	}
	return s.Rows, next, nil
}

// AdminSplit splits the range holding key at key (nothing happens if a
// range already starts there).
func (r *Router) AdminSplit(ctx context.Context, key []byte) error {
	if e, err := r.lookup(ctx, key); err == nil && bytes.Equal(e.Desc.StartKey, key) {
		return nil
	}
	res, err := r.Send(ctx, key, SendOptions{}, []*kvpb.Request{{Value: &kvpb.Request_AdminSplit{AdminSplit: &kvpb.AdminSplitRequest{Key: key}}}})
	if err != nil {
		return err
	}
	s := res.Resp.Responses[0].GetAdminSplit()
	r.Cache.Insert(s.GetLeft(), s.GetRight())
	return nil
}
