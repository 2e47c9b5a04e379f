package ntptest

import (
	"encoding/binary"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

func TestPacket(t *testing.T) {
	req := make([]byte, 48)
	req[0] = 0<<6 | 4<<3 | 3 // LI 0, VN 4, mode 3 (client)
	req[2] = 6
	binary.BigEndian.PutUint64(req[40:], 0x0123456789abcdef)
	recv := time.Date(2026, 5, 1, 12, 0, 0, 500_000_000, time.UTC)
	p := Packet(req, recv, Options{Leap: 3, Stratum: 3, RootDelay: time.Second, RootDispersion: 500 * time.Millisecond})
	if len(p) != 48 {
		t.Fatalf("len %d", len(p))
	}
	if li, vn, mode := p[0]>>6, p[0]>>3&7, p[0]&7; li != 3 || vn != 4 || mode != 4 {
		t.Errorf("LI/VN/mode = %d/%d/%d, want 3/4/4", li, vn, mode)
	}
	if p[1] != 3 || p[2] != 6 || int8(p[3]) != -20 {
		t.Errorf("stratum/poll/precision = %d/%d/%d", p[1], p[2], int8(p[3]))
	}
	if rd, disp := binary.BigEndian.Uint32(p[4:]), binary.BigEndian.Uint32(p[8:]); rd != 1<<16 || disp != 1<<15 {
		t.Errorf("root delay/dispersion = %#x/%#x, want 0x10000/0x8000", rd, disp)
	}
	if got := binary.BigEndian.Uint64(p[24:]); got != 0x0123456789abcdef {
		t.Errorf("origin %#x does not echo the request's transmit timestamp", got)
	}
	// 2026-05-01T12:00:00.5Z is 1777636800 s after 1970, + 2208988800 to 1900.
	if got, want := binary.BigEndian.Uint64(p[32:]), uint64(1777636800+2208988800)<<32|1<<31; got != want {
		t.Errorf("receive timestamp %#x, want %#x", got, want)
	}
	kod := Packet(req, recv, Options{KissCode: "RATE"})
	if kod[1] != 0 || string(kod[12:16]) != "RATE" {
		t.Errorf("kiss-of-death: stratum %d, refid %q", kod[1], kod[12:16])
	}
}

func TestServerCloseTwice(t *testing.T) {
	s, err := Start(Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	_ = s.Close()
}
