package wire

import (
	"bufio"
	"net"
)

// bufConn buffers what the server writes to a client and sends it in one
// system call when the server next reads (or the buffer fills). go-mysql
// writes every packet with its own Write: a result set of n rows would
// take n+4 system calls. The server always reads the client's next packet
// after answering, and the handshake alternates writes and reads, so
// flushing before each read sends every answer in time.
type bufConn struct {
	net.Conn
	w *bufio.Writer
}

func newBufConn(c net.Conn) *bufConn { return &bufConn{Conn: c, w: bufio.NewWriterSize(c, 32<<10)} }

func (c *bufConn) Write(p []byte) (int, error) { return c.w.Write(p) }

func (c *bufConn) Read(p []byte) (int, error) {
	if c.w.Buffered() > 0 {
		if err := c.w.Flush(); err != nil {
			return 0, err
		}
	}
	return c.Conn.Read(p)
}

// Flush sends what is buffered.
func (c *bufConn) Flush() error { return c.w.Flush() }

// Close sends what is buffered (e.g. go-mysql's error packet for a failed
// handshake, written just before it closes the connection), then closes.
func (c *bufConn) Close() error {
	_ = c.w.Flush()
	return c.Conn.Close()
}
