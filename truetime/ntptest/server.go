package ntptest

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"sync"
	"time"
)

// Options shape the server's answers. The zero value is an honest,
// synchronised stratum-2 server with no delay.
type Options struct {
	// Offset is added to the real clock to give the server's clock.
	Offset time.Duration
	// ForwardDelay delays a request after it arrives and before it is
	// timestamped (the client→server path); ReturnDelay delays the answer
	// after it is timestamped and before it is sent (the server→client
	// path). Unequal delays make the path asymmetric.
	ForwardDelay, ReturnDelay time.Duration
	// Stratum is the stratum to report. Default 2. KissCode overrides it.
	Stratum uint8
	// Leap is the leap indicator, 0–3; 3 means "not synchronised".
	Leap uint8
	// RootDelay and RootDispersion are reported as given (NTP short format).
	RootDelay, RootDispersion time.Duration
	// Precision is the log2 of the clock precision in seconds. Default -20.
	Precision int8
	// KissCode, if set, makes every answer a kiss-of-death: stratum 0 and
	// the 4-letter code (e.g. "RATE") as reference ID.
	KissCode string
	// Silent makes the server read requests and never answer.
	Silent bool
}

// Server is a running responder.
type Server struct {
	conn      *net.UDPConn
	stop      chan struct{}
	done      chan struct{}
	closeOnce sync.Once

	mu       sync.Mutex
	opts     Options
	requests int
}

// Start binds 127.0.0.1 on a random UDP port and starts answering.
func Start(opts Options) (*Server, error) {
	conn, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		return nil, fmt.Errorf("ntptest: listen: %w", err)
	}
	s := &Server{conn: conn, stop: make(chan struct{}), done: make(chan struct{}), opts: opts}
	go s.serve()
	return s, nil
}

// Addr is the server's address, "127.0.0.1:PORT".
func (s *Server) Addr() string { return s.conn.LocalAddr().String() }

// Set replaces the options for requests that arrive from now on.
func (s *Server) Set(opts Options) {
	s.mu.Lock()
	s.opts = opts
	s.mu.Unlock()
}

// Requests returns how many requests the server has received.
func (s *Server) Requests() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.requests
}

// Close stops the server and waits for its goroutine to exit. Later calls
// do nothing.
func (s *Server) Close() error {
	var err error
	s.closeOnce.Do(func() {
		close(s.stop)
		err = s.conn.Close()
		<-s.done
	})
	return err
}

func (s *Server) serve() {
	defer close(s.done)
	buf := make([]byte, 1024)
	for {
		n, from, err := s.conn.ReadFromUDP(buf)
		if errors.Is(err, net.ErrClosed) {
			return
		}
		if err != nil || n < 48 {
			continue
		}
		s.mu.Lock()
		s.requests++
		opts := s.opts
		s.mu.Unlock()
		if opts.Silent || !s.pause(opts.ForwardDelay) {
			continue
		}
		recv := time.Now().Add(opts.Offset)
		reply := Packet(buf[:n], recv, opts)
		if !s.pause(opts.ReturnDelay) {
			continue
		}
		_, _ = s.conn.WriteToUDP(reply, from)
	}
}

// pause waits for d, or returns false early if the server is closing.
func (s *Server) pause(d time.Duration) bool {
	if d <= 0 {
		return true
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-s.stop:
		return false
	}
}

// Packet builds the 48-byte NTPv4 server answer to req (a client request of
// at least 48 bytes), received at recv on the server's clock. The transmit
// timestamp is the server's clock (real clock + opts.Offset) when Packet
// returns. The layout (RFC 5905 §7.3), big-endian:
//
//	0  LI(2 bits) VN(3) Mode(3)   1 Stratum   2 Poll   3 Precision
//	4  Root Delay (16.16 s)       8 Root Dispersion (16.16 s)
//	12 Reference ID               16 Reference Timestamp (32.32 s since 1900)
//	24 Origin Timestamp (= the request's transmit timestamp, echoed)
//	32 Receive Timestamp          40 Transmit Timestamp
func Packet(req []byte, recv time.Time, opts Options) []byte {
	p := make([]byte, 48)
	version := req[0] >> 3 & 0x7
	if version < 3 || version > 4 {
		version = 4
	}
	stratum := opts.Stratum
	if stratum == 0 {
		stratum = 2
	}
	refID := uint32(0x7f000001) // 127.0.0.1
	if opts.KissCode != "" {
		stratum = 0
		refID = binary.BigEndian.Uint32([]byte((opts.KissCode + "    ")[:4]))
	}
	precision := opts.Precision
	if precision == 0 {
		precision = -20
	}
	p[0] = opts.Leap&0x3<<6 | version<<3 | 4 // mode 4: server
	p[1] = stratum
	p[2] = req[2] // poll: echo the client's
	p[3] = byte(precision)
	binary.BigEndian.PutUint32(p[4:], short(opts.RootDelay))
	binary.BigEndian.PutUint32(p[8:], short(opts.RootDispersion))
	binary.BigEndian.PutUint32(p[12:], refID)
	binary.BigEndian.PutUint64(p[16:], timestamp(recv.Add(-time.Second)))
	copy(p[24:32], req[40:48])
	binary.BigEndian.PutUint64(p[32:], timestamp(recv))
	binary.BigEndian.PutUint64(p[40:], timestamp(time.Now().Add(opts.Offset)))
	return p
}

// ntpEpochOffset is the number of seconds from 1900-01-01 to 1970-01-01.
const ntpEpochOffset = 2208988800

// timestamp encodes t in the NTP 32.32 fixed-point format (era 0).
func timestamp(t time.Time) uint64 {
	sec := uint64(t.Unix() + ntpEpochOffset)
	frac := uint64(t.Nanosecond()) << 32 / 1e9
	return sec<<32 | frac
}

// short encodes d in the NTP 16.16 fixed-point format, rounded up.
func short(d time.Duration) uint32 {
	return uint32((uint64(d)<<16 + uint64(time.Second) - 1) / uint64(time.Second))
}
