//go:build !(linux || darwin || freebsd || netbsd || openbsd)

package wire

const peekSupported = false

func peekClosed(uintptr) (bool, peekState) { return false, peekDone }
