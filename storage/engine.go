package storage

import (
	"errors"
	"fmt"
	"log/slog"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/bloom"
	"github.com/cockroachdb/pebble/v2/vfs"
)

// Options configure an Engine. The zero value of every field but Dir means
// its default.
type Options struct {
	// Dir is the directory holding the store. Required.
	Dir string
	// FS is the filesystem the store lives on. Default: vfs.Default, the
	// operating system's. Tests and in-memory nodes pass vfs.NewMem().
	FS vfs.FS
	// CacheBytes is the size of the block cache. Default: 64 MiB.
	CacheBytes int64
	// MemTableBytes is the size of a memtable. Default: 32 MiB.
	MemTableBytes uint64
	// BloomBitsPerKey sizes the bloom filters built on keys without their
	// version. Default: 10 (about 1% false positives).
	BloomBitsPerKey int
	// MaxConcurrentCompactions bounds background compactions. Default: 2.
	MaxConcurrentCompactions int
	// ReadOnly opens the store without writing to it.
	ReadOnly bool
	// MustExist fails Open if there is no store in Dir yet.
	MustExist bool
	// Logger receives Pebble's log lines at debug level and its errors.
	// Default: discard.
	Logger *slog.Logger
}

func (o Options) withDefaults() Options {
	if o.FS == nil {
		o.FS = vfs.Default
	}
	if o.CacheBytes == 0 {
		o.CacheBytes = 64 << 20
	}
	if o.MemTableBytes == 0 {
		o.MemTableBytes = 32 << 20
	}
	if o.BloomBitsPerKey == 0 {
		o.BloomBitsPerKey = 10
	}
	if o.MaxConcurrentCompactions == 0 {
		o.MaxConcurrentCompactions = 2
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return o
}

// Engine is one Pebble instance: the store of a node, shared by all its
// replicas. It is safe for concurrent use.
type Engine struct {
	reader
	db   *pebble.DB
	opts Options
}

// Open opens (creating if needed, unless Options.MustExist) the store in
// opts.Dir.
func Open(opts Options) (*Engine, error) {
	if opts.Dir == "" {
		return nil, errors.New("storage: Options.Dir is required")
	}
	opts = opts.withDefaults()
	cache := pebble.NewCache(opts.CacheBytes)
	defer cache.Unref()
	po := &pebble.Options{
		FS:                 opts.FS,
		Cache:              cache,
		Comparer:           Comparer,
		MemTableSize:       opts.MemTableBytes,
		ReadOnly:           opts.ReadOnly,
		ErrorIfNotExists:   opts.MustExist,
		FormatMajorVersion: pebble.FormatNewest,
		Logger:             pebbleLogger{opts.Logger},
	}
	concurrency := opts.MaxConcurrentCompactions
	po.CompactionConcurrencyRange = func() (int, int) { return 1, concurrency }
	for i := range po.Levels {
		po.Levels[i].FilterPolicy = bloom.FilterPolicy(opts.BloomBitsPerKey)
		po.Levels[i].FilterType = pebble.TableFilter
	}
	db, err := pebble.Open(opts.Dir, po)
	if err != nil {
		return nil, fmt.Errorf("storage: opening store in %s: %w", opts.Dir, err)
	}
	return &Engine{reader: reader{r: db}, db: db, opts: opts}, nil
}

// Close closes the store. Every batch, snapshot and iterator must be closed
// first.
func (e *Engine) Close() error {
	if err := e.db.Close(); err != nil {
		return fmt.Errorf("storage: closing store in %s: %w", e.opts.Dir, err)
	}
	return nil
}

// Dir returns the directory of the store.
func (e *Engine) Dir() string { return e.opts.Dir }

// NewBatch returns a write-only batch.
func (e *Engine) NewBatch() *Batch { return &Batch{b: e.db.NewBatch(), db: e.db} }

// NewIndexedBatch returns a batch that can also be read, seeing its own
// writes over the store.
func (e *Engine) NewIndexedBatch() *Batch {
	b := e.db.NewIndexedBatch()
	return &Batch{reader: reader{r: b}, b: b, db: e.db, indexed: true}
}

// NewSnapshot returns a consistent, read-only view of the store as of now.
// Close it when done.
func (e *Engine) NewSnapshot() *Snapshot {
	s := e.db.NewSnapshot()
	return &Snapshot{reader: reader{r: s}, s: s}
}

// Flush flushes the memtable to disk.
func (e *Engine) Flush() error { return e.db.Flush() }

// ApproximateBytes estimates the bytes on disk used by MVCC data in
// [start, end).
func (e *Engine) ApproximateBytes(start, end []byte) (uint64, error) {
	return e.db.EstimateDiskUsage(EncodeBareKey(nil, start), EncodeBareKey(nil, end))
}

// Metrics describe the store.
type Metrics struct {
	DiskBytes       uint64
	MemTableBytes   uint64
	L0Files         int64
	CompactionCount int64
	FlushCount      int64
	ReadAmp         int
}

// Metrics returns the store's current metrics.
func (e *Engine) Metrics() Metrics {
	m := e.db.Metrics()
	return Metrics{
		DiskBytes:       m.DiskSpaceUsage(),
		MemTableBytes:   m.MemTable.Size,
		L0Files:         m.Levels[0].TablesCount,
		CompactionCount: m.Compact.Count,
		FlushCount:      m.Flush.Count,
		ReadAmp:         m.ReadAmp(),
	}
}

// Snapshot is a consistent, read-only view of the store.
type Snapshot struct {
	reader
	s *pebble.Snapshot
}

// Close releases the snapshot.
func (s *Snapshot) Close() error { return s.s.Close() }

// pebbleLogger sends Pebble's logs to slog.
type pebbleLogger struct{ l *slog.Logger }

func (p pebbleLogger) Infof(format string, args ...any) {
	p.l.Debug(fmt.Sprintf(format, args...), "component", "pebble")
}
func (p pebbleLogger) Errorf(format string, args ...any) {
	p.l.Error(fmt.Sprintf(format, args...), "component", "pebble")
}
func (p pebbleLogger) Fatalf(format string, args ...any) {
	p.l.Error(fmt.Sprintf(format, args...), "component", "pebble")
	panic(fmt.Sprintf("pebble: "+format, args...))
}
