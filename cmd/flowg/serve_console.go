package main

import (
	"net"
	"net/netip"
)

// consoleURL is the address flowg serve prints for the web console
// (GET /): the listener's address, with a wildcard host (0.0.0.0, ::)
// shown as localhost, which a browser on the same machine can open.
func consoleURL(scheme string, addr net.Addr) string {
	host, port, err := net.SplitHostPort(addr.String())
	if err != nil {
		return scheme + "://" + addr.String() + "/"
	}
	if ip, err := netip.ParseAddr(host); err == nil && ip.IsUnspecified() {
		host = "localhost"
	}
	return scheme + "://" + net.JoinHostPort(host, port) + "/"
}
