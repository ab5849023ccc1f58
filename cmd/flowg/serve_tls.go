package main

import (
	"log/slog"
	"net"
	"net/http"
	"syscall"

	"github.com/flowg-backup/flowg/internal/tlsconfig"
	"github.com/urfave/cli/v2"
)

// The flags of serve that say how the listener is protected: TLS with a
// certificate pair (reloaded on SIGHUP), or plain HTTP, which only a
// loopback address gets without --insecure-http.

func tlsFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "tls-cert", Usage: "serve HTTPS (TLS 1.2+) with this PEM certificate chain; reloaded with --tls-key on SIGHUP", EnvVars: []string{"FLOWG_TLS_CERT"}},
		&cli.StringFlag{Name: "tls-key", Usage: "the PEM private key of --tls-cert (keep it 0600)", EnvVars: []string{"FLOWG_TLS_KEY"}},
		&cli.BoolFlag{Name: "insecure-http", Usage: "allow plain HTTP on a non-loopback --http-bind, for a TLS-terminating proxy in front (logs a warning)"},
	}
}

// serveTLSFrom reads --tls-cert and --tls-key and loads the pair; nil when
// both are empty (plain HTTP). One without the other is a usage error.
func serveTLSFrom(c *cli.Context, logger *slog.Logger) (*tlsconfig.Reloader, error) {
	cert, key := c.String("tls-cert"), c.String("tls-key")
	switch {
	case cert == "" && key == "":
		return nil, nil
	case cert == "" || key == "":
		return nil, usagef("--tls-cert and --tls-key go together: give both (the PEM certificate chain and its private key), or neither for plain HTTP")
	case c.Bool("insecure-http"):
		return nil, usagef("--insecure-http allows plain HTTP; with --tls-cert and --tls-key the server speaks HTTPS: drop one or the other")
	}
	r, err := tlsconfig.NewReloader(cert, key, logger)
	if err != nil {
		return nil, opError{op: "serve", err: err, safe: "nothing was opened or written",
			next: "give --tls-cert the PEM certificate (chain) and --tls-key the private key that matches it"}
	}
	return r, nil
}

// checkPlainHTTP refuses plain HTTP on an address other machines reach,
// unless --insecure-http says a TLS-terminating proxy is in front; then it
// warns. It looks at the address actually bound, so a name that resolves
// to a loopback address counts as loopback.
func checkPlainHTTP(c *cli.Context, ln net.Listener, logger *slog.Logger) error {
	if tlsconfig.IsLoopbackAddr(ln.Addr()) {
		return nil
	}
	if !c.Bool("insecure-http") {
		return usagef("--http-bind %s: plain HTTP on %s is reachable from other machines, and passwords, tokens and backups would cross the network in clear; "+
			"give --tls-cert and --tls-key to serve HTTPS, bind to 127.0.0.1, or add --insecure-http when a TLS-terminating proxy is in front",
			c.String("http-bind"), ln.Addr())
	}
	logger.Warn("serving plain HTTP on a non-loopback address (--insecure-http): passwords, tokens and backups cross the network in clear unless a TLS-terminating proxy is in front",
		"addr", ln.Addr().String())
	return nil
}

// serveOn starts hs on ln, with TLS when reloader is set (the certificate
// is then reloaded on SIGHUP until the command ends), and returns the URL
// scheme. Serve's result arrives on served.
func serveOn(c *cli.Context, hs *http.Server, ln net.Listener, reloader *tlsconfig.Reloader, served chan<- error) string {
	if reloader == nil {
		go func() { served <- hs.Serve(ln) }()
		return "http"
	}
	hs.TLSConfig = reloader.ServerConfig()
	reloader.ReloadOnSignal(c.Context, syscall.SIGHUP)
	go func() { served <- hs.ServeTLS(ln, "", "") }()
	return "https"
}
