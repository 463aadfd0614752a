// Package netguard decides which addresses the service's outbound requests
// (webhook deliveries, reads of hosts' calendars) may reach: public
// addresses only, unless a setting allows private ones. A URL is checked
// when it is saved, after resolving its host, and every connection is
// checked again by the dialer on the address it actually connects to, so
// a redirect or a name that later resolves elsewhere (DNS rebinding)
// cannot reach a private address either.
package netguard

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"syscall"
	"time"
)

// nonPublic are ranges that are neither loopback, private, link-local nor
// multicast by net/netip's reckoning but still reach no public host:
// "this network", shared address space (carrier NAT), IETF protocol
// assignments, benchmarking, documentation, reserved, and NAT64 that could
// wrap any of them.
var nonPublic = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),
	netip.MustParsePrefix("100.64.0.0/10"),
	netip.MustParsePrefix("192.0.0.0/24"),
	netip.MustParsePrefix("192.0.2.0/24"),
	netip.MustParsePrefix("198.18.0.0/15"),
	netip.MustParsePrefix("198.51.100.0/24"),
	netip.MustParsePrefix("203.0.113.0/24"),
	netip.MustParsePrefix("240.0.0.0/4"),
	netip.MustParsePrefix("64:ff9b::/96"),
	netip.MustParsePrefix("64:ff9b:1::/48"),
	netip.MustParsePrefix("2001:db8::/32"),
}

var (
	compatible = netip.MustParsePrefix("::/96")     // IPv4-compatible, ::a.b.c.d (deprecated)
	sixToFour  = netip.MustParsePrefix("2002::/16") // 6to4, 2002:AABB:CCDD::/48 wraps a.b.c.d
)

// Normalize returns the IPv4 address an IPv6 spelling carries, when it
// carries one: IPv4-mapped (::ffff:127.0.0.1), IPv4-compatible
// (::127.0.0.1) and 6to4 (2002:7f00:1::) all name 127.0.0.1. Other
// addresses are returned as they are.
func Normalize(ip netip.Addr) netip.Addr {
	ip = ip.Unmap().WithZone("")
	if !ip.Is6() {
		return ip
	}
	b := ip.As16()
	switch {
	case compatible.Contains(ip):
		return netip.AddrFrom4([4]byte(b[12:16]))
	case sixToFour.Contains(ip):
		return netip.AddrFrom4([4]byte(b[2:6]))
	}
	return ip
}

// IsPublic reports whether ip is an address on the public internet: not
// loopback, private, link-local, unspecified, multicast or reserved, in
// whatever spelling (see Normalize).
func IsPublic(ip netip.Addr) bool {
	ip = Normalize(ip)
	if !ip.IsValid() || ip.IsLoopback() || ip.IsPrivate() || ip.IsUnspecified() || ip.IsMulticast() ||
		ip.IsLinkLocalUnicast() || ip.IsLinkLocalMulticast() || ip.IsInterfaceLocalMulticast() {
		return false
	}
	for _, p := range nonPublic {
		if p.Contains(ip) {
			return false
		}
	}
	return true
}

// RefusedError is a connection the dialer refused: its address is not
// public. Setting names what would allow it.
type RefusedError struct {
	Addr    string
	Setting string
}

func (e *RefusedError) Error() string {
	return fmt.Sprintf("refused to connect to %s: not a public address (%s=true allows it)", e.Addr, e.Setting)
}

// Dialer returns a dialer that refuses every connection to an address
// that is not public, unless allowPrivate; setting names the variable
// that allows them, for the error.
func Dialer(timeout time.Duration, allowPrivate bool, setting string) *net.Dialer {
	d := &net.Dialer{Timeout: timeout, KeepAlive: 30 * time.Second}
	if !allowPrivate {
		// Control runs on the address actually being connected to, after
		// resolution, so it holds for redirects and rebinding alike.
		d.Control = func(_, address string, _ syscall.RawConn) error {
			host, _, err := net.SplitHostPort(address)
			if err != nil {
				return err
			}
			if ip, err := netip.ParseAddr(host); err != nil || !IsPublic(ip) {
				return &RefusedError{Addr: host, Setting: setting}
			}
			return nil
		}
	}
	return d
}

// Resolver looks host names up; *net.Resolver is one.
type Resolver interface {
	LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error)
}

// ErrUnresolved: the host name has no address.
var ErrUnresolved = errors.New("could not be resolved")

// CheckHost says whether host (a name or an address literal, as in a URL)
// is public: a literal must be, and a name must resolve to public
// addresses only. r nil uses the system resolver. Its error reads after
// the host, as in "must point to a public address; 10.0.0.1 is …".
func CheckHost(ctx context.Context, host string, r Resolver) error {
	if ip, err := netip.ParseAddr(host); err == nil {
		if !IsPublic(ip) {
			return fmt.Errorf("must point to a public address; %s is loopback, private or reserved", host)
		}
		return nil
	}
	if r == nil {
		r = net.DefaultResolver
	}
	ips, err := r.LookupNetIP(ctx, "ip", host)
	if err != nil || len(ips) == 0 {
		return fmt.Errorf("the host %s %w", host, ErrUnresolved)
	}
	for _, ip := range ips {
		if !IsPublic(ip) {
			return fmt.Errorf("must point to a public address; %s resolves to %s", host, ip)
		}
	}
	return nil
}
