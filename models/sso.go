package models

import (
	"fmt"
	"strings"
)

// ParseSSODomains reads a comma-separated list of email domains
// (example.com, staff.example.org) whose people may become staff users the
// first time they sign in through the identity provider. Domains are
// compared without case; empty items are skipped.
func ParseSSODomains(v string) ([]string, error) {
	var out []string
	for _, d := range strings.Split(v, ",") {
		d = strings.ToLower(strings.TrimSpace(d))
		if d == "" {
			continue
		}
		if strings.HasPrefix(d, "@") || !ValidEmail("x@"+d) {
			return nil, fmt.Errorf("%q is not an email domain such as example.com", d)
		}
		out = append(out, d)
	}
	return out, nil
}

// EmailInDomains reports whether email's domain is exactly one of domains
// (as ParseSSODomains gives them): a subdomain does not count, so
// evil.example.com is not example.com.
func EmailInDomains(email string, domains []string) bool {
	at := strings.LastIndexByte(email, '@')
	if at < 0 {
		return false
	}
	domain := NormalizeEmail(email[at+1:])
	for _, d := range domains {
		if domain == d {
			return true
		}
	}
	return false
}
