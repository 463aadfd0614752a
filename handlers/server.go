// Package handlers is Callbook's HTTP layer: every route (routes.go), the
// public role and booking pages, the JSON API and the staff area, with one
// error renderer (errors.go). It talks to the database only through
// store.Store.
package handlers

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/go-webauthn/webauthn/webauthn"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/callbook/callbook/locale"
	"github.com/callbook/callbook/models"
	"github.com/callbook/callbook/pause"
	"github.com/callbook/callbook/store"
)

// Options are a Server's dependencies and settings.
type Options struct {
	Store   *store.Store
	Content *Content
	// Mail renders calendar files and, for the staff mail viewer, emails.
	Mail MailRenderer
	// MailViewer renders outbox rows for the staff mail viewer; without it
	// the viewer shows each email's stored snapshot.
	MailViewer MailViewer
	// Calendars reads a host's own calendars when an admin saves them;
	// without it they are read only on the scheduler's next run.
	Calendars CalendarSync
	// MailPause reports whether mail delivery is paused because the SMTP
	// server cannot be reached; the staff mail page shows it. May be nil.
	MailPause func() pause.State
	// NoMailServer says CALLBOOK_SMTP_URL is empty: every email stays in
	// the outbox, which the staff mail page and dashboard say plainly.
	NoMailServer bool
	Clock        func() time.Time
	Log          *slog.Logger
	Metrics      prometheus.Registerer
	// Gatherer serves /metrics; usually the same registry as Metrics.
	Gatherer prometheus.Gatherer

	// WebhookTargets checks webhook URLs; https only when nil.
	WebhookTargets WebhookTargetCheck

	BaseURL        string
	RateLimit      int      // submissions per client IP per minute; 0: off
	TrustedProxies []string // CIDRs whose X-Forwarded-For is believed
	// Require2FA says who must sign in with a second factor: a
	// models.Require2FA value (CALLBOOK_REQUIRE_2FA); empty is off.
	Require2FA string

	// EmbedOrigins may frame the embedded booking flow (ParseEmbedOrigins);
	// none: no page may be framed.
	EmbedOrigins []string
	// Catalog holds the visitors' languages; the built-in one when nil.
	Catalog *locale.Catalog
	// DefaultLanguage is the visitors' language when nothing else decides
	// ("en" when empty).
	DefaultLanguage string
	// SSO lets staff sign in through an OpenID Connect identity provider;
	// nil: password sign-in only.
	SSO *SSOSettings
	// Retention is the data-retention policy the audit page shows.
	Retention Retention
}

// MailRenderer is what the handlers need of the mailer: the calendar file of
// a booking and an outbox row rendered as it is (or was) sent.
type MailRenderer interface {
	InviteICS(d models.MailData, method string) ([]byte, error)
	HostFeedICS(host *models.User, calls []models.FeedCall) ([]byte, error)
}

// Server holds the router and everything its handlers need.
type Server struct {
	store   *store.Store
	content *Content
	mail    MailRenderer
	// mailView renders outbox rows for the staff mail viewer (may be nil).
	mailView MailViewer
	// calendars reads hosts' own calendars on save (may be nil).
	calendars CalendarSync
	mailPause func() pause.State
	// noMailServer: no SMTP server is set, so nothing is sent.
	noMailServer bool
	clock        func() time.Time
	log          *slog.Logger
	metrics      *metrics
	gather       prometheus.Gatherer

	baseURL *url.URL
	secure  bool // base URL is https: Secure cookies, HSTS
	limiter *ipLimiter
	zones   zoneCache
	pages   *pages
	// catalog and defaultLang are the visitors' languages (language.go).
	catalog     *locale.Catalog
	defaultLang string
	// openAPI is docs/openapi.yaml as JSON, converted on first use.
	openAPI func() ([]byte, error)

	webhookTargets WebhookTargetCheck
	// trusted are the proxies whose forwarding headers are believed.
	trusted []netip.Prefix
	// embedOrigins may frame /embed/… (canonical origins).
	embedOrigins []string
	// require2FA: who must have a second factor (models.Require2FA…).
	require2FA string
	// webauthn checks passkeys for the base URL's host and origin; nil
	// when the base URL's host is an address, where browsers refuse them.
	webauthn *webauthn.WebAuthn
	// sso signs staff in through an identity provider (nil: off).
	sso       *sso
	retention Retention

	engine *gin.Engine
}

// New builds the Server and its routes.
func New(opts Options) (*Server, error) {
	if opts.Store == nil || opts.Content == nil {
		return nil, errors.New("handlers: Store and Content are required")
	}
	opts.Store.SetFollowups(opts.Content.Followups())
	base, err := url.Parse(opts.BaseURL)
	if err != nil || base.Scheme == "" || base.Host == "" {
		return nil, errors.New("handlers: BaseURL must be an absolute URL")
	}
	s := &Server{
		store: opts.Store, content: opts.Content, mail: opts.Mail, mailView: opts.MailViewer, calendars: opts.Calendars,
		mailPause: opts.MailPause, noMailServer: opts.NoMailServer, clock: opts.Clock, log: opts.Log,
		gather: opts.Gatherer, baseURL: base, secure: base.Scheme == "https", require2FA: opts.Require2FA,
		retention: opts.Retention,
	}
	if s.retention.Audit == 0 {
		s.retention.Audit = models.DefaultAuditRetention
	}
	s.webauthn = newWebAuthn(base, s.log)
	// A reschedule moves a call on its kind's grid, among its kind's hosts.
	opts.Store.SetCallKinds(opts.Content.CallKind)
	if s.webhookTargets = opts.WebhookTargets; s.webhookTargets == nil {
		s.webhookTargets = httpsOnly
	}
	if s.clock == nil {
		s.clock = time.Now
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	reg := opts.Metrics
	if reg == nil {
		r := prometheus.NewRegistry()
		reg, s.gather = r, r
	}
	s.metrics = newMetrics(reg)
	if s.embedOrigins, err = ParseEmbedOrigins(strings.Join(opts.EmbedOrigins, ",")); err != nil {
		return nil, fmt.Errorf("handlers: EmbedOrigins: %w", err)
	}
	if opts.SSO != nil {
		s.sso = newSSO(*opts.SSO, s.absURL("/admin/oidc/callback"))
	}
	if opts.RateLimit > 0 {
		s.limiter = newIPLimiter(opts.RateLimit, time.Minute)
	}
	if s.catalog = opts.Catalog; s.catalog == nil {
		if s.catalog, err = locale.Load(); err != nil {
			return nil, err
		}
	}
	if s.defaultLang = opts.DefaultLanguage; s.defaultLang == "" {
		s.defaultLang = "en"
	}
	if !locale.Supported(s.defaultLang) {
		return nil, fmt.Errorf("handlers: default language %q is not one of %s", s.defaultLang, strings.Join(locale.Languages, ", "))
	}
	if s.pages, err = loadPages(s.catalog); err != nil {
		return nil, err
	}
	s.openAPI = sync.OnceValues(func() ([]byte, error) { return embeddedOpenAPI(s.baseURL.String()) })
	gin.SetMode(gin.ReleaseMode)
	s.engine = gin.New()
	s.engine.ContextWithFallback = true
	s.engine.HandleMethodNotAllowed = false
	if err := s.engine.SetTrustedProxies(opts.TrustedProxies); err != nil {
		return nil, err
	}
	if len(opts.TrustedProxies) == 0 {
		s.engine.ForwardedByClientIP = false
	}
	if s.trusted, err = parsePrefixes(opts.TrustedProxies); err != nil {
		return nil, err
	}
	s.routes()
	return s, nil
}

// parsePrefixes reads trusted proxies as Gin takes them: CIDRs or single
// addresses.
func parsePrefixes(list []string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, p := range list {
		if pre, err := netip.ParsePrefix(p); err == nil {
			out = append(out, pre.Masked())
			continue
		}
		a, err := netip.ParseAddr(p)
		if err != nil {
			return nil, fmt.Errorf("handlers: trusted proxy %q: %w", p, err)
		}
		out = append(out, netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()))
	}
	return out, nil
}

// fromTrustedProxy reports whether the request came straight from one of
// the trusted proxies, whose forwarding headers may then be believed.
func (s *Server) fromTrustedProxy(c *gin.Context) bool {
	a, err := netip.ParseAddr(c.RemoteIP())
	if err != nil {
		return false
	}
	a = a.Unmap()
	for _, p := range s.trusted {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// ServeHTTP makes Server an http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.engine.ServeHTTP(w, r) }

// now is the server's clock in UTC.
func (s *Server) now() time.Time { return s.clock().UTC() }

// absURL makes an absolute URL from a path under the base URL.
func (s *Server) absURL(path string) string {
	u := *s.baseURL
	u.Path = singleJoin(u.Path, path)
	return u.String()
}

func singleJoin(a, b string) string {
	for len(a) > 0 && a[len(a)-1] == '/' {
		a = a[:len(a)-1]
	}
	return a + b
}
