package main

import (
	"errors"
	"net/url"
	"strings"

	"github.com/callbook/callbook/handlers"
	"github.com/callbook/callbook/models"
)

// ssoConfig is staff single sign-on through an OpenID Connect provider.
type ssoConfig struct {
	Issuer       string
	ClientID     string
	ClientSecret string
	Name         string
	Domains      []string
}

func applySSOIssuer(c *config, v string) error {
	if v != "" {
		u, err := url.Parse(v)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
			return errors.New("must be the identity provider's issuer URL, such as https://login.example.com/realms/staff")
		}
	}
	c.SSO.Issuer = v
	return nil
}

func applySSODomains(c *config, v string) error {
	d, err := models.ParseSSODomains(v)
	c.SSO.Domains = d
	return err
}

// checkSSO: single sign-on needs the issuer, the client id and its secret
// together; the domain rule means nothing without them.
func (c *config) checkSSO() error {
	set := map[string]bool{
		"CALLBOOK_OIDC_ISSUER":        c.SSO.Issuer != "",
		"CALLBOOK_OIDC_CLIENT_ID":     c.SSO.ClientID != "",
		"CALLBOOK_OIDC_CLIENT_SECRET": c.SSO.ClientSecret != "",
	}
	var missing []string
	for _, name := range []string{"CALLBOOK_OIDC_ISSUER", "CALLBOOK_OIDC_CLIENT_ID", "CALLBOOK_OIDC_CLIENT_SECRET"} {
		if !set[name] {
			missing = append(missing, name)
		}
	}
	switch {
	case len(missing) == 0 || len(missing) == 3 && len(c.SSO.Domains) == 0:
		return nil
	case len(missing) == 3:
		return errors.New("CALLBOOK_OIDC_DOMAINS: needs CALLBOOK_OIDC_ISSUER, CALLBOOK_OIDC_CLIENT_ID and CALLBOOK_OIDC_CLIENT_SECRET")
	}
	return errors.New(missing[0] + ": single sign-on needs CALLBOOK_OIDC_ISSUER, CALLBOOK_OIDC_CLIENT_ID and CALLBOOK_OIDC_CLIENT_SECRET (or its _FILE) together; missing " + strings.Join(missing, ", "))
}

// ssoSettings are the handlers' single sign-on settings; nil when it is off.
func (c *config) ssoSettings() *handlers.SSOSettings {
	if c.SSO.Issuer == "" {
		return nil
	}
	return &handlers.SSOSettings{Issuer: c.SSO.Issuer, ClientID: c.SSO.ClientID, ClientSecret: c.SSO.ClientSecret,
		Name: c.SSO.Name, Domains: c.SSO.Domains}
}
