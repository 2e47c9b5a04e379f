package server

import (
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/cockroachdb/pebble/v2/vfs"

	"github.com/meridiandb/meridian/ranges/rangespb"
	"github.com/meridiandb/meridian/replication"
	"github.com/meridiandb/meridian/truetime"
	"github.com/meridiandb/meridian/txn"
	"github.com/meridiandb/meridian/txn/admission"
)

// Config configures a node. Zero values take the documented defaults.
type Config struct {
	// StoreDir is the store's directory. Required unless InMemory.
	StoreDir string
	// InMemory keeps the store in memory (lost on exit).
	InMemory bool
	// ListenAddr serves other nodes (gRPC). Default: 127.0.0.1:26257.
	ListenAddr string
	// AdvertiseAddr is how other nodes reach this one. Default: the
	// address actually listened on.
	AdvertiseAddr string
	// HTTPAddr serves /healthz, /metrics and /debug. Empty: no HTTP.
	HTTPAddr string
	// SQLAddr serves the MySQL protocol. Empty: no SQL.
	SQLAddr string
	// Join lists addresses of nodes to join.
	Join []string
	// Locality of the node.
	Locality *rangespb.Locality
	// RangeMaxBytes: ranges split past this size. Default: 64 MiB.
	RangeMaxBytes int64
	// RangeMaxQPS: ranges split past this load. Default: off.
	RangeMaxQPS float64
	// DeadTimeout: replicas on nodes down this long are replaced.
	// Default: 1 minute.
	DeadTimeout time.Duration
	// Clock is the node's TrueTime. Default: the local clock with 1ms.
	Clock truetime.Clock
	// Logger. Default: discard.
	Logger *slog.Logger
	// Store tunes replication (zero fields: its defaults).
	Store replication.StoreOptions
	// QueueInterval is how often split and allocation queues run.
	// Default: 1s.
	QueueInterval time.Duration
	// TxnKnobs alter the transaction protocol for tests and demonstrations
	// (never settable from `meridian start`).
	TxnKnobs txn.TestingKnobs
	// Admission tunes the gateway's load control of clients' read-write
	// transactions (zero fields: its defaults).
	Admission admission.Options
	// TxnRecoveryAge: transactions prepared here longer than this ask their
	// coordinator for the outcome. Default: the transaction layer's (5s).
	TxnRecoveryAge time.Duration

	// Testing seams: an in-process cluster supplies its own transport and
	// filesystem and assigns node ids itself.
	Transport replication.Transport
	FS        vfs.FS
	// NodeID, with Transport, starts the node with this id, bootstrapping
	// the cluster if it is 1 and BootstrapCluster is set.
	NodeID           replication.NodeID
	BootstrapCluster bool
	// Peers, with Transport, are the node ids gossip starts from.
	Peers []replication.NodeID
}

func (c Config) withDefaults() Config {
	if c.ListenAddr == "" {
		c.ListenAddr = "127.0.0.1:26257"
	}
	if c.RangeMaxBytes == 0 {
		c.RangeMaxBytes = 64 << 20
	}
	if c.DeadTimeout == 0 {
		c.DeadTimeout = time.Minute
	}
	if c.QueueInterval == 0 {
		c.QueueInterval = time.Second
	}
	if c.Clock == nil {
		c.Clock = truetime.NewLocal(truetime.LocalOptions{})
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.Locality == nil {
		c.Locality = &rangespb.Locality{}
	}
	return c
}

// ParseLocality parses "region=R[,zone=Z]".
func ParseLocality(s string) (*rangespb.Locality, error) {
	l := &rangespb.Locality{}
	if s == "" {
		return l, nil
	}
	for _, part := range strings.Split(s, ",") {
		k, v, ok := strings.Cut(part, "=")
		if !ok || v == "" {
			return nil, fmt.Errorf("locality %q: want region=R[,zone=Z], got %q", s, part)
		}
		switch strings.TrimSpace(k) {
		case "region":
			l.Region = strings.TrimSpace(v)
		case "zone":
			l.Zone = strings.TrimSpace(v)
		default:
			return nil, fmt.Errorf("locality %q: unknown tier %q (want region or zone)", s, k)
		}
	}
	return l, nil
}
