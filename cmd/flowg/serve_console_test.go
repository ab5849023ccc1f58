package main

import (
	"net"
	"testing"
)

func TestConsoleURL_ShowsAWildcardBindAsLocalhost(t *testing.T) {
	for _, tt := range []struct {
		name, scheme, addr, want string
	}{
		{"loopback", "http", "127.0.0.1:5080", "http://127.0.0.1:5080/"},
		{"IPv4 wildcard", "https", "0.0.0.0:5443", "https://localhost:5443/"},
		{"IPv6 wildcard", "http", "[::]:5080", "http://localhost:5080/"},
		{"IPv6 loopback", "http", "[::1]:5080", "http://[::1]:5080/"},
		{"an address", "https", "192.0.2.7:443", "https://192.0.2.7:443/"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			addr, err := net.ResolveTCPAddr("tcp", tt.addr)
			if err != nil {
				t.Fatal(err)
			}
			if got := consoleURL(tt.scheme, addr); got != tt.want {
				t.Errorf("consoleURL(%s, %s) = %q, want %q", tt.scheme, tt.addr, got, tt.want)
			}
		})
	}
}
