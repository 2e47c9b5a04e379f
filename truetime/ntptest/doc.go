// Package ntptest is an in-process NTP server for tests: it answers real
// NTP v4 packets on 127.0.0.1 with an injected clock offset, path delays and
// header fields (stratum, leap, root delay and dispersion, kiss codes), so
// that NTP clients are exercised end to end. A Server owns one goroutine,
// stopped by Close.
package ntptest
