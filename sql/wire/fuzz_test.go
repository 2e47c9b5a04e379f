package wire

import (
	"bufio"
	"io"
	"net"
	"testing"
	"time"

	"github.com/go-mysql-org/go-mysql/client"
)

// FuzzPacket sends arbitrary bytes to the server, both as the handshake
// response of a fresh connection and as a command packet after a normal
// login, then checks that the server still serves queries.
func FuzzPacket(f *testing.F) {
	for _, b := range [][]byte{
		{0x03, 'S', 'E', 'L', 'E', 'C', 'T', ' ', '1'},
		{0x16, 'S', 'E', 'L', 'E', 'C', 'T', ' ', '?'},
		{0x17, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 8, 0},
		{0x17, 0xff, 0xff, 0xff, 0xff},
		{0x04, 't', 0},
		{0x02, 'n', 'o', 'p', 'e'},
		{0x18, 1, 0, 0, 0, 0, 0, 'x'},
		{0x19, 1, 0, 0, 0},
		{0x1a, 1, 0, 0, 0},
		{0x1b, 0, 0},
		{0x0e},
		{},
		{0xff, 0xff, 0xff, 0xff, 0xff},
	} {
		f.Add(b)
	}
	s := startServer(f, TestingKnobs{})
	addr := s.Addr()
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > 1<<16 {
			return
		}
		// 1. Garbage as the handshake response.
		if c, err := net.Dial("tcp", addr); err == nil {
			_ = c.SetDeadline(time.Now().Add(5 * time.Second))
			r := bufio.NewReader(c)
			if _, err := readPacket(r); err == nil {
				_, _ = c.Write(frame(data, 1))
				_, _ = io.Copy(io.Discard, r)
			}
			c.Close()
		}
		// 2. Garbage as a command after a real login.
		conn, err := client.Connect(addr, "root", "", "test")
		if err != nil {
			t.Fatalf("server stopped accepting logins: %v", err)
		}
		_ = conn.SetDeadline(time.Now().Add(5 * time.Second))
		_ = conn.WritePacket(append(make([]byte, 4), data...))
		_, _ = conn.ReadPacket()
		conn.Close()
		// 3. The server still works.
		conn, err = client.Connect(addr, "root", "", "test")
		if err != nil {
			t.Fatalf("server stopped accepting logins: %v", err)
		}
		defer conn.Close()
		_ = conn.SetDeadline(time.Now().Add(5 * time.Second))
		if _, err := conn.Execute("SELECT 1"); err != nil {
			t.Fatalf("server stopped answering: %v", err)
		}
	})
}

func readPacket(r *bufio.Reader) ([]byte, error) {
	var h [4]byte
	if _, err := io.ReadFull(r, h[:]); err != nil {
		return nil, err
	}
	n := int(h[0]) | int(h[1])<<8 | int(h[2])<<16
	b := make([]byte, n)
	_, err := io.ReadFull(r, b)
	return b, err
}

func frame(data []byte, seq byte) []byte {
	n := len(data)
	return append([]byte{byte(n), byte(n >> 8), byte(n >> 16), seq}, data...)
}
