package tlsconfig

import "net"

// IsLoopbackHost reports whether host (a name or an address, without port)
// is this machine only: localhost, 127.0.0.0/8 or ::1. Any other name is
// not, even one that resolves to a loopback address.
func IsLoopbackHost(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// IsLoopbackAddr reports whether a listener's address accepts connections
// from this machine only. An unspecified address (0.0.0.0, ::) is not:
// it accepts them from every interface.
func IsLoopbackAddr(addr net.Addr) bool {
	tcp, ok := addr.(*net.TCPAddr)
	return ok && tcp.IP.IsLoopback()
}
