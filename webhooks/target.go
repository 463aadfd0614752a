package webhooks

import (
	"context"
	"net/url"
	"strings"

	"github.com/callbook/callbook/models"
	"github.com/callbook/callbook/netguard"
)

// allowSetting is the variable that lets webhooks reach private addresses.
const allowSetting = "CALLBOOK_WEBHOOK_ALLOW_PRIVATE"

// HTTPSOnlyMessage refuses a plain http target and names the setting an
// operator turns on for a receiver on their own network.
const HTTPSOnlyMessage = "must use https (http is allowed only with CALLBOOK_WEBHOOK_ALLOW_PRIVATE=true)"

// Resolver looks host names up; *net.Resolver is one.
type Resolver = netguard.Resolver

// CheckURL says whether raw may be a webhook target: an absolute https URL
// whose host resolves to public addresses only (netguard's rule). With
// allowPrivate, http and any address are accepted too. Its errors are
// ValidationErrors on "url".
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
	if err := netguard.CheckHost(ctx, u.Hostname(), r); err != nil {
		return models.Invalid("url", err.Error())
	}
	return nil
}
