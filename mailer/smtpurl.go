package mailer

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
)

// TLSMode is how the connection to the SMTP server is protected.
type TLSMode string

// TLS modes, from CALLBOOK_SMTP_URL.
const (
	// TLSOpportunistic upgrades with STARTTLS when the server offers it and
	// sends in the clear when it does not (smtp://).
	TLSOpportunistic TLSMode = "starttls-when-offered"
	// TLSRequired insists on STARTTLS and refuses to send without it
	// (smtp://…?tls=required).
	TLSRequired TLSMode = "starttls-required"
	// TLSImplicit speaks TLS from the first byte (smtps://).
	TLSImplicit TLSMode = "implicit-tls"
)

// Default ports when the URL names none.
const (
	defaultSMTPPort  = 25
	defaultSMTPSPort = 465
)

// SMTPConfig says where and how to deliver mail. The zero value means no
// server is configured: mail is kept in the outbox and not delivered.
type SMTPConfig struct {
	Host     string
	Port     int
	Username string
	Password string
	TLS      TLSMode
}

// Configured reports whether a server was given.
func (c SMTPConfig) Configured() bool { return c.Host != "" }

// String describes the server for logs, never showing the password.
func (c SMTPConfig) String() string {
	if !c.Configured() {
		return "(not configured)"
	}
	user := ""
	if c.Username != "" {
		user = url.User(c.Username).String() + ":***@"
	}
	scheme := "smtp"
	if c.TLS == TLSImplicit {
		scheme = "smtps"
	}
	return fmt.Sprintf("%s://%s%s (%s)", scheme, user, net.JoinHostPort(c.Host, strconv.Itoa(c.Port)), c.TLS)
}

// ParseSMTPURL reads CALLBOOK_SMTP_URL (README.md, Configuration):
//
//	smtp://[user:pass@]host[:port]               STARTTLS when the server offers it (port 25 by default)
//	smtp://[user:pass@]host[:port]?tls=required  STARTTLS or no delivery
//	smtps://[user:pass@]host[:port]              TLS from the start (port 465 by default)
//
// An empty string is the zero SMTPConfig (no delivery). Any other input is
// an error that says what is wrong with it; user and password may be
// percent-encoded.
func ParseSMTPURL(raw string) (SMTPConfig, error) {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return SMTPConfig{}, nil
	}
	u, err := url.Parse(raw)
	if err != nil {
		return SMTPConfig{}, errors.New("not a valid URL; use smtp://[user:pass@]host:port or smtps://…")
	}
	cfg := SMTPConfig{Host: u.Hostname()}
	switch u.Scheme {
	case "smtp":
		cfg.TLS, cfg.Port = TLSOpportunistic, defaultSMTPPort
	case "smtps":
		cfg.TLS, cfg.Port = TLSImplicit, defaultSMTPSPort
	default:
		return SMTPConfig{}, fmt.Errorf("scheme %q is not supported; use smtp:// or smtps://", u.Scheme)
	}
	if cfg.Host == "" {
		return SMTPConfig{}, errors.New("no host; use smtp://host:port")
	}
	if u.Path != "" && u.Path != "/" || u.Fragment != "" {
		return SMTPConfig{}, errors.New("a path or fragment has no meaning here; use smtp://host:port")
	}
	if p := u.Port(); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 65535 {
			return SMTPConfig{}, fmt.Errorf("port %q is not a number from 1 to 65535", p)
		}
		cfg.Port = n
	}
	if err := parseSMTPUser(u, &cfg); err != nil {
		return SMTPConfig{}, err
	}
	if err := parseSMTPQuery(u, &cfg); err != nil {
		return SMTPConfig{}, err
	}
	return cfg, nil
}

func parseSMTPUser(u *url.URL, cfg *SMTPConfig) error {
	if u.User == nil {
		return nil
	}
	cfg.Username = u.User.Username()
	pass, ok := u.User.Password()
	switch {
	case cfg.Username == "":
		return errors.New("a password is given without a user name")
	case !ok || pass == "":
		return errors.New("user " + cfg.Username + " has no password; use smtp://user:pass@host:port (percent-encode special characters)")
	}
	cfg.Password = pass
	return nil
}

func parseSMTPQuery(u *url.URL, cfg *SMTPConfig) error {
	for key, vals := range u.Query() {
		if key != "tls" {
			return fmt.Errorf("unknown parameter %q; the only one is tls=required", key)
		}
		if len(vals) != 1 || vals[0] != "required" {
			return errors.New("tls must be tls=required (STARTTLS or no delivery); for TLS from the start use smtps://")
		}
		if cfg.TLS == TLSImplicit {
			return errors.New("tls=required is for smtp://; smtps:// always uses TLS")
		}
		cfg.TLS = TLSRequired
	}
	return nil
}
