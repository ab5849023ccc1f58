package main

import (
	"net/netip"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/flowg-backup/flowg/auth"
)

// loginFlags are the flags of serve that bound logins and say who a client
// is.
func loginFlags() []cli.Flag {
	d := auth.DefaultLoginLimits
	return []cli.Flag{
		&cli.StringFlag{Name: "login-rate", Value: d.PerUserAddress.String(),
			Usage: "failed logins allowed per user from one client address, N/DURATION: a burst of N, then one every DURATION/N; beyond it 429 with Retry-After"},
		&cli.StringFlag{Name: "login-rate-per-address", Value: d.PerAddress.String(),
			Usage: "failed logins allowed from one client address whatever the user (an IPv6 /64 counts as one address), N/DURATION"},
		&cli.IntFlag{Name: "login-max-tracked", Value: d.MaxTracked,
			Usage: "how many (user, address) pairs, and how many addresses, the login limits remember; beyond it the least recently failed are forgotten"},
		&cli.IntFlag{Name: "max-concurrent-logins", Value: d.MaxConcurrent,
			Usage: "password checks run at once, server-wide (each takes 19 MiB); others wait up to --login-wait, then get 503 with Retry-After"},
		&cli.StringFlag{Name: "login-wait", Value: d.Wait.String(),
			Usage: "how long a login waits for a free password check"},
		&cli.StringSliceFlag{Name: "trusted-proxy",
			Usage: "CIDR[,CIDR] of reverse proxies whose X-Forwarded-For is believed (the right-most address not in these ranges is the client); by default the header is ignored"},
	}
}

// loginOptionsFrom reads the flags of loginFlags.
func loginOptionsFrom(c *cli.Context) (auth.LoginLimits, []netip.Prefix, error) {
	var l auth.LoginLimits
	for _, f := range []struct {
		name string
		to   *auth.Rate
	}{{"login-rate", &l.PerUserAddress}, {"login-rate-per-address", &l.PerAddress}} {
		r, err := auth.ParseRate(c.String(f.name))
		if err != nil {
			return l, nil, usagef("--%s %q: give N/DURATION, e.g. 5/1m (5 failures a minute) or 3/3s", f.name, c.String(f.name))
		}
		*f.to = r
	}
	l.MaxTracked, l.MaxConcurrent = c.Int("login-max-tracked"), c.Int("max-concurrent-logins")
	if l.MaxTracked < 1 {
		return l, nil, usagef("--login-max-tracked %d: give at least 1", l.MaxTracked)
	}
	if l.MaxConcurrent < 1 {
		return l, nil, usagef("--max-concurrent-logins %d: give at least 1", l.MaxConcurrent)
	}
	wait, err := durationFrom(c, "login-wait")
	if err != nil {
		return l, nil, err
	}
	if wait <= 0 {
		return l, nil, usagef("--login-wait %q: give a positive duration, e.g. 3s", c.String("login-wait"))
	}
	l.Wait = wait
	var trusted []netip.Prefix
	for _, v := range flagValues(c.StringSlice("trusted-proxy")) {
		p, err := parseTrustedProxy(v)
		if err != nil {
			return l, nil, usagef("--trusted-proxy %q: give a CIDR such as 10.0.0.0/8 or 127.0.0.1/32, or an address", v)
		}
		trusted = append(trusted, p)
	}
	return l, trusted, nil
}

// parseTrustedProxy reads a CIDR, or a single address as its own range.
func parseTrustedProxy(s string) (netip.Prefix, error) {
	s = strings.TrimSpace(s)
	if strings.Contains(s, "/") {
		return netip.ParsePrefix(s)
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, err
	}
	return netip.PrefixFrom(a, a.BitLen()), nil
}
