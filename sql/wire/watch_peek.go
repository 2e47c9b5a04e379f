//go:build linux || darwin || freebsd || netbsd || openbsd

package wire

import "syscall"

const peekSupported = true

// peekClosed looks at the socket without consuming: end of file (or an
// error) means the client closed it.
func peekClosed(fd uintptr) (closed bool, st peekState) {
	var b [1]byte
	n, _, err := syscall.Recvfrom(int(fd), b[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
	switch {
	case err == syscall.EAGAIN || err == syscall.EWOULDBLOCK || err == syscall.EINTR:
		return false, peekAgain
	case err != nil:
		return true, peekDone
	}
	return n == 0, peekDone
}
