package handlers

import (
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/callbook/callbook/handlers/ssotest"
	"github.com/callbook/callbook/models"
	"github.com/callbook/callbook/store"
	"github.com/callbook/callbook/store/storetest"
)

// The identity provider in these tests is zitadel's OpenID Connect
// provider (ssotest), served on a loopback port; Callbook is served on
// another, and a browser with a cookie jar goes back and forth between them.

// idpAccounts are the provider's accounts.
var idpAccounts = []ssotest.Account{
	{Username: "ana", Email: "Ana@Firm.Test", EmailVerified: true, FirstName: "Ana", LastName: "Lima"},
	{Username: "bo", Email: "bo@firm.test", EmailVerified: false, FirstName: "Bo", LastName: "Berg"},
	{Username: "newbie", Email: "New.Person@Partner.Test", EmailVerified: true, FirstName: "New", LastName: "Person"},
	{Username: "dora", Email: "dora@firm.test", EmailVerified: true, FirstName: "Dora", LastName: "Diaz"},
	{Username: "outside", Email: "eve@elsewhere.test", EmailVerified: true, FirstName: "Eve", LastName: "Else"},
}

// lateHandler serves a handler set after its server's URL is known.
type lateHandler struct{ h http.Handler }

func (l *lateHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) { l.h.ServeHTTP(w, r) }

// startIDP serves the provider at addr, with Callbook at base as its client.
func startIDP(t *testing.T, addr, base string, claimsInToken bool) string {
	t.Helper()
	return ssotest.Start(t, addr, base+"/admin/oidc/callback", claimsInToken, idpAccounts...)
}

// ssoEnv is Callbook and an identity provider, both listening.
type ssoEnv struct {
	*testEnv
	base   string // Callbook's URL
	issuer string
}

// newSSOEnv starts Callbook with single sign-on through a provider it
// starts too; tweak changes the settings.
func newSSOEnv(t *testing.T, claimsInToken bool, tweak ...func(*SSOSettings)) *ssoEnv {
	t.Helper()
	late := &lateHandler{}
	cb := httptest.NewServer(late)
	t.Cleanup(cb.Close)
	issuer := startIDP(t, storetest.FreeAddr(t), cb.URL, claimsInToken)
	set := SSOSettings{Issuer: issuer, ClientID: ssotest.ClientID, ClientSecret: ssotest.ClientSecret, Name: "Firm Login"}
	for _, f := range tweak {
		f(&set)
	}
	e := newTestServer(t, store.DialectSQLite, func(o *Options) { o.BaseURL, o.SSO = cb.URL, &set })
	late.h = e.srv
	return &ssoEnv{testEnv: e, base: cb.URL, issuer: issuer}
}

// browser is a web browser: it keeps cookies and, when stopAtCallback is
// set, stops before the provider's redirect back to Callbook.
type browser struct {
	t              *testing.T
	client         *http.Client
	stopAtCallback bool
}

func newBrowser(t *testing.T) *browser {
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	b := &browser{t: t}
	b.client = &http.Client{Jar: jar, CheckRedirect: func(req *http.Request, via []*http.Request) error {
		if b.stopAtCallback && req.URL.Path == "/admin/oidc/callback" {
			return http.ErrUseLastResponse
		}
		return nil
	}}
	return b
}

// page is a response as the browser ended up with it.
type page struct {
	status int
	url    *url.URL
	body   string
	header http.Header
}

func (b *browser) do(req *http.Request) page {
	b.t.Helper()
	resp, err := b.client.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		b.t.Fatal(err)
	}
	return page{status: resp.StatusCode, url: resp.Request.URL, body: string(body), header: resp.Header}
}

func (b *browser) get(u string) page {
	b.t.Helper()
	req, err := http.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		b.t.Fatal(err)
	}
	return b.do(req)
}

func (b *browser) post(u string, form url.Values) page {
	b.t.Helper()
	req, err := http.NewRequest(http.MethodPost, u, strings.NewReader(form.Encode()))
	if err != nil {
		b.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return b.do(req)
}

// toCallback presses "Sign in with …" on Callbook's sign-in page, signs in
// at the provider's login form as username, and returns the URL the
// provider sends the browser back to, without following it.
func (e *ssoEnv) toCallback(b *browser, username, next string) string {
	e.t.Helper()
	login := b.get(e.base + "/admin/login?next=" + url.QueryEscape(next))
	link := `href="/admin/oidc/login?next=` + url.QueryEscape(next) + `">Sign in with Firm Login</a>`
	if !strings.Contains(strings.ToLower(login.body), strings.ToLower(link)) { // %2f or %2F
		e.t.Fatalf("sign-in page has no %s:\n%s", link, login.body)
	}
	form := b.get(e.base + "/admin/oidc/login?next=" + url.QueryEscape(next))
	id := form.url.Query().Get("authRequestID")
	if form.status != http.StatusOK || !strings.HasPrefix(form.url.String(), e.issuer+ssotest.LoginPath) || id == "" {
		e.t.Fatalf("not at the provider's login form: %d %s\n%s", form.status, form.url, form.body)
	}
	b.stopAtCallback = true
	defer func() { b.stopAtCallback = false }()
	back := b.post(e.issuer+ssotest.LoginPath, url.Values{"id": {id}, "username": {username}, "password": {ssotest.Password}})
	loc := back.header.Get("Location")
	if back.status != http.StatusFound || !strings.HasPrefix(loc, e.base+"/admin/oidc/callback?") {
		e.t.Fatalf("provider did not send the browser back: %d %q\n%s", back.status, loc, back.body)
	}
	return loc
}

// signedIn reports whether the browser's session opens the staff area.
func (e *ssoEnv) signedIn(b *browser) bool {
	e.t.Helper()
	p := b.get(e.base + "/admin/calls")
	return p.status == http.StatusOK && p.url.Path == "/admin/calls"
}

// failedSignIns counts the failed sign-ins recorded for email.
func (e *ssoEnv) failedSignIns(email string) int64 {
	e.t.Helper()
	var n int64
	if err := e.store.DB().Model(&models.LoginAttempt{}).Where("email = ?", email).Count(&n).Error; err != nil {
		e.t.Fatal(err)
	}
	return n
}

// mustRefused checks a refusal: the sign-in page, with status and a
// message containing msg, and, unless b is nil, no session in b.
func (e *ssoEnv) mustRefused(b *browser, p page, status int, msg string) {
	e.t.Helper()
	if p.status != status || !strings.Contains(p.body, msg) || !strings.Contains(p.body, `action="/admin/login"`) {
		e.t.Fatalf("want the sign-in page with %d and %q, got %d at %s:\n%s", status, msg, p.status, p.url, p.body)
	}
	if b != nil && e.signedIn(b) {
		e.t.Fatal("refused, yet signed in")
	}
}

func TestSSO_SignsInTheStaffUserOfTheVerifiedEmail(t *testing.T) {
	for _, tc := range []struct {
		name          string
		claimsInToken bool
	}{{"email in the ID token", true}, {"email from userinfo", false}} {
		t.Run(tc.name, func(t *testing.T) {
			e := newSSOEnv(t, tc.claimsInToken)
			ana := e.mustStaff("ana@firm.test", models.RoleSales)
			b := newBrowser(t)
			cb := e.toCallback(b, "ana", "/admin/leads?q=x")
			p := b.get(cb)
			if p.status != http.StatusOK || p.url.RequestURI() != "/admin/leads?q=x" {
				t.Fatalf("want the page asked for, got %d at %s:\n%s", p.status, p.url, p.body)
			}
			if !e.signedIn(b) {
				t.Fatal("not signed in")
			}
			var sessions int64
			if err := e.store.DB().Model(&models.Session{}).Where("user_id = ?", ana.User.ID).Count(&sessions).Error; err != nil || sessions != 2 {
				t.Fatalf("want a new session beside mustStaff's, got %d (%v)", sessions, err)
			}
			for _, c := range b.client.Jar.Cookies(mustURL(t, e.base)) {
				if c.Name == ssoCookie {
					t.Fatalf("the flow cookie outlives the sign-in: %v", c)
				}
			}
		})
	}
}

func TestSSO_RefusesAWrongState(t *testing.T) {
	e := newSSOEnv(t, true)
	e.mustStaff("ana@firm.test", models.RoleSales)
	b := newBrowser(t)
	cb, err := url.Parse(e.toCallback(b, "ana", "/admin"))
	if err != nil {
		t.Fatal(err)
	}
	genuine := cb.String()
	q := cb.Query()
	q.Set("state", q.Get("state")+"x")
	cb.RawQuery = q.Encode()
	e.mustRefused(b, b.get(cb.String()), http.StatusBadRequest, "was not started in this browser")

	// A browser that never started a sign-in is refused too.
	e.mustRefused(newBrowser(t), newBrowser(t).get(cb.String()), http.StatusBadRequest, "has expired or was already used")

	// The wrong state did not cancel the browser's own sign-in.
	if p := b.get(genuine); p.status != http.StatusOK || !e.signedIn(b) {
		t.Fatalf("the genuine callback after a forged one: %d at %s\n%s", p.status, p.url, p.body)
	}

	// The provider's own refusal, with this browser's state, is shown.
	b2 := newBrowser(t)
	cb2 := mustURL(t, e.toCallback(b2, "ana", "/admin"))
	cb2.RawQuery = url.Values{"state": {cb2.Query().Get("state")}, "error": {"access_denied"}}.Encode()
	e.mustRefused(b2, b2.get(cb2.String()), http.StatusUnauthorized, "Firm Login did not sign you in (access_denied)")
}

func TestSSO_RefusesAReplayedCallback(t *testing.T) {
	e := newSSOEnv(t, true)
	e.mustStaff("ana@firm.test", models.RoleSales)
	b := newBrowser(t)
	cb := e.toCallback(b, "ana", "/admin")
	var flow string
	for _, c := range b.client.Jar.Cookies(mustURL(t, e.base)) {
		if c.Name == ssoCookie {
			flow = c.Value
		}
	}
	if flow == "" {
		t.Fatal("no flow cookie")
	}
	if p := b.get(cb); p.status != http.StatusOK || !e.signedIn(b) {
		t.Fatalf("first use refused: %d\n%s", p.status, p.body)
	}

	// The same browser again: its flow cookie is gone.
	e.mustRefused(nil, b.get(cb), http.StatusBadRequest, "has expired or was already used")

	// Another browser with a copy of the flow cookie.
	thief := newBrowser(t)
	thief.client.Jar.SetCookies(mustURL(t, e.base), []*http.Cookie{{Name: ssoCookie, Value: flow, Path: "/"}})
	e.mustRefused(thief, thief.get(cb), http.StatusBadRequest, "That sign-in with Firm Login was already used")

	// Another replica, which has not seen the callback: the provider
	// refuses the code a second time.
	set := e.srv.sso.settings
	other := newTestServerOn(t, e.store, e.clock, func(o *Options) { o.BaseURL, o.SSO = e.base, &set })
	w := httptest.NewRecorder()
	req := httptest.NewRequest(http.MethodGet, strings.TrimPrefix(cb, e.base), nil)
	req.AddCookie(&http.Cookie{Name: ssoCookie, Value: flow})
	other.srv.ServeHTTP(w, req)
	if w.Code != http.StatusBadRequest || !strings.Contains(w.Body.String(), "did not confirm this sign-in") || w.Header().Get("Set-Cookie") != ssoCookie+"=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax" {
		t.Fatalf("replayed code on another replica: %d %q\n%s", w.Code, w.Header().Get("Set-Cookie"), w.Body.String())
	}
}

func TestSSO_RefusesAnUnverifiedEmail(t *testing.T) {
	e := newSSOEnv(t, true, func(s *SSOSettings) { s.Domains = []string{"firm.test"} })
	e.mustStaff("bo@firm.test", models.RoleSales)
	b := newBrowser(t)
	e.mustRefused(b, b.get(e.toCallback(b, "bo", "/admin")), http.StatusUnauthorized, "has not verified the email address bo@firm.test")
	if n := e.failedSignIns("bo@firm.test"); n != 1 {
		t.Fatalf("want one failed sign-in, got %d", n)
	}
}

func TestSSO_UnknownEmailNeedsItsDomainListed(t *testing.T) {
	t.Run("not listed", func(t *testing.T) {
		e := newSSOEnv(t, true, func(s *SSOSettings) { s.Domains = []string{"firm.test"} })
		b := newBrowser(t)
		e.mustRefused(b, b.get(e.toCallback(b, "newbie", "/admin")), http.StatusUnauthorized, "No staff account uses new.person@partner.test")
		if _, err := e.store.UserByEmail(context.Background(), "new.person@partner.test"); err != models.ErrNotFound {
			t.Fatalf("want no user created, got %v", err)
		}
		if n := e.failedSignIns("new.person@partner.test"); n != 1 {
			t.Fatalf("want one failed sign-in, got %d", n)
		}
	})
	t.Run("listed", func(t *testing.T) {
		e := newSSOEnv(t, true, func(s *SSOSettings) { s.Domains = []string{"firm.test", "partner.test"} })
		b := newBrowser(t)
		if p := b.get(e.toCallback(b, "newbie", "/admin/leads")); p.status != http.StatusOK || p.url.Path != "/admin/leads" || !e.signedIn(b) {
			t.Fatalf("not signed in: %d at %s\n%s", p.status, p.url, p.body)
		}
		u, err := e.store.UserByEmail(context.Background(), "new.person@partner.test")
		if err != nil || u.Role != models.RoleSales || u.Name != "New Person" || u.Host || u.Disabled || u.PasswordHash == "" {
			t.Fatalf("want an enabled sales user named New Person, got %+v (%v)", u, err)
		}
		// A sign-in with a subdomain or another domain is still refused.
		b2 := newBrowser(t)
		e.mustRefused(b2, b2.get(e.toCallback(b2, "outside", "/admin")), http.StatusUnauthorized, "No staff account uses eve@elsewhere.test")
	})
}

func TestSSO_RefusesADisabledUser(t *testing.T) {
	e := newSSOEnv(t, true, func(s *SSOSettings) { s.Domains = []string{"firm.test"} })
	dora := e.mustStaff("dora@firm.test", models.RoleAdmin)
	if err := e.store.DB().Model(dora.User).Update("disabled", true).Error; err != nil {
		t.Fatal(err)
	}
	b := newBrowser(t)
	e.mustRefused(b, b.get(e.toCallback(b, "dora", "/admin")), http.StatusUnauthorized, "The staff account dora@firm.test is disabled")
	if n := e.failedSignIns("dora@firm.test"); n != 1 {
		t.Fatalf("want one failed sign-in, got %d", n)
	}
}

// A provider that cannot be reached at start does not stop the service:
// the sign-in page says so, and once the provider answers, a minute
// later, signing in works.
func TestSSO_ProviderDownAtStartIsFoundLater(t *testing.T) {
	late := &lateHandler{}
	cb := httptest.NewServer(late)
	t.Cleanup(cb.Close)
	addr := storetest.FreeAddr(t) // nothing listens here yet
	set := SSOSettings{Issuer: "http://" + addr, ClientID: ssotest.ClientID, ClientSecret: ssotest.ClientSecret}
	e := newTestServer(t, store.DialectSQLite, func(o *Options) { o.BaseURL, o.SSO = cb.URL, &set })
	late.h = e.srv
	b := newBrowser(t)
	p := b.get(cb.URL + "/admin/oidc/login?next=/admin")
	if p.status != http.StatusServiceUnavailable || !strings.Contains(p.body, "Signing in with SSO is not possible right now: its identity provider cannot be reached") {
		t.Fatalf("want 503 with a message, got %d:\n%s", p.status, p.body)
	}

	startIDP(t, addr, cb.URL, true)
	if p := b.get(cb.URL + "/admin/oidc/login"); p.status != http.StatusServiceUnavailable {
		t.Fatalf("want discovery not retried at once, got %d", p.status)
	}
	e.clock.Advance(ssoRetryAfter)
	if p := b.get(cb.URL + "/admin/oidc/login"); p.status != http.StatusOK || !strings.HasPrefix(p.url.String(), "http://"+addr+ssotest.LoginPath) {
		t.Fatalf("want the provider's login form, got %d at %s", p.status, p.url)
	}
}

func mustURL(t *testing.T, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// Without single sign-on settings the sign-in page has no such link and
// its routes are not there.
func TestSSO_OffWithoutSettings(t *testing.T) {
	e := newTestServer(t, store.DialectSQLite)
	if w := e.do(http.MethodGet, "/admin/login", nil); w.Code != http.StatusOK || strings.Contains(w.Body.String(), "/admin/oidc/") {
		t.Fatalf("sign-in page: %d\n%s", w.Code, w.Body.String())
	}
	for _, path := range []string{"/admin/oidc/login?next=/admin", "/admin/oidc/callback?code=x&state=y"} {
		if w := e.do(http.MethodGet, path, nil); w.Code != http.StatusNotFound {
			t.Errorf("%s: %d, want 404", path, w.Code)
		}
	}
}
