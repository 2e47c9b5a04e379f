package catalog

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/meridiandb/meridian/sql/rowcodec"
	"github.com/meridiandb/meridian/sql/types"
	"github.com/meridiandb/meridian/truetime"
	"github.com/meridiandb/meridian/txn"
)

// Options configure a Manager's schema leases (see doc.go).
type Options struct {
	// Duration is how long a lease lasts past the renewal that granted it.
	// It bounds how long a schema change waits for a node that stopped
	// answering. Default: 10s.
	Duration time.Duration
	// PollInterval is how often a started Manager looks for a new schema
	// version (and acknowledges it), and how often a schema change looks
	// at the lease records while it waits. Default: 50ms.
	PollInterval time.Duration
	// CommitMargin: a transaction commits under a lease only if the lease
	// outlives the present by at least this much, the time its commit has
	// to get a timestamp (without a transaction layer that enforces a
	// commit deadline, see Deadliner). Default: Duration/5.
	CommitMargin time.Duration
	// Logger reports lease loop failures. Default: discard.
	Logger *slog.Logger
}

func (o *Options) setDefaults() {
	if o.Duration <= 0 {
		o.Duration = 10 * time.Second
	}
	if o.PollInterval <= 0 {
		o.PollInterval = 50 * time.Millisecond
	}
	if o.CommitMargin <= 0 {
		o.CommitMargin = o.Duration / 5
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
}

// Deadliner is implemented by transactions that can be told the latest
// timestamp they may commit at: a commit that would get a later timestamp
// fails with a retryable error and no effects. With it a schema lease
// bounds commit timestamps exactly; without it the SQL layer checks the
// lease before committing and relies on Options.CommitMargin.
type Deadliner = txn.Deadliner

// Lease is a node's right to use one schema version until its expiry.
// Transactions acquire it (Manager.Acquire) before they start and
// release it when they end.
type Lease struct {
	snap   *Snapshot
	expiry atomic.Int64 // truetime.Timestamp; raised by renewals while the version is current
	refs   atomic.Int64
}

// Snapshot returns the catalog at the lease's version.
func (l *Lease) Snapshot() *Snapshot { return l.snap }

// Expiry returns the timestamp the lease ends at: no transaction using
// it may commit at or after it.
func (l *Lease) Expiry() truetime.Timestamp { return truetime.Timestamp(l.expiry.Load()) }

// ErrLeaseExpired is returned (wrapped in a txn.RetryableError) when a
// transaction's schema lease ran out before it could commit.
var ErrLeaseExpired = errors.New("schema lease expired")

// CheckCommit returns a retryable error unless a transaction using the
// lease may start committing now (the lease outlives now by the commit
// margin); if tx is a Deadliner it is given the lease's expiry.
func (m *Manager) CheckCommit(l *Lease, tx txn.Txn) error {
	exp := l.Expiry()
	if d, ok := tx.(Deadliner); ok {
		d.SetDeadline(exp - 1)
	}
	if now := m.clock.Now().Latest; now+truetime.Timestamp(m.opts.CommitMargin) >= exp {
		return &txn.RetryableError{Txn: tx.ID(), Reason: fmt.Sprintf("%v: the lease on schema version %d ends at %v, now %v",
			ErrLeaseExpired, l.snap.Version, exp, now)}
	}
	return nil
}

// leaseRecord is one node's row in the lease table: no transaction of the
// node commits under a version below MinVersion, nor at or after Expiry
// under any version.
type leaseRecord struct {
	MinVersion uint64
	Expiry     truetime.Timestamp
}

func (r leaseRecord) encode() []byte {
	b := binary.BigEndian.AppendUint64(nil, r.MinVersion)
	return binary.BigEndian.AppendUint64(b, uint64(r.Expiry))
}

func decodeLeaseRecord(b []byte) (leaseRecord, error) {
	if len(b) != 16 {
		return leaseRecord{}, fmt.Errorf("catalog: bad lease record %x", b)
	}
	return leaseRecord{MinVersion: binary.BigEndian.Uint64(b), Expiry: truetime.Timestamp(binary.BigEndian.Uint64(b[8:]))}, nil
}

var leasePrefix = rowcodec.IndexPrefix(LeaseTableID, 1)

func leaseKey(id uint64) []byte {
	return rowcodec.AppendKey(rowcodec.IndexPrefix(LeaseTableID, 1), types.NewInt(int64(id&(1<<63-1))))
}

func newLeaseID() uint64 {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return binary.LittleEndian.Uint64(b[:]) & (1<<63 - 1)
}

// Acquire returns a lease on the newest schema version this node knows,
// valid for at least the commit margin beyond now, renewing or loading it
// first if needed. The caller must Release it.
func (m *Manager) Acquire(ctx context.Context) (*Lease, error) {
	for attempt := 0; ; attempt++ {
		l := m.cur.Load()
		now := m.clock.Now().Latest
		if l != nil && l.Expiry() > now+2*truetime.Timestamp(m.opts.CommitMargin) {
			l.refs.Add(1)
			if m.cur.Load() == l {
				if l.Expiry()-now < truetime.Timestamp(m.opts.Duration/2) {
					m.poke()
				}
				return l, nil
			}
			l.refs.Add(-1) // replaced meanwhile: take the new one
			continue
		}
		if attempt > 3 {
			return nil, fmt.Errorf("catalog: could not renew the schema lease")
		}
		if err := m.refresh(ctx); err != nil {
			return nil, err
		}
	}
}

// Release ends a transaction's use of a lease.
func (m *Manager) Release(l *Lease) {
	if l != nil {
		l.refs.Add(-1)
	}
}

// Current returns the newest catalog this node holds a lease on, without
// acquiring it (for SHOW, USE, planning hints), loading it if there is
// none.
func (m *Manager) Current(ctx context.Context) (*Snapshot, error) {
	if l := m.cur.Load(); l != nil && l.Expiry() > m.clock.Now().Latest {
		return l.snap, nil
	}
	l, err := m.Acquire(ctx)
	if err != nil {
		return nil, err
	}
	m.Release(l)
	return l.snap, nil
}

func (m *Manager) poke() {
	select {
	case m.pokeCh <- struct{}{}:
	default:
	}
}

// Start runs the lease loop: every PollInterval it looks for a new schema
// version, renews the lease when half of it is gone, and acknowledges new
// versions once the old ones are out of use. Close stops it.
func (m *Manager) Start() {
	m.wg.Add(1)
	go func() {
		defer m.wg.Done()
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		go func() {
			<-m.stop
			cancel()
		}()
		t := time.NewTicker(m.opts.PollInterval)
		defer t.Stop()
		for {
			select {
			case <-m.stop:
				return
			case <-t.C:
			case <-m.pokeCh:
			}
			if err := m.refresh(ctx); err != nil && ctx.Err() == nil {
				m.opts.Logger.Warn("schema lease refresh failed", "err", err)
			}
		}
	}()
}

// Close stops the lease loop (transactions already holding leases go on
// until they expire).
func (m *Manager) Close() {
	m.closeOnce.Do(func() { close(m.stop) })
	m.wg.Wait()
}

// refresh brings the node's leases up to date: it reads the version (a
// lock-free read), and when the version changed, the current lease is
// running out, or older versions went out of use since the record was
// written, it writes the node's lease record in a transaction that reads
// the version under a shared lock, then installs what it wrote.
func (m *Manager) refresh(ctx context.Context) error {
	m.refreshMu.Lock()
	defer m.refreshMu.Unlock()
	cur := m.cur.Load()
	now := m.clock.Now().Latest
	if cur != nil && cur.Expiry()-now > truetime.Timestamp(m.opts.Duration/2) {
		v, err := m.readVersion(ctx)
		if err != nil {
			return err
		}
		if v == cur.snap.Version && m.minInUse(cur) == m.record.MinVersion {
			return nil // nothing to do
		}
	}
	if err := m.writeRecord(ctx); err != nil {
		return err
	}
	// A new version replaced the current lease: if the old one is out of
	// use already, acknowledge at once (the record written above had to
	// cover it, as transactions could take it until the switch).
	if m.minInUse(m.cur.Load()) != m.record.MinVersion {
		return m.writeRecord(ctx)
	}
	return nil
}

// writeRecord writes the node's lease record in a transaction that reads
// the version under a shared lock, then installs the lease it grants:
// the current one extended if the version is unchanged, else a new one
// (the old one drains). Called with refreshMu held.
func (m *Manager) writeRecord(ctx context.Context) error {
	cur := m.cur.Load()
	var (
		snap   *Snapshot
		expiry truetime.Timestamp
		rec    leaseRecord
	)
	err := m.retry(ctx, func(tx txn.Txn) error {
		b, ok, err := tx.Get(ctx, VersionKey, txn.ReadOptions{})
		if err != nil {
			return err
		}
		if !ok {
			return ErrNotBootstrapped
		}
		v, err := decodeUint(b)
		if err != nil {
			return err
		}
		if cur != nil && cur.snap.Version == v {
			snap = cur.snap
		} else if c := m.cache.Load(); c != nil && c.Version == v {
			snap = c
		} else if snap, err = load(ctx, tx, v); err != nil {
			return err
		}
		expiry = m.clock.Now().Latest + truetime.Timestamp(m.opts.Duration)
		rec = leaseRecord{MinVersion: v, Expiry: expiry}
		if cur != nil {
			rec.MinVersion = min(v, m.minInUse(cur))
		}
		return tx.Put(ctx, leaseKey(m.id), rec.encode())
	})
	if err != nil {
		return err
	}
	m.record = rec
	m.storeCache(snap)
	if cur != nil && cur.snap.Version == snap.Version {
		// Still current when the record was written under the lock: the
		// lease extends.
		if int64(expiry) > cur.expiry.Load() {
			cur.expiry.Store(int64(expiry))
		}
		return nil
	}
	l := &Lease{snap: snap}
	l.expiry.Store(int64(expiry))
	if cur != nil {
		m.draining = append(m.draining, cur)
	}
	m.cur.Store(l)
	return nil
}

// minInUse returns the oldest version a transaction of this node may
// still commit under: the current lease's, or an older lease's that is
// still referenced and not expired. It forgets leases out of use.
// Called with refreshMu held.
func (m *Manager) minInUse(cur *Lease) uint64 {
	v := cur.snap.Version
	kept := m.draining[:0]
	for _, l := range m.draining {
		if l.refs.Load() > 0 && !m.clock.After(l.Expiry()) {
			kept = append(kept, l)
			v = min(v, l.snap.Version)
		}
	}
	clear(m.draining[len(kept):])
	m.draining = kept
	return v
}

func (m *Manager) readVersion(ctx context.Context) (uint64, error) {
	tx, err := m.db.Begin(ctx, txn.Options{Mode: txn.ReadOnly})
	if err != nil {
		return 0, err
	}
	defer func() { _ = tx.Rollback(ctx) }()
	b, ok, err := tx.Get(ctx, VersionKey, txn.ReadOptions{})
	if err != nil {
		return 0, err
	}
	if !ok {
		return 0, ErrNotBootstrapped
	}
	return decodeUint(b)
}

// waitDone waits until version v is done: every node's lease record shows
// it uses no version below v any more, or has expired. It keeps this
// node's own record up to date meanwhile (this node acknowledges without
// waiting for its lease loop).
func (m *Manager) waitDone(ctx context.Context, v uint64) error {
	if m.doneVersion.Load() >= v {
		return nil
	}
	var t *time.Timer
	defer func() {
		if t != nil {
			t.Stop()
		}
	}()
	for {
		if err := m.refresh(ctx); err != nil {
			return err
		}
		pending, err := m.pendingLeases(ctx, v)
		if err != nil {
			return err
		}
		if pending == 0 {
			for {
				d := m.doneVersion.Load()
				if d >= v || m.doneVersion.CompareAndSwap(d, v) {
					return nil
				}
			}
		}
		if t == nil {
			t = time.NewTimer(m.opts.PollInterval)
		} else {
			t.Reset(m.opts.PollInterval)
		}
		select {
		case <-t.C:
		case <-ctx.Done():
			return fmt.Errorf("waiting for every node to leave schema version %d: %w", v-1, ctx.Err())
		}
	}
}

// pendingLeases counts the lease records that may still allow commits
// under a version below v.
func (m *Manager) pendingLeases(ctx context.Context, v uint64) (int, error) {
	tx, err := m.db.Begin(ctx, txn.Options{Mode: txn.ReadOnly})
	if err != nil {
		return 0, err
	}
	defer func() { _ = tx.Rollback(ctx) }()
	pending := 0
	err = scanAll(ctx, tx, txn.Span{Key: leasePrefix, EndKey: rowcodec.PrefixEnd(leasePrefix)}, func(kv txn.KeyValue) error {
		r, err := decodeLeaseRecord(kv.Value)
		if err != nil {
			return err
		}
		if r.MinVersion < v && !m.clock.After(r.Expiry) {
			pending++
		}
		return nil
	})
	return pending, err
}
