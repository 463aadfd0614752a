package handlers

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"net/http"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/gin-gonic/gin"
	"golang.org/x/oauth2"

	"github.com/callbook/callbook/store"
)

// SSOSettings let staff sign in through an OpenID Connect identity
// provider (single sign-on).
type SSOSettings struct {
	Issuer       string
	ClientID     string
	ClientSecret string
	// Name is what the sign-in page calls the provider: "Sign in with {Name}".
	Name string
	// Domains (models.ParseSSODomains) are the email domains whose people
	// become sales users the first time they sign in; others must be
	// staff users already.
	Domains []string
	// HTTPClient talks to the provider; nil: one with a 10 s timeout.
	HTTPClient *http.Client
}

// Single sign-on timing.
const (
	// ssoFlowLife is how long a started sign-in may take at the provider.
	ssoFlowLife = 10 * time.Minute
	// ssoRetryAfter is how long after a failed discovery of the provider
	// sign-ins are refused at once, before the next try.
	ssoRetryAfter = 30 * time.Second
	// ssoCookiePurpose keys the sealed flow cookie.
	ssoCookiePurpose = "oidc sign-in"
	ssoCookie        = "callbook_oidc"
	secureSSOCookie  = "__Host-callbook_oidc"
)

// errSSOUnreachable: the provider's discovery document could not be read.
var errSSOUnreachable = errors.New("identity provider unreachable")

// sso is the single sign-on client: the provider, discovered on first use
// rather than at start, so a provider that is down for a while makes
// sign-ins through it fail with a message instead of stopping the service.
type sso struct {
	settings SSOSettings
	redirect string // {base}/admin/oidc/callback
	client   *http.Client

	mu       sync.Mutex // guards provider and failedAt, held while discovering
	provider *oidc.Provider
	failedAt time.Time // last failed discovery; zero after a success

	usedMu sync.Mutex
	// used holds the states of callbacks already taken, until their flow
	// would have expired, so one callback is never accepted twice.
	used map[string]time.Time
}

func newSSO(set SSOSettings, redirect string) *sso {
	if set.Name == "" {
		set.Name = "SSO"
	}
	client := set.HTTPClient
	if client == nil {
		client = &http.Client{Timeout: 10 * time.Second}
	}
	return &sso{settings: set, redirect: redirect, client: client, used: map[string]time.Time{}}
}

// ctx carries the HTTP client go-oidc and oauth2 should use.
func (p *sso) ctx(ctx context.Context) context.Context { return oidc.ClientContext(ctx, p.client) }

// discover returns the provider, reading its discovery document when it
// has not been read yet. After a failure it answers errSSOUnreachable
// without trying again for ssoRetryAfter, so a provider that is down does
// not make every sign-in wait for a timeout.
func (p *sso) discover(ctx context.Context, now time.Time) (*oidc.Provider, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.provider != nil {
		return p.provider, nil
	}
	if !p.failedAt.IsZero() && now.Sub(p.failedAt) < ssoRetryAfter {
		return nil, errSSOUnreachable
	}
	prov, err := oidc.NewProvider(p.ctx(ctx), p.settings.Issuer)
	if err != nil {
		p.failedAt = now
		return nil, errors.Join(errSSOUnreachable, err)
	}
	p.provider, p.failedAt = prov, time.Time{}
	return prov, nil
}

// oauth is the authorization code flow's settings for prov.
func (p *sso) oauth(prov *oidc.Provider) *oauth2.Config {
	return &oauth2.Config{
		ClientID: p.settings.ClientID, ClientSecret: p.settings.ClientSecret, Endpoint: prov.Endpoint(),
		RedirectURL: p.redirect, Scopes: []string{oidc.ScopeOpenID, "email", "profile"},
	}
}

// takeState records that the callback of state has been taken and reports
// whether it had been before. Entries leave once their flow has expired.
func (p *sso) takeState(state string, expires, now time.Time) (fresh bool) {
	p.usedMu.Lock()
	defer p.usedMu.Unlock()
	for k, exp := range p.used {
		if now.After(exp) {
			delete(p.used, k)
		}
	}
	if _, taken := p.used[state]; taken {
		return false
	}
	p.used[state] = expires
	return true
}

// ssoFlow is what the browser keeps, sealed, between the start of a
// sign-in and the provider's callback.
type ssoFlow struct {
	State    string `json:"s"`
	Nonce    string `json:"n"`
	Verifier string `json:"v"`
	Next     string `json:"next"`
	Expires  int64  `json:"exp"`
}

func (s *Server) ssoCookieName() string {
	if s.secure {
		return secureSSOCookie
	}
	return ssoCookie
}

// setSSOCookie writes the flow cookie; "" deletes it. SameSite=Lax, so the
// browser sends it on the provider's redirect back, a top-level GET.
func (s *Server) setSSOCookie(c *gin.Context, value string) {
	maxAge := int(ssoFlowLife.Seconds())
	if value == "" {
		maxAge = -1
	}
	http.SetCookie(c.Writer, &http.Cookie{
		Name: s.ssoCookieName(), Value: value, Path: "/", MaxAge: maxAge,
		HttpOnly: true, Secure: s.secure, SameSite: http.SameSiteLaxMode,
	})
}

// ssoName is the provider's name for the sign-in page, "" without single
// sign-on.
func (s *Server) ssoName() string {
	if s.sso == nil {
		return ""
	}
	return s.sso.settings.Name
}

// ssoStart begins a sign-in through the identity provider: it keeps a new
// state, nonce and PKCE verifier in a sealed cookie of this browser and
// sends the browser to the provider. It answers a link (GET), not a form:
// the pages' form-action policy would stop a form's redirect to the
// provider, and starting a sign-in changes nothing but this browser's own
// flow cookie.
func (s *Server) ssoStart(c *gin.Context) {
	c.Header("Cache-Control", "no-store")
	if s.sso == nil {
		s.fail(c, errRouteNotFound)
		return
	}
	next := safeNext(c.Query("next"))
	prov, err := s.sso.discover(c.Request.Context(), s.now())
	if err != nil {
		s.log.Warn("single sign-on: identity provider unreachable", "issuer", s.sso.settings.Issuer, "err", err)
		s.renderLogin(c, http.StatusServiceUnavailable, "", next, "Signing in with "+s.ssoName()+
			" is not possible right now: its identity provider cannot be reached. Try again in a minute, or sign in with your password.")
		return
	}
	flow := ssoFlow{State: store.RandomToken(32), Nonce: store.RandomToken(32), Verifier: oauth2.GenerateVerifier(),
		Next: next, Expires: s.now().Add(ssoFlowLife).Unix()}
	b, err := json.Marshal(flow)
	if err != nil {
		s.fail(c, err)
		return
	}
	s.setSSOCookie(c, s.store.SealForBrowser(ssoCookiePurpose, string(b)))
	c.Redirect(http.StatusSeeOther, s.sso.oauth(prov).AuthCodeURL(flow.State, oidc.Nonce(flow.Nonce), oauth2.S256ChallengeOption(flow.Verifier)))
}

// ssoFlowOf opens this browser's flow cookie. ok is false when there is
// none, or it was changed or has expired.
func (s *Server) ssoFlowOf(c *gin.Context) (flow ssoFlow, ok bool) {
	// Not c.Cookie, which would unescape the sealed value's '+' to ' '.
	ck, err := c.Request.Cookie(s.ssoCookieName())
	if err != nil || ck.Value == "" {
		return flow, false
	}
	plain, err := s.store.OpenFromBrowser(ssoCookiePurpose, ck.Value)
	if err != nil || json.Unmarshal([]byte(plain), &flow) != nil || flow.State == "" {
		return flow, false
	}
	return flow, s.now().Before(time.Unix(flow.Expires, 0))
}

// sameState compares the callback's state with the flow's in constant time.
func sameState(got, want string) bool {
	return want != "" && subtle.ConstantTimeCompare([]byte(got), []byte(want)) == 1
}
