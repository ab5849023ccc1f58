package tlsconfig

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"os"
)

// ClientConfig is the client commands' TLS configuration. With caFile ""
// the server's certificate must chain to the system roots; otherwise to a
// certificate of the PEM file caFile (a private CA), which replaces them.
func ClientConfig(caFile string) (*tls.Config, error) {
	cfg := &tls.Config{MinVersion: MinVersion}
	if caFile == "" {
		return cfg, nil
	}
	pem, err := os.ReadFile(caFile)
	if err != nil {
		return nil, fmt.Errorf("read the CA certificate: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("%s holds no PEM certificate (-----BEGIN CERTIFICATE-----)", caFile)
	}
	cfg.RootCAs = pool
	return cfg, nil
}

// IsCertificateError reports whether err is a failure to verify the
// server's certificate: an unknown authority, a wrong name, an expired one.
func IsCertificateError(err error) bool {
	var verify *tls.CertificateVerificationError
	var unknown x509.UnknownAuthorityError
	var host x509.HostnameError
	var invalid x509.CertificateInvalidError
	return errors.As(err, &verify) || errors.As(err, &unknown) || errors.As(err, &host) || errors.As(err, &invalid)
}

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
