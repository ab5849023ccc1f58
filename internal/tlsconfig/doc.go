// Package tlsconfig builds the TLS settings of flowg's two doors: the
// server's (a certificate and key pair loaded from files, reloaded on
// request, TLS 1.2 at least) and the client commands' (the system roots, or
// a private CA from a file). It also holds the rule that says which listen
// addresses may serve plain HTTP: only loopback ones, unless the operator
// says a TLS-terminating proxy is in front.
package tlsconfig
