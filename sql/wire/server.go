package wire

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"runtime/debug"
	"sync"

	"github.com/go-mysql-org/go-mysql/mysql"
	"github.com/go-mysql-org/go-mysql/server"

	"github.com/meridiandb/meridian/sql"
	"github.com/meridiandb/meridian/sql/session"
	"github.com/meridiandb/meridian/truetime"
	"github.com/meridiandb/meridian/txn"
)

// Options configure a Server.
type Options struct {
	// Addr is the TCP address to listen on, e.g. "127.0.0.1:4000"
	// ("127.0.0.1:0" picks a port; see Addr()).
	Addr string
	// DB is the transaction layer. Required.
	DB txn.DB
	// Cluster gives clocks, ranges, splits and placement. Required.
	Cluster sql.Cluster
	// Clock is the node's clock; default DB.Clock().
	Clock truetime.Clock
	// Logger; default slog.Default().
	Logger *slog.Logger
	// Version is reported to clients; default "8.0.11-Meridian".
	Version string
	// MaxRetries bounds internal retries of autocommit statements
	// (default 10).
	MaxRetries int
	// Knobs are testing hooks.
	Knobs TestingKnobs
}

// TestingKnobs are hooks for tests.
type TestingKnobs struct {
	// OnQuery, if set, is called with every COM_QUERY text (to log what
	// real clients send).
	OnQuery func(q string)
}

// Server serves the MySQL protocol. Start listens; Close stops accepting,
// closes every connection and waits for all connection goroutines.
type Server struct {
	opts   Options
	engine *session.Engine
	conf   *server.Server
	ln     net.Listener
	wg     sync.WaitGroup
	// ctx is the parent of every connection's context; Close cancels it so
	// that statements waiting (e.g. for locks) end promptly.
	ctx     context.Context
	cancel  context.CancelFunc
	started bool // the engine runs (Start succeeded)

	mu struct {
		sync.Mutex
		closed bool
		conns  map[net.Conn]struct{}
	}
}

// NewServer returns a server; it does not listen until Start.
func NewServer(opts Options) *Server {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Clock == nil && opts.DB != nil {
		opts.Clock = opts.DB.Clock()
	}
	if opts.Version == "" {
		opts.Version = "8.0.11-Meridian"
	}
	s := &Server{opts: opts}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	s.engine = session.NewEngine(session.EngineOptions{DB: opts.DB, Cluster: opts.Cluster, Logger: opts.Logger,
		MaxRetries: opts.MaxRetries, Version: opts.Version})
	s.conf = server.NewServer(opts.Version, mysql.DEFAULT_COLLATION_ID, mysql.AUTH_NATIVE_PASSWORD, nil, nil)
	s.mu.conns = map[net.Conn]struct{}{}
	return s
}

// Engine returns the SQL engine (for in-process sessions).
func (s *Server) Engine() *session.Engine { return s.engine }

// Start bootstraps the catalog if needed, listens and starts accepting.
func (s *Server) Start(ctx context.Context) error {
	if err := s.engine.Bootstrap(ctx); err != nil {
		return fmt.Errorf("wire: bootstrap catalog: %w", err)
	}
	ln, err := net.Listen("tcp", s.opts.Addr)
	if err != nil {
		return fmt.Errorf("wire: listen %s: %w", s.opts.Addr, err)
	}
	s.engine.Start()
	s.started = true
	s.ln = ln
	s.wg.Add(1)
	go s.acceptLoop()
	s.opts.Logger.Info("sql server listening", "addr", ln.Addr().String())
	return nil
}

// Addr returns the listening address (after Start).
func (s *Server) Addr() string {
	if s.ln == nil {
		return ""
	}
	return s.ln.Addr().String()
}

// Close stops the listener, closes all connections (rolling back their
// open transactions) and waits for every goroutine the server started.
func (s *Server) Close() error {
	s.cancel()
	s.mu.Lock()
	s.mu.closed = true
	for c := range s.mu.conns {
		_ = c.Close()
	}
	s.mu.Unlock()
	var err error
	if s.ln != nil {
		err = s.ln.Close()
	}
	s.wg.Wait()
	if s.started {
		s.engine.Close()
	}
	if errors.Is(err, net.ErrClosed) {
		err = nil
	}
	return err
}

func (s *Server) acceptLoop() {
	defer s.wg.Done()
	for {
		c, err := s.ln.Accept()
		if err != nil {
			return
		}
		s.mu.Lock()
		if s.mu.closed {
			s.mu.Unlock()
			_ = c.Close()
			return
		}
		s.mu.conns[c] = struct{}{}
		s.wg.Add(1)
		s.mu.Unlock()
		go s.serve(c)
	}
}

// credentials adapts the catalog's users to go-mysql.
type credentials struct{ e *session.Engine }

func (c credentials) CheckUsername(user string) (bool, error) {
	_, ok, err := c.e.CheckPassword(context.Background(), user)
	return ok, err
}

func (c credentials) GetCredential(user string) (string, bool, error) {
	return c.e.CheckPassword(context.Background(), user)
}

// serve runs one connection: handshake, then commands until the client
// quits or the server closes. A panic is logged and ends only this
// connection.
func (s *Server) serve(nc net.Conn) {
	ctx, cancel := context.WithCancel(s.ctx)
	h := &handler{srv: s, ctx: ctx, nc: nc}
	defer func() {
		if r := recover(); r != nil {
			s.opts.Logger.Error("sql connection panicked", "remote", nc.RemoteAddr().String(), "panic", r, "stack", string(debug.Stack()))
		}
		cancel()
		if h.sess != nil {
			h.sess.Close(context.Background())
		}
		_ = nc.Close()
		s.mu.Lock()
		delete(s.mu.conns, nc)
		s.mu.Unlock()
		s.wg.Done()
	}()
	bc := newBufConn(nc)
	h.out = bc
	defer func() { _ = bc.Flush() }() // e.g. a handshake's error packet
	conn, err := s.conf.NewCustomizedConn(bc, credentials{s.engine}, h)
	if err != nil {
		s.opts.Logger.Debug("sql handshake failed", "remote", nc.RemoteAddr().String(), "err", err)
		return
	}
	h.conn = conn
	h.watch = newClientWatch(nc, func() *session.Session { return h.sess })
	h.newSession()
	if h.pendingDB != "" {
		if err := h.sess.Use(ctx, h.pendingDB); err != nil {
			return
		}
	}
	conn.SetStatus(mysql.SERVER_STATUS_AUTOCOMMIT)
	for {
		if err := h.handleCommand(); err != nil {
			return
		}
	}
}
