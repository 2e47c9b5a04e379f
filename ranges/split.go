package ranges

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/meridiandb/meridian/replication"
	"github.com/meridiandb/meridian/storage"
)

// SplitOptions configure size- and load-based splitting.
type SplitOptions struct {
	// MaxBytes: a range whose data grows past it splits in the middle.
	// Default: 64 MiB.
	MaxBytes int64
	// MaxQPS: a range receiving more requests per second than this over a
	// LoadWindow splits at the median of its sampled keys. Default: 0 (off).
	MaxQPS float64
	// LoadWindow over which load is measured. Default: 10s.
	LoadWindow time.Duration
}

// Splitter splits ranges this node leads: by size, by load and on demand.
// A split is one raft command on the range (both descriptors at once),
// followed by the meta update; leaseholders repair meta entries left stale
// by a crash in between (RepairMeta), and stale routing is corrected by
// RangeKeyMismatch errors meanwhile.
type Splitter struct {
	store  *replication.Store
	router *Router
	load   *LoadTracker
	opts   SplitOptions
	logger *slog.Logger
}

// NewSplitter returns a splitter.
func NewSplitter(s *replication.Store, r *Router, load *LoadTracker, o SplitOptions, logger *slog.Logger) *Splitter {
	if o.MaxBytes == 0 {
		o.MaxBytes = 64 << 20
	}
	if o.LoadWindow == 0 {
		o.LoadWindow = 10 * time.Second
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Splitter{store: s, router: r, load: load, opts: o, logger: logger}
}

// Split splits the range r (whose leaseholder this node must be) at key.
func (s *Splitter) Split(ctx context.Context, r *replication.Replica, key []byte) (left, right *replication.RangeDescriptor, err error) {
	if r.RangeID() == MetaRangeID {
		return nil, nil, fmt.Errorf("the meta range r%d does not split", MetaRangeID)
	}
	desc := r.Desc()
	if desc == nil {
		return nil, nil, fmt.Errorf("r%d cannot split at %s: not initialized", r.RangeID(), storage.PrettyKey(key))
	}
	if !replication.ContainsKey(desc, key) || bytes.Equal(key, desc.StartKey) {
		// Another split got there first (splits for placement rules run
		// concurrently): the router retries where the key is now.
		return nil, nil, &replication.RangeKeyMismatchError{RangeID: r.RangeID(), Start: key, End: key, Desc: desc}
	}
	id, err := s.router.Increment(ctx, KeyRangeIDCounter, 1)
	if err != nil {
		return nil, nil, fmt.Errorf("allocating a range id: %w", err)
	}
	left, right, err = r.Split(ctx, key, replication.RangeID(id))
	if err != nil {
		return nil, nil, err
	}
	if err := s.router.UpdateMeta(ctx, left, right); err != nil {
		// The range split; its leaseholders repair meta shortly.
		s.logger.Warn("meta update after split failed", "left", replication.DescribeRange(left), "err", err)
	}
	s.router.Cache.Insert(left, right)
	s.logger.Info("split range", "left", replication.DescribeRange(left), "right", replication.DescribeRange(right))
	return left, right, nil
}

// MaybeSplit splits r if it grew too large or too busy.
func (s *Splitter) MaybeSplit(ctx context.Context, r *replication.Replica) error {
	if r.RangeID() == MetaRangeID || !r.Status().IsLeader {
		return nil
	}
	size, err := r.ApproxBytes()
	if err != nil {
		return err
	}
	var key []byte
	if size > s.opts.MaxBytes {
		if key, err = r.SplitKey(); err != nil {
			return err
		}
	} else if s.opts.MaxQPS > 0 {
		qps, median, ok := s.load.Roll(r.RangeID(), s.opts.LoadWindow)
		if ok && qps > s.opts.MaxQPS {
			key = median
		}
	}
	if key == nil {
		return nil
	}
	if d := r.Desc(); d == nil || !replication.ContainsKey(d, key) || bytes.Equal(key, d.StartKey) {
		return nil
	}
	_, _, err = s.Split(ctx, r, key)
	return err
}
