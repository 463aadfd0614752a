package webhooks

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"strings"
	"syscall"

	"github.com/callbook/callbook/models"
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

// IsPublic reports whether ip is an address on the public internet: not
// loopback, private, link-local, unspecified, multicast or reserved.
func IsPublic(ip netip.Addr) bool {
	ip = ip.Unmap()
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

// refusePrivate is the sender's net.Dialer Control: it runs on the address
// actually being connected to, after resolution, so a name that resolved to
// a public address when the webhook was added and to a private one now
// (DNS rebinding) is still refused.
func refusePrivate(_, address string, _ syscall.RawConn) error {
	host, _, err := net.SplitHostPort(address)
	if err != nil {
		return err
	}
	ip, err := netip.ParseAddr(host)
	if err != nil || !IsPublic(ip) {
		return fmt.Errorf("refused to connect to %s: not a public address (CALLBOOK_WEBHOOK_ALLOW_PRIVATE=true allows it)", host)
	}
	return nil
}

// HTTPSOnlyMessage refuses a plain http target and names the setting an
// operator turns on for a receiver on their own network.
const HTTPSOnlyMessage = "must use https (http is allowed only with CALLBOOK_WEBHOOK_ALLOW_PRIVATE=true)"

// Resolver looks host names up; *net.Resolver is one.
type Resolver interface {
	LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error)
}

// CheckURL says whether raw may be a webhook target: an absolute https URL
// whose host resolves to public addresses only. With allowPrivate, http and
// any address are accepted too. Its errors are ValidationErrors on "url".
func CheckURL(ctx context.Context, raw string, allowPrivate bool, r Resolver) error {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil || u.Host == "" || u.Hostname() == "" {
		return models.Invalid("url", "must be an absolute URL such as https://example.com/hooks/callbook")
	}
	switch {
	case len(raw) > 2000:
		return models.Invalid("url", "must be at most 2000 characters")
	case u.User != nil:
		return models.Invalid("url", "must not carry a user name or password; put a token in the path instead")
	case u.Scheme == "https":
	case u.Scheme == "http" && allowPrivate:
	default:
		return models.Invalid("url", HTTPSOnlyMessage)
	}
	if allowPrivate {
		return nil
	}
	host := u.Hostname()
	if ip, err := netip.ParseAddr(host); err == nil {
		if !IsPublic(ip) {
			return models.Invalid("url", "must point to a public address; "+host+" is loopback, private or reserved")
		}
		return nil
	}
	if r == nil {
		r = net.DefaultResolver
	}
	ips, err := r.LookupNetIP(ctx, "ip", host)
	if err != nil || len(ips) == 0 {
		return models.Invalid("url", "the host "+host+" could not be resolved")
	}
	for _, ip := range ips {
		if !IsPublic(ip) {
			return models.Invalid("url", "must point to a public address; "+host+" resolves to "+ip.String())
		}
	}
	return nil
}
