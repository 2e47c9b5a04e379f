package wire

import (
	"net"
	"sync"
	"syscall"
	"time"

	"github.com/meridiandb/meridian/sql/session"
)

// watchDelay is how long a statement runs before its connection is
// watched for the client going away: short statements never pay for it.
const watchDelay = 50 * time.Millisecond

// clientWatch cancels a connection's running statement when the client
// closes the connection (nobody would read the answer; a lock wait or a
// SLEEP should not outlive it). While a statement runs the command loop
// does not read the socket, so after watchDelay a goroutine (the timer's)
// peeks at it without consuming anything: end of file means the client
// is gone. Finishing the statement wakes the peek with a read deadline in
// the past and waits for it, so the command loop then owns the socket
// again.
type clientWatch struct {
	nc   net.Conn
	rc   syscall.RawConn // nil: the connection cannot be peeked at
	sess func() *session.Session

	mu struct {
		sync.Mutex
		gen     uint64 // statement generation
		active  bool
		running chan struct{} // closed when the current peek returns; nil if none
	}
}

func newClientWatch(nc net.Conn, sess func() *session.Session) *clientWatch {
	w := &clientWatch{nc: nc, sess: sess}
	if sc, ok := nc.(interface {
		SyscallConn() (syscall.RawConn, error)
	}); ok && peekSupported {
		if rc, err := sc.SyscallConn(); err == nil {
			w.rc = rc
		}
	}
	return w
}

// start watches the connection for the statement about to run; the
// returned function ends the watch and must be called when it finishes.
func (w *clientWatch) start() (stop func()) {
	if w == nil || w.rc == nil {
		return func() {}
	}
	w.mu.Lock()
	w.mu.gen++
	gen := w.mu.gen
	w.mu.active = true
	w.mu.Unlock()
	t := time.AfterFunc(watchDelay, func() { w.peek(gen) })
	return func() {
		t.Stop()
		w.mu.Lock()
		w.mu.active = false
		running := w.mu.running
		w.mu.Unlock()
		if running == nil {
			return
		}
		_ = w.nc.SetReadDeadline(time.Unix(1, 0))
		<-running
		_ = w.nc.SetReadDeadline(time.Time{})
		w.mu.Lock()
		w.mu.running = nil
		w.mu.Unlock()
	}
}

// peek runs on the timer's goroutine while statement gen runs.
func (w *clientWatch) peek(gen uint64) {
	w.mu.Lock()
	if !w.mu.active || w.mu.gen != gen || w.mu.running != nil {
		w.mu.Unlock()
		return
	}
	done := make(chan struct{})
	w.mu.running = done
	w.mu.Unlock()
	defer close(done)
	closed := false
	err := w.rc.Read(func(fd uintptr) bool {
		var st peekState
		closed, st = peekClosed(fd)
		return st != peekAgain
	})
	if err == nil && closed {
		if s := w.sess(); s != nil {
			s.Cancel(session.ErrClientGone)
		}
	}
}

type peekState int

const (
	peekAgain peekState = iota // nothing to read yet: wait
	peekDone                   // data or end of file: stop
)
