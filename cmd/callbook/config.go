package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/netip"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/callbook/callbook/locale"
	"github.com/callbook/callbook/mailer"
	"github.com/callbook/callbook/models"
	"github.com/callbook/callbook/store"
)

// config is every setting of the README's Configuration table.
type config struct {
	Addr    string
	BaseURL string
	// BaseURLDerived: CALLBOOK_BASE_URL was not set and BaseURL follows
	// the listen address.
	BaseURLDerived bool
	DatabaseURL    string
	SMTPURL        string
	MailFrom       string
	Timezone       *time.Location
	// DefaultLanguage is the visitors' language when nothing else decides.
	DefaultLanguage string
	Secret          string
	AdminEmail      string
	AdminPassword   string
	Reminders       []models.ReminderOffset
	Tick            time.Duration
	ContentDir      string
	RateLimit       int
	TrustedProxies  []string
	LogFormat       string
	DigestCron      string
	CleanupCron     string
	MailLease       time.Duration // 0: the mailer's default
	MetricsAddr     string        // separate /metrics listener; empty: none
	CalendarSync    time.Duration
	MeetingURL      string
	// WebhookAllowPrivate lets webhooks target http and non-public addresses.
	WebhookAllowPrivate bool
	// CalendarAllowPrivate lets hosts' calendars be read from non-public
	// addresses, such as a company's own CalDAV server.
	CalendarAllowPrivate bool
	EmbedOrigins         []string // sites that may frame the embedded booking flow
	// ShutdownDelay is how long, after SIGTERM, /readyz answers 503 while
	// every other request is still served, so a load balancer stops sending
	// new requests before the listener closes.
	ShutdownDelay time.Duration
	// Require2FA says who must sign in with a second factor (models.Require2FA…).
	Require2FA string
	// SSO is staff single sign-on; off without an issuer.
	SSO ssoConfig
	// AuditRetention is how long audit entries are kept.
	AuditRetention time.Duration
	// RetentionLeads erases leads inactive this long, every night; 0: off.
	RetentionLeads time.Duration
}

// setting is one variable: its name, default and how to apply a value.
type setting struct {
	env, def, usage string
	apply           func(c *config, v string) error
}

var settings = []setting{
	{"CALLBOOK_ADDR", ":8080", "listen address", func(c *config, v string) error { c.Addr = v; return nil }},
	{"CALLBOOK_BASE_URL", "", "absolute URL used in emails, calendar files and links; empty: http://localhost with CALLBOOK_ADDR's port (http://localhost:8080 by default)", applyBaseURL},
	{"CALLBOOK_DATABASE_URL", "sqlite:data/callbook.db", "sqlite:PATH or postgres://user:pass@host:port/db?sslmode=…", applyDatabaseURL},
	{"CALLBOOK_SMTP_URL", "", "smtp://[user:pass@]host:port, smtp://…?tls=required or smtps://…; empty keeps mail in the outbox", applySMTPURL},
	{"CALLBOOK_MAIL_FROM", "Callbook <no-reply@localhost>", "sender of every email", applyMailFrom},
	{"CALLBOOK_TIMEZONE", "America/New_York", "business time zone in which availability is written", applyTimezone},
	{"CALLBOOK_SECRET", "", "key for signing cookies and links (generated beside the SQLite file when empty)", func(c *config, v string) error { c.Secret = v; return nil }},
	{"CALLBOOK_ADMIN_EMAIL", "", "first admin's email, created at start when no admin exists", func(c *config, v string) error { c.AdminEmail = v; return nil }},
	{"CALLBOOK_ADMIN_PASSWORD", "", "first admin's password", func(c *config, v string) error { c.AdminPassword = v; return nil }},
	{"CALLBOOK_REMINDERS", "24h,1h", "reminder offsets before a call, Go durations", applyReminders},
	{"CALLBOOK_TICK", "1m", "how often the scheduler looks for due reminders and unsent mail", applyTick},
	{"CALLBOOK_CONTENT_DIR", "", "folder of role-page files replacing the built-in ones", applyContentDir},
	{"CALLBOOK_RATE_LIMIT", "30", "public submissions per client IP per minute; 0 turns the limit off", applyRateLimit},
	{"CALLBOOK_TRUSTED_PROXIES", "", "comma-separated CIDRs whose X-Forwarded-For is believed", applyProxies},
	{"CALLBOOK_LOG_FORMAT", "text", "text or json", applyLogFormat},
	{"CALLBOOK_MAIL_LEASE", "", "how long a replica holds the emails it is sending before another may take them over; empty: the built-in lease", applyMailLease},
	{"CALLBOOK_EMBED_ORIGINS", "", "comma-separated origins (https://www.example.com) allowed to frame the embedded booking flow; empty: none", applyEmbedOrigins},
	{"CALLBOOK_METRICS_ADDR", "", "address of a separate listener serving /metrics without credentials, such as 127.0.0.1:9090; empty: none", applyMetricsAddr},
	{"CALLBOOK_CALENDAR_SYNC", "5m", "how often hosts' own calendars are read", applyCalendarSync},
	{"CALLBOOK_MEETING_URL", "", "video-call URL of hosts without a meeting place of their own; {booking} becomes the booking's uid", applyMeetingURL},
	{"CALLBOOK_WEBHOOK_ALLOW_PRIVATE", "false", "allow webhook targets on http and on loopback or private addresses", applyWebhookAllowPrivate},
	{"CALLBOOK_CALENDAR_ALLOW_PRIVATE", "false", "allow calendar sources on loopback or private addresses, such as a company's own CalDAV server", applyCalendarAllowPrivate},
	{"CALLBOOK_SHUTDOWN_DELAY", "5s", "on SIGTERM, how long /readyz answers 503 while requests are still served, before the listener closes; 0 closes it at once", applyShutdownDelay},
	{"CALLBOOK_DEFAULT_LANGUAGE", "en", "language of public pages and visitor emails when nothing else decides: en, de or es", applyDefaultLanguage},
	{"CALLBOOK_REQUIRE_2FA", "admins", "who must sign in with a second factor (authenticator app or passkey): admins, all or off", applyRequire2FA},
	{"CALLBOOK_OIDC_ISSUER", "", "OpenID Connect issuer URL for staff single sign-on; empty: off", applySSOIssuer},
	{"CALLBOOK_OIDC_CLIENT_ID", "", "client id Callbook has at the identity provider", func(c *config, v string) error { c.SSO.ClientID = v; return nil }},
	{"CALLBOOK_OIDC_CLIENT_SECRET", "", "client secret Callbook has at the identity provider", func(c *config, v string) error { c.SSO.ClientSecret = v; return nil }},
	{"CALLBOOK_OIDC_NAME", "SSO", `what the sign-in page calls the identity provider: "Sign in with NAME"`, func(c *config, v string) error { c.SSO.Name = v; return nil }},
	{"CALLBOOK_OIDC_DOMAINS", "", "comma-separated email domains whose people become sales users at their first single sign-on; empty: only existing staff users", applySSODomains},
	{"CALLBOOK_AUDIT_RETENTION", "8760h", "how long audit entries are kept; older ones are removed every night", applyAuditRetention},
	{"CALLBOOK_RETENTION_LEADS", "", "erase, every night, leads with no call, note or change for this long and no call to come (a Go duration such as 17520h); empty: off", applyRetentionLeads},
	{"CALLBOOK_DIGEST_CRON", "0 8 * * 1-5", "when the daily digest goes to sales staff (cron syntax, business zone)", func(c *config, v string) error { c.DigestCron = v; return nil }},
	{"CALLBOOK_CLEANUP_CRON", "30 3 * * *", "when the nightly clean-up and lead retention run (cron syntax, business zone)", func(c *config, v string) error { c.CleanupCron = v; return nil }},
}

// flagName turns CALLBOOK_BASE_URL into base-url.
func flagName(env string) string {
	return strings.ReplaceAll(strings.ToLower(strings.TrimPrefix(env, "CALLBOOK_")), "_", "-")
}

// loadConfig reads every setting from, in order of precedence, a flag in
// args (serve only), the environment, NAME_FILE, and the default. A bad
// value is an error that names the variable.
func loadConfig(args []string, withFlags bool) (*config, error) {
	values := map[string]string{}
	for _, s := range settings {
		v, err := fromEnv(s.env)
		if err != nil {
			return nil, err
		}
		if v == nil {
			d := s.def
			v = &d
		}
		values[s.env] = *v
	}
	if withFlags {
		fs := flag.NewFlagSet("serve", flag.ContinueOnError)
		fs.SetOutput(io.Discard) // errors are reported in one line by run
		ptrs := map[string]*string{}
		for _, s := range settings {
			ptrs[s.env] = fs.String(flagName(s.env), values[s.env], s.usage+" ("+s.env+")")
		}
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				fs.SetOutput(os.Stdout)
				fs.PrintDefaults()
				return nil, errHelpShown
			}
			return nil, usageError{fmt.Errorf("%w (callbook serve --help lists the flags)", err)}
		}
		if fs.NArg() > 0 {
			return nil, usageError{fmt.Errorf("serve takes no arguments, got %q", fs.Args())}
		}
		for k, p := range ptrs {
			values[k] = *p
		}
	}
	c := &config{}
	for _, s := range settings {
		if err := s.apply(c, values[s.env]); err != nil {
			return nil, fmt.Errorf("%s: %w", s.env, err)
		}
	}
	if c.BaseURL == "" {
		c.BaseURL, c.BaseURLDerived = baseURLFromAddr(c.Addr), true
	}
	if c.Secret == "" && strings.HasPrefix(c.DatabaseURL, "postgres") {
		return nil, errors.New("CALLBOOK_SECRET: required with PostgreSQL (set it, or CALLBOOK_SECRET_FILE, on every replica)")
	}
	if err := c.checkSSO(); err != nil {
		return nil, err
	}
	if (c.AdminEmail == "") != (c.AdminPassword == "") {
		return nil, errors.New("CALLBOOK_ADMIN_EMAIL and CALLBOOK_ADMIN_PASSWORD: set both or neither")
	}
	return c, nil
}

// fromEnv reads NAME, or the file named by NAME_FILE (trailing newline
// dropped). Both set is an error.
func fromEnv(name string) (*string, error) {
	v, ok := os.LookupEnv(name)
	path, fok := os.LookupEnv(name + "_FILE")
	switch {
	case ok && fok:
		return nil, fmt.Errorf("%s and %s_FILE are both set: use one", name, name)
	case fok:
		b, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("%s_FILE: %w", name, err)
		}
		s := strings.TrimRight(string(b), "\r\n")
		return &s, nil
	case ok:
		return &v, nil
	}
	return nil, nil
}

func applyBaseURL(c *config, v string) error {
	if v == "" {
		return nil // derived from the listen address once that is known
	}
	u, err := url.Parse(v)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return errors.New("must be an absolute http(s) URL such as https://book.example.com")
	}
	c.BaseURL = strings.TrimRight(v, "/")
	return nil
}

// baseURLFromAddr is the base URL of a server reached where it listens:
// http://localhost and the port of addr, or addr's own host when it names
// one. A wildcard host (0.0.0.0, ::) is reached as localhost too.
func baseURLFromAddr(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil || port == "" {
		return "http://localhost:8080"
	}
	if ip, err := netip.ParseAddr(host); host == "" || (err == nil && ip.IsUnspecified()) {
		host = "localhost"
	}
	return "http://" + net.JoinHostPort(host, port)
}

func applyDatabaseURL(c *config, v string) error {
	if _, _, err := store.ParseDatabaseURL(v); err != nil {
		return err
	}
	c.DatabaseURL = v
	return nil
}

func applySMTPURL(c *config, v string) error {
	if v == "" {
		return nil
	}
	u, err := url.Parse(v)
	if err != nil || (u.Scheme != "smtp" && u.Scheme != "smtps") || u.Hostname() == "" {
		return errors.New("must be smtp://[user:pass@]host:port, smtp://…?tls=required or smtps://…")
	}
	c.SMTPURL = v
	return nil
}

func applyMailFrom(c *config, v string) error {
	if !strings.Contains(v, "@") || strings.ContainsAny(v, "\r\n") {
		return errors.New("must be an address such as \"Callbook <no-reply@example.com>\"")
	}
	c.MailFrom = v
	return nil
}

func applyMeetingURL(c *config, v string) error {
	if v != "" {
		if err := models.CheckMeetingURL(v); err != nil {
			return err
		}
	}
	c.MeetingURL = v
	return nil
}

func applyDefaultLanguage(c *config, v string) error {
	if !locale.Supported(v) {
		return fmt.Errorf("must be one of %s", strings.Join(locale.Languages, ", "))
	}
	c.DefaultLanguage = v
	return nil
}

func applyTimezone(c *config, v string) error {
	loc, err := time.LoadLocation(v)
	if err != nil || v == "" || v == "Local" {
		return errors.New("must be an IANA time zone such as America/New_York")
	}
	c.Timezone = loc
	return nil
}

func applyReminders(c *config, v string) error {
	c.Reminders = nil
	seen := map[string]bool{}
	for _, part := range strings.Split(v, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		d, err := time.ParseDuration(part)
		if err != nil || d <= 0 {
			return fmt.Errorf("%q is not a positive Go duration such as 24h or 90m", part)
		}
		if seen[part] {
			return fmt.Errorf("%q is listed twice", part)
		}
		seen[part] = true
		c.Reminders = append(c.Reminders, models.ReminderOffset{Label: part, Before: d})
	}
	return nil
}

func applyTick(c *config, v string) error {
	d, err := time.ParseDuration(v)
	if err != nil || d < 100*time.Millisecond {
		return errors.New("must be a Go duration of at least 100ms, such as 1m or 1s")
	}
	c.Tick = d
	return nil
}

func applyMailLease(c *config, v string) error {
	c.MailLease = 0
	if v == "" {
		return nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d < 4*time.Second {
		return errors.New("must be a Go duration of at least 4s, such as 1m")
	}
	c.MailLease = d
	return nil
}

// mailTimeout bounds each SMTP step: the mailer's default, or a quarter of
// a shorter lease, since a sender gives its rows back two timeouts before
// its lease ends.
func (c *config) mailTimeout() time.Duration {
	if c.MailLease > 0 && c.MailLease/4 < mailer.DefaultTimeout {
		return c.MailLease / 4
	}
	return 0
}

// maxShutdownDelay keeps a stop from hanging on a mistyped delay (5h for 5s).
const maxShutdownDelay = 5 * time.Minute

func applyShutdownDelay(c *config, v string) error {
	d, err := time.ParseDuration(v)
	if err != nil || d < 0 || d > maxShutdownDelay {
		return fmt.Errorf("must be a Go duration from 0 to %v, such as 5s", maxShutdownDelay)
	}
	c.ShutdownDelay = d
	return nil
}

// minRetention is the shortest retention either setting accepts, so a
// mistyped unit (24m for 24h) cannot erase what was written today.
const minRetention = 24 * time.Hour

func applyAuditRetention(c *config, v string) error {
	d, err := time.ParseDuration(v)
	if err != nil || d < minRetention {
		return fmt.Errorf("must be a Go duration of at least %v, such as 8760h (a year)", minRetention)
	}
	c.AuditRetention = d
	return nil
}

func applyRetentionLeads(c *config, v string) error {
	if v == "" {
		c.RetentionLeads = 0
		return nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d < minRetention {
		return fmt.Errorf("must be empty (off) or a Go duration of at least %v, such as 17520h (two years)", minRetention)
	}
	c.RetentionLeads = d
	return nil
}

func applyCalendarSync(c *config, v string) error {
	d, err := time.ParseDuration(v)
	if err != nil || d < time.Second {
		return errors.New("must be a Go duration of at least 1s, such as 5m")
	}
	c.CalendarSync = d
	return nil
}

func applyContentDir(c *config, v string) error {
	if v != "" {
		if st, err := os.Stat(v); err != nil || !st.IsDir() {
			return fmt.Errorf("%q is not a readable folder", v)
		}
	}
	c.ContentDir = v
	return nil
}

func applyRateLimit(c *config, v string) error {
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		return errors.New("must be a whole number of submissions per minute, 0 to turn the limit off")
	}
	c.RateLimit = n
	return nil
}

func applyProxies(c *config, v string) error {
	c.TrustedProxies = nil
	for _, p := range strings.Split(v, ",") {
		p = strings.TrimSpace(p)
		if p == "" {
			continue
		}
		if _, err := netip.ParsePrefix(p); err != nil {
			if _, err := netip.ParseAddr(p); err != nil {
				return fmt.Errorf("%q is not a CIDR such as 10.0.0.0/8", p)
			}
		}
		c.TrustedProxies = append(c.TrustedProxies, p)
	}
	return nil
}

func applyRequire2FA(c *config, v string) (err error) {
	c.Require2FA, err = models.ParseRequire2FA(v)
	return err
}

func applyLogFormat(c *config, v string) error {
	if v != "text" && v != "json" {
		return errors.New("must be text or json")
	}
	c.LogFormat = v
	return nil
}

// errHelpShown ends a command successfully after printing its help.
var errHelpShown = errors.New("help shown")

// usageError marks bad command-line usage (exit code 2).
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }

func applyWebhookAllowPrivate(c *config, v string) error {
	return parseBool(v, &c.WebhookAllowPrivate)
}

func applyCalendarAllowPrivate(c *config, v string) error {
	return parseBool(v, &c.CalendarAllowPrivate)
}

func parseBool(v string, dst *bool) error {
	b, err := strconv.ParseBool(v)
	if err != nil {
		return fmt.Errorf("must be true or false, not %q", v)
	}
	*dst = b
	return nil
}
