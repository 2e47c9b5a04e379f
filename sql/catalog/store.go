package catalog

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/meridiandb/meridian/sql/rowcodec"
	"github.com/meridiandb/meridian/sql/types"
	"github.com/meridiandb/meridian/truetime"
	"github.com/meridiandb/meridian/txn"
)

// Snapshot is an immutable view of the whole catalog at one schema version.
type Snapshot struct {
	Version  uint64
	DBs      map[string]*Database // by lower-case name
	Tables   map[uint32]*Table
	Policies map[string]*Policy // by lower-case name
	Users    map[string]*User
	byName   map[string]*Table // lower(db) + "\x00" + lower(table)
	dbByID   map[uint32]*Database
}

// Table returns the table db.name, or nil.
func (s *Snapshot) Table(db, name string) *Table {
	return s.byName[strings.ToLower(db)+"\x00"+strings.ToLower(name)]
}

// Database returns the database named name, or nil.
func (s *Snapshot) Database(name string) *Database { return s.DBs[strings.ToLower(name)] }

// DatabaseByID returns the database with the given ID, or nil.
func (s *Snapshot) DatabaseByID(id uint32) *Database { return s.dbByID[id] }

// TablesIn returns the tables of database db, sorted by name.
func (s *Snapshot) TablesIn(db *Database) []*Table {
	var out []*Table
	for _, t := range s.Tables {
		if t.DBID == db.ID {
			out = append(out, t)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// DatabaseNames returns the sorted database names.
func (s *Snapshot) DatabaseNames() []string {
	var out []string
	for _, d := range s.DBs {
		out = append(out, d.Name)
	}
	sort.Strings(out)
	return out
}

func (s *Snapshot) index() {
	s.byName = map[string]*Table{}
	s.dbByID = map[uint32]*Database{}
	for _, d := range s.DBs {
		s.dbByID[d.ID] = d
	}
	for _, t := range s.Tables {
		if d := s.dbByID[t.DBID]; d != nil {
			s.byName[strings.ToLower(d.Name)+"\x00"+strings.ToLower(t.Name)] = t
		}
	}
}

func descKey(id uint32) []byte {
	return rowcodec.AppendKey(rowcodec.IndexPrefix(DescriptorTableID, 1), types.NewInt(int64(id)))
}

func userKey(name string) []byte {
	return rowcodec.AppendKey(rowcodec.IndexPrefix(UsersTableID, 1), types.NewString(name))
}

// VersionKey is the key of the schema version. Every schema change writes
// it; lease renewals read it under a shared lock (see doc.go).
var VersionKey = rowcodec.IndexPrefix(VersionTableID, 1)

var idGenKey = rowcodec.IndexPrefix(IDGenTableID, 1)

// AutoIncKey is the key of a table's auto-increment counter.
func AutoIncKey(tableID uint32) []byte {
	return rowcodec.AppendKey(rowcodec.IndexPrefix(AutoIncTableID, 1), types.NewInt(int64(tableID)))
}

func encodeUint(u uint64) []byte { return binary.BigEndian.AppendUint64(nil, u) }

func decodeUint(b []byte) (uint64, error) {
	if len(b) != 8 {
		return 0, fmt.Errorf("catalog: bad counter value %x", b)
	}
	return binary.BigEndian.Uint64(b), nil
}

// EncodeCounter and DecodeCounter are the format of counters (schema
// version, ID generator, auto-increment).
func EncodeCounter(u uint64) []byte          { return encodeUint(u) }
func DecodeCounter(b []byte) (uint64, error) { return decodeUint(b) }

// ErrNotBootstrapped is returned when the catalog has no version key.
var ErrNotBootstrapped = fmt.Errorf("catalog: cluster not bootstrapped")

// Manager reads and caches the catalog and holds the node's schema
// leases. One per node; safe for concurrent use.
type Manager struct {
	db    txn.DB
	clock truetime.Clock
	opts  Options
	id    uint64 // the key of this node's lease record
	cache atomic.Pointer[Snapshot]
	// cur is the lease new transactions take.
	cur atomic.Pointer[Lease]
	// doneVersion is the newest version known to be in use everywhere
	// (no node commits under an older one).
	doneVersion atomic.Uint64

	// refreshMu serializes refresh and guards record and draining.
	refreshMu sync.Mutex
	record    leaseRecord // the last one written
	draining  []*Lease    // replaced leases that may still be in use

	pokeCh    chan struct{}
	stop      chan struct{}
	closeOnce sync.Once
	wg        sync.WaitGroup
}

// NewManager returns a Manager reading through db, with default options.
func NewManager(db txn.DB) *Manager { return NewManagerWithOptions(db, Options{}) }

// NewManagerWithOptions returns a Manager reading through db. Start runs
// its lease loop; without it leases are renewed by the transactions that
// need them.
func NewManagerWithOptions(db txn.DB, o Options) *Manager {
	o.setDefaults()
	return &Manager{db: db, clock: db.Clock(), opts: o, id: newLeaseID(),
		pokeCh: make(chan struct{}, 1), stop: make(chan struct{})}
}

// Cached returns the newest snapshot this node has loaded, or nil.
func (m *Manager) Cached() *Snapshot { return m.cache.Load() }

func (m *Manager) storeCache(s *Snapshot) {
	for {
		c := m.cache.Load()
		if c != nil && c.Version >= s.Version {
			return
		}
		if m.cache.CompareAndSwap(c, s) {
			return
		}
	}
}

// Get returns the catalog as transaction tx sees it, reading the version
// key in tx (a read-write tx takes a shared lock on it, held to commit,
// so a schema change cannot commit before tx ends). Transactions that
// hold a lease (Acquire) do not need it; it serves stale reads (the
// version as of their timestamp) and schema-change work (backfills).
func (m *Manager) Get(ctx context.Context, tx txn.Txn) (*Snapshot, error) {
	return m.get(ctx, tx, false)
}

func (m *Manager) get(ctx context.Context, tx txn.Txn, forUpdate bool) (*Snapshot, error) {
	b, ok, err := tx.Get(ctx, VersionKey, txn.ReadOptions{ForUpdate: forUpdate})
	if err != nil {
		return nil, err
	}
	if !ok {
		if tx.Mode() == txn.Stale {
			return nil, fmt.Errorf("catalog: no schema exists as of %s (before the cluster was created)", tx.ReadTimestamp())
		}
		return nil, ErrNotBootstrapped
	}
	v, err := decodeUint(b)
	if err != nil {
		return nil, err
	}
	if c := m.cache.Load(); c != nil && c.Version == v {
		return c, nil
	}
	s, err := load(ctx, tx, v)
	if err != nil {
		return nil, err
	}
	m.storeCache(s)
	return s, nil
}

func scanAll(ctx context.Context, tx txn.Txn, span txn.Span, fn func(kv txn.KeyValue) error) error {
	for {
		res, err := tx.Scan(ctx, span, txn.ScanOptions{MaxRows: 1000})
		if err != nil {
			return err
		}
		for _, kv := range res.Rows {
			if err := fn(kv); err != nil {
				return err
			}
		}
		if res.Resume == nil {
			return nil
		}
		span = *res.Resume
	}
}

func load(ctx context.Context, tx txn.Txn, version uint64) (*Snapshot, error) {
	s := &Snapshot{Version: version, DBs: map[string]*Database{}, Tables: map[uint32]*Table{},
		Policies: map[string]*Policy{}, Users: map[string]*User{}}
	p := rowcodec.IndexPrefix(DescriptorTableID, 1)
	err := scanAll(ctx, tx, txn.Span{Key: p, EndKey: rowcodec.PrefixEnd(p)}, func(kv txn.KeyValue) error {
		var d Descriptor
		if err := json.Unmarshal(kv.Value, &d); err != nil {
			return fmt.Errorf("catalog: descriptor %s: %w", rowcodec.PrettyKey(kv.Key), err)
		}
		switch {
		case d.Database != nil:
			s.DBs[strings.ToLower(d.Database.Name)] = d.Database
		case d.Table != nil:
			s.Tables[d.Table.ID] = d.Table
		case d.Policy != nil:
			s.Policies[strings.ToLower(d.Policy.Name)] = d.Policy
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	p = rowcodec.IndexPrefix(UsersTableID, 1)
	err = scanAll(ctx, tx, txn.Span{Key: p, EndKey: rowcodec.PrefixEnd(p)}, func(kv txn.KeyValue) error {
		var u User
		if err := json.Unmarshal(kv.Value, &u); err != nil {
			return fmt.Errorf("catalog: user %s: %w", rowcodec.PrettyKey(kv.Key), err)
		}
		s.Users[u.Name] = &u
		return nil
	})
	if err != nil {
		return nil, err
	}
	s.index()
	return s, nil
}

// Bootstrap initialises an empty cluster's catalog (schema version 1, the
// databases "test" and "mysql", user root with an empty password). It is
// idempotent.
func (m *Manager) Bootstrap(ctx context.Context) error {
	return m.retry(ctx, func(tx txn.Txn) error {
		_, ok, err := tx.Get(ctx, VersionKey, txn.ReadOptions{ForUpdate: true})
		if err != nil || ok {
			return err
		}
		w := &Writer{tx: tx, next: FirstUserID}
		for _, name := range []string{"test", "mysql"} {
			id := w.next
			w.next++
			if err := w.PutDatabase(ctx, &Database{ID: id, Name: name}); err != nil {
				return err
			}
		}
		if err := w.PutUser(ctx, &User{Name: "root"}); err != nil {
			return err
		}
		if err := tx.Put(ctx, idGenKey, encodeUint(uint64(w.next))); err != nil {
			return err
		}
		return tx.Put(ctx, VersionKey, encodeUint(1))
	})
}

// MaxRetries bounds the attempts of catalog transactions.
const MaxRetries = 20

func (m *Manager) retry(ctx context.Context, fn func(tx txn.Txn) error) error {
	var err error
	for attempt := 0; attempt < MaxRetries; attempt++ {
		var tx txn.Txn
		tx, err = m.db.Begin(ctx, txn.Options{})
		if err != nil {
			return err
		}
		if err = fn(tx); err == nil {
			_, err = tx.Commit(ctx)
		}
		if err != nil {
			_ = tx.Rollback(ctx)
		}
		if err == nil || !txn.IsRetryable(err) {
			return err
		}
	}
	return err
}

// Writer writes descriptors inside a schema-change transaction.
type Writer struct {
	tx   txn.Txn
	next uint32 // next descriptor ID to hand out, written back on commit
	used bool
}

// NewID allocates a descriptor ID.
func (w *Writer) NewID() uint32 {
	id := w.next
	w.next++
	w.used = true
	return id
}

func (w *Writer) put(ctx context.Context, id uint32, d Descriptor) error {
	b, err := json.Marshal(d)
	if err != nil {
		return err
	}
	return w.tx.Put(ctx, descKey(id), b)
}

// PutDatabase writes a database descriptor.
func (w *Writer) PutDatabase(ctx context.Context, d *Database) error {
	return w.put(ctx, d.ID, Descriptor{Database: d})
}

// PutTable writes a table descriptor, bumping its version.
func (w *Writer) PutTable(ctx context.Context, t *Table) error {
	t.Version++
	return w.put(ctx, t.ID, Descriptor{Table: t})
}

// PutPolicy writes a placement policy descriptor.
func (w *Writer) PutPolicy(ctx context.Context, p *Policy) error {
	return w.put(ctx, p.ID, Descriptor{Policy: p})
}

// Delete removes the descriptor with the given ID.
func (w *Writer) Delete(ctx context.Context, id uint32) error {
	return w.tx.Delete(ctx, descKey(id))
}

// PutUser writes a user.
func (w *Writer) PutUser(ctx context.Context, u *User) error {
	b, err := json.Marshal(u)
	if err != nil {
		return err
	}
	return w.tx.Put(ctx, userKey(u.Name), b)
}

// DeleteUser removes a user.
func (w *Writer) DeleteUser(ctx context.Context, name string) error {
	return w.tx.Delete(ctx, userKey(name))
}

// Txn returns the schema-change transaction (for DDL that also writes
// data, e.g. TRUNCATE and DROP clearing rows).
func (w *Writer) Txn() txn.Txn { return w.tx }

// errRaced aborts a schema change that found a newer version than the
// one it waited for.
var errRaced = errors.New("catalog: another schema change committed first")

// Mutate runs one schema change and returns once it is done: every node
// uses the new version (or holds no lease any more). It first waits
// until the previous change is done, then, in a read-write transaction,
// reads the version key with an exclusive lock, loads the catalog, calls
// fn, writes version+1 and commits (retrying retryable errors), then
// waits. So at most two adjacent versions are in use at any time (see
// doc.go). fn must be idempotent (it may run again); it must not modify
// the snapshot it is given — clone descriptors first (CloneTable).
func (m *Manager) Mutate(ctx context.Context, fn func(snap *Snapshot, w *Writer) error) error {
	for {
		v, err := m.readVersion(ctx)
		if err != nil {
			return err
		}
		if err := m.waitDone(ctx, v); err != nil {
			return err
		}
		var committed uint64
		err = m.retry(ctx, func(tx txn.Txn) error {
			snap, err := m.get(ctx, tx, true)
			if err != nil {
				return err
			}
			if snap.Version != v {
				return errRaced
			}
			b, ok, err := tx.Get(ctx, idGenKey, txn.ReadOptions{ForUpdate: true})
			if err != nil {
				return err
			}
			next := uint64(FirstUserID)
			if ok {
				if next, err = decodeUint(b); err != nil {
					return err
				}
			}
			w := &Writer{tx: tx, next: uint32(next)}
			if err := fn(snap, w); err != nil {
				return err
			}
			if w.used {
				if err := tx.Put(ctx, idGenKey, encodeUint(uint64(w.next))); err != nil {
					return err
				}
			}
			committed = snap.Version + 1
			return tx.Put(ctx, VersionKey, encodeUint(committed))
		})
		if errors.Is(err, errRaced) {
			continue
		}
		if err != nil {
			return err
		}
		return m.waitDone(ctx, committed)
	}
}

// CloneTable deep-copies a table descriptor.
func CloneTable(t *Table) *Table {
	b, err := json.Marshal(t)
	if err != nil {
		panic(fmt.Sprintf("catalog: marshal table %d: %v", t.ID, err))
	}
	var c Table
	if err := json.Unmarshal(b, &c); err != nil {
		panic(fmt.Sprintf("catalog: unmarshal table %d: %v", t.ID, err))
	}
	return &c
}
