package httpapi

import (
	"net"
	"net/netip"

	"github.com/labstack/echo/v4"
)

// clientAddress returns how the server tells who a client is, for the login
// limits: the direct peer, unless it is one of the trusted proxies, in which
// case echo takes the right-most address of X-Forwarded-For that is not
// itself a trusted proxy. Nothing is trusted by default, not even loopback
// or private ranges, so a client cannot pick its own address by sending the
// header.
func clientAddress(trusted []netip.Prefix) echo.IPExtractor {
	if len(trusted) == 0 {
		return echo.ExtractIPDirect()
	}
	opts := []echo.TrustOption{echo.TrustLoopback(false), echo.TrustLinkLocal(false), echo.TrustPrivateNet(false)}
	for _, p := range trusted {
		p = p.Masked()
		opts = append(opts, echo.TrustIPRange(&net.IPNet{IP: p.Addr().AsSlice(), Mask: net.CIDRMask(p.Bits(), p.Addr().BitLen())}))
	}
	return echo.ExtractIPFromXFFHeader(opts...)
}
