// Package tlsconfig builds the TLS settings of flowg's two doors: the
// server's (a certificate and key pair loaded from files, reloaded on
// request, TLS 1.2 at least) and the client commands' (the system roots, or
// a private CA from a file). It also holds the rule that says which listen
// addresses may serve plain HTTP: only loopback ones, unless the operator
// says a TLS-terminating proxy is in front.
package tlsconfig

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"sync"
)

// MinVersion is the oldest TLS version the server speaks. It is set
// explicitly, so no GODEBUG setting (tls10server=1) can lower it.
const MinVersion = tls.VersionTLS12

// Reloader holds the server's certificate and key pair, read from two PEM
// files, and hands the current pair to every new TLS connection. Reload
// reads the files again; a pair that does not load leaves the old one in
// use. Connections already open keep the certificate they started with.
type Reloader struct {
	certFile, keyFile string
	logger            *slog.Logger

	mu   sync.RWMutex
	cert *tls.Certificate
}

// NewReloader loads the pair from certFile and keyFile; an error says which
// file is wrong and why.
func NewReloader(certFile, keyFile string, logger *slog.Logger) (*Reloader, error) {
	r := &Reloader{certFile: certFile, keyFile: keyFile, logger: logger}
	if err := r.Reload(); err != nil {
		return nil, err
	}
	return r, nil
}

// Reload reads the pair from the files again and, when it loads, serves it
// to new connections from now on. On error the previous pair stays.
func (r *Reloader) Reload() error {
	cert, err := loadPair(r.certFile, r.keyFile)
	if err != nil {
		return err
	}
	r.mu.Lock()
	r.cert = cert
	r.mu.Unlock()
	r.logger.Info("tls certificate loaded", "cert_file", r.certFile, "subject", cert.Leaf.Subject.String(),
		"serial", cert.Leaf.SerialNumber.String(), "not_after", cert.Leaf.NotAfter.UTC())
	if fi, err := os.Stat(r.keyFile); err == nil && fi.Mode().Perm()&0o077 != 0 {
		r.logger.Warn("the tls key file is readable by other users; make it 0600", "key_file", r.keyFile, "mode", fi.Mode().Perm().String())
	}
	return nil
}

// Certificate returns the pair new connections get now.
func (r *Reloader) Certificate() *tls.Certificate {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.cert
}

// GetCertificate is the tls.Config hook: the current pair, whatever the
// client asks for.
func (r *Reloader) GetCertificate(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	return r.Certificate(), nil
}

// ServerConfig is the server's TLS configuration: TLS 1.2 and later, the
// pair the Reloader holds at each handshake.
func (r *Reloader) ServerConfig() *tls.Config {
	return &tls.Config{MinVersion: MinVersion, GetCertificate: r.GetCertificate}
}

// ReloadOnSignal reloads the pair each time the process receives one of
// sigs (SIGHUP), until ctx ends. A pair that does not load is logged as an
// error and the previous one stays in use.
func (r *Reloader) ReloadOnSignal(ctx context.Context, sigs ...os.Signal) {
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, sigs...)
	go func() {
		defer signal.Stop(ch)
		for {
			select {
			case <-ctx.Done():
				return
			case sig := <-ch:
				r.logger.Info("reloading the tls certificate", "signal", sig.String())
				if err := r.Reload(); err != nil {
					r.logger.Error("tls certificate not reloaded; the previous one stays in use", "error", err)
				}
			}
		}
	}()
}

// loadPair reads and parses a PEM certificate chain and its private key.
// Each must be a regular file (a link to one is followed); a FIFO or a
// device in place of either is refused at once, never waited on.
func loadPair(certFile, keyFile string) (*tls.Certificate, error) {
	certPEM, err := readRegularFile(certFile)
	if err != nil {
		return nil, fmt.Errorf("load the tls certificate %s: %w", certFile, err)
	}
	keyPEM, err := readRegularFile(keyFile)
	if err != nil {
		return nil, fmt.Errorf("load the tls key %s: %w", keyFile, err)
	}
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return nil, fmt.Errorf("load the tls certificate %s and key %s: %w", certFile, keyFile, err)
	}
	if cert.Leaf == nil {
		if cert.Leaf, err = x509.ParseCertificate(cert.Certificate[0]); err != nil {
			return nil, fmt.Errorf("parse the tls certificate %s: %w", certFile, err)
		}
	}
	return &cert, nil
}

// readRegularFile reads path, which must be a regular file: it is opened
// without blocking (unix), so a FIFO in its place gives an error at once.
func readRegularFile(path string) ([]byte, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|openNonBlock, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("not a regular file (mode %s): replace it with the PEM file itself", st.Mode().Type())
	}
	return io.ReadAll(f)
}
