package handlers

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/callbook/callbook/models"
	"github.com/callbook/callbook/store"
	"github.com/callbook/callbook/store/storetest"
)

// cookieNamed returns the Set-Cookie header line for name, or "".
func cookieNamed(h http.Header, name string) string {
	for _, c := range h.Values("Set-Cookie") {
		if strings.HasPrefix(c, name+"=") {
			return c
		}
	}
	return ""
}

func TestLogin_NewSessionCookieThenSignOutEndsIt(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, dialect string) {
		t.Parallel()
		e := newTestServer(t, dialect)
		st := e.mustStaff("ana@example.com", models.RoleSales)

		w := e.page(nil, http.MethodGet, "/admin/leads?status=new", nil)
		if w.Code != http.StatusSeeOther || location(w) != "/admin/login?next="+url.QueryEscape("/admin/leads?status=new") {
			t.Fatalf("anonymous: %d %q", w.Code, location(w))
		}
		if w := e.page(nil, http.MethodGet, "/admin/login?next=%2Fadmin%2Fleads", nil); w.Code != 200 || !strings.Contains(w.Body.String(), `name="password"`) {
			t.Fatalf("login page: %d", w.Code)
		}
		bad := e.postForm("/admin/login", url.Values{"email": {"ana@example.com"}, "password": {"wrong-password-123"}})
		if bad.Code != http.StatusUnauthorized || !strings.Contains(bad.Body.String(), "do not match") || cookieNamed(bad.Header(), sessionCookie) != "" {
			t.Fatalf("wrong password: %d", bad.Code)
		}
		// A cookie planted before sign-in does not survive it.
		ok := e.postForm("/admin/login", url.Values{"email": {"ANA@example.com "}, "password": {staffPassword}, "next": {"/admin/leads?status=new"}},
			"Cookie", sessionCookie+"="+st.Cookie)
		if ok.Code != http.StatusSeeOther || location(ok) != "/admin/leads?status=new" {
			t.Fatalf("sign-in: %d %q", ok.Code, location(ok))
		}
		set := cookieNamed(ok.Header(), sessionCookie)
		for _, attr := range []string{"HttpOnly", "SameSite=Lax", "Path=/", "Max-Age="} {
			if !strings.Contains(set, attr) {
				t.Errorf("cookie %q lacks %s", set, attr)
			}
		}
		if strings.Contains(set, "Secure") {
			t.Errorf("cookie %q is Secure on an http base URL", set)
		}
		value := strings.TrimPrefix(strings.SplitN(set, ";", 2)[0], sessionCookie+"=")
		if value == st.Cookie {
			t.Fatal("sign-in kept the session id it was given")
		}
		if w := e.page(nil, http.MethodGet, "/admin/leads/1", nil, "Cookie", sessionCookie+"="+st.Cookie); w.Code != http.StatusSeeOther {
			t.Fatalf("the planted session still works: %d", w.Code)
		}
		var n int64
		e.store.DB().Model(&models.Session{}).Where("id = ?", value).Count(&n)
		if n != 0 {
			t.Fatal("the database holds the cookie value itself, not its hash")
		}
		me := &staffer{Cookie: value}
		if w := e.page(me, http.MethodGet, "/admin/leads", nil); w.Code != http.StatusOK || !strings.Contains(w.Body.String(), "ana") {
			t.Fatalf("signed in: %d", w.Code)
		}
		csrf := regexpFind(t, e.page(me, http.MethodGet, "/admin/leads", nil).Body.String(), `name="csrf_token" value="([0-9a-f]+)"`)
		out := e.page(&staffer{Cookie: value, CSRF: csrf}, http.MethodPost, "/admin/logout", nil)
		if out.Code != http.StatusSeeOther || !strings.Contains(cookieNamed(out.Header(), sessionCookie), "Max-Age=0") {
			t.Fatalf("sign-out: %d %v", out.Code, out.Header())
		}
		if w := e.page(me, http.MethodGet, "/admin/leads", nil); w.Code != http.StatusSeeOther {
			t.Fatalf("after sign-out: %d", w.Code)
		}
	})
}

func TestLogin_ThrottledPerAccountAndPerAddressWithRetryAfter(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, dialect string) {
		e := newTestServer(t, dialect) // RateLimit 0: staff sign-in is throttled anyway
		e.mustStaff("ana@example.com", models.RoleSales)
		now := e.clock.Now().UTC() // the store keeps UTC; SQLite compares times as text
		for range models.MaxAccountAddressFailures {
			e.store.DB().Create(&models.LoginAttempt{Email: "ana@example.com", IP: "192.0.2.1", CreatedAt: now})
		}
		w := e.postForm("/admin/login", url.Values{"email": {"ana@example.com"}, "password": {staffPassword}})
		if w.Code != http.StatusTooManyRequests || w.Header().Get("Retry-After") == "" || !strings.Contains(w.Body.String(), "Too many failed sign-ins") {
			t.Fatalf("account throttle: %d %q", w.Code, w.Header().Get("Retry-After"))
		}
		for i := range models.MaxAddressFailures {
			e.store.DB().Create(&models.LoginAttempt{Email: "x" + itoa(i) + "@example.com", IP: "192.0.2.1", CreatedAt: now})
		}
		w = e.postForm("/admin/login", url.Values{"email": {"other@example.com"}, "password": {"whatever-it-is"}})
		if w.Code != http.StatusTooManyRequests {
			t.Fatalf("address throttle: %d", w.Code)
		}
	})
}

func TestSession_DisabledUserAndTokenStopWorking(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, dialect string) {
		e := newTestServer(t, dialect)
		admin := e.mustStaff("admin@example.com", models.RoleAdmin)
		sales := e.mustStaff("sales@example.com", models.RoleSales)
		w := e.page(admin, http.MethodPost, "/admin/users/"+itoa(int(sales.User.ID)), url.Values{"active": {"no"}})
		if w.Code != http.StatusSeeOther {
			t.Fatalf("disable: %d %s", w.Code, w.Body.String())
		}
		if w := e.page(sales, http.MethodGet, "/admin/leads", nil); w.Code != http.StatusSeeOther {
			t.Fatalf("disabled user's page: %d", w.Code)
		}
		if w := e.api(sales, http.MethodGet, "/api/v1/admin/leads", ""); w.Code != http.StatusUnauthorized {
			t.Fatalf("disabled user's token: %d", w.Code)
		}
		if w := e.api(&staffer{Token: "cbk_" + strings.Repeat("0", 64)}, http.MethodGet, "/api/v1/admin/leads", ""); w.Code != http.StatusUnauthorized {
			t.Fatalf("made-up token: %d", w.Code)
		}
		// Idle sessions end too.
		e.clock.Advance(store.SessionIdle + time.Minute)
		if w := e.page(admin, http.MethodGet, "/admin/leads", nil); w.Code != http.StatusSeeOther {
			t.Fatalf("idle session: %d", w.Code)
		}
	})
}

func TestCSRF_StaffFormsNeedTheTokenAndSameSite(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, dialect string) {
		e := newTestServer(t, dialect)
		sales := e.mustStaff("sales@example.com", models.RoleSales)
		lead, _ := e.mustBookLead("ada@example.com", 0, nil)
		path := "/admin/leads/" + itoa(int(lead)) + "/notes"
		if w := e.page(sales, http.MethodPost, path, url.Values{"body": {"x"}, csrfField: {"forged"}}); w.Code != http.StatusForbidden {
			t.Fatalf("wrong CSRF token: %d", w.Code)
		}
		w := e.do(http.MethodPost, path, strings.NewReader(url.Values{"body": {"x"}, csrfField: {sales.CSRF}}.Encode()),
			"Content-Type", "application/x-www-form-urlencoded", "Sec-Fetch-Site", "cross-site", "Cookie", sessionCookie+"="+sales.Cookie)
		if w.Code != http.StatusForbidden {
			t.Fatalf("cross-site form: %d", w.Code)
		}
		w = e.do(http.MethodPatch, "/api/v1/admin/leads/"+itoa(int(lead)), strings.NewReader(`{"status":"lost"}`),
			"Content-Type", "application/json", "Origin", "https://evil.example", "Sec-Fetch-Site", "cross-site", "Cookie", sessionCookie+"="+sales.Cookie)
		if w.Code != http.StatusForbidden {
			t.Fatalf("cross-site API call with the cookie: %d", w.Code)
		}
		if w := e.page(sales, http.MethodPost, path, url.Values{"body": {"fine"}}); w.Code != http.StatusSeeOther {
			t.Fatalf("same-site form with the token: %d", w.Code)
		}
	})
}

func TestSecureBaseURL_HostPrefixedSecureCookieAndHSTS(t *testing.T) {
	e := newTestServer(t, store.DialectSQLite, func(o *Options) { o.BaseURL = "https://book.example.com" })
	st := e.mustStaff("ana@example.com", models.RoleSales)
	w := e.do(http.MethodGet, "/admin/leads", nil, "Cookie", secureSessionCookie+"=stale")
	set := cookieNamed(w.Header(), secureSessionCookie)
	if w.Code != http.StatusSeeOther || !strings.Contains(set, "Secure") || !strings.Contains(set, "Path=/") || strings.Contains(set, "Domain") {
		t.Fatalf("stale cookie not cleared as __Host-: %d %q", w.Code, set)
	}
	if w := e.do(http.MethodGet, "/admin/leads", nil, "Cookie", secureSessionCookie+"="+st.Cookie); w.Code != http.StatusOK ||
		w.Header().Get("Strict-Transport-Security") == "" {
		t.Fatalf("secure session: %d %v", w.Code, w.Header())
	}
	if w := e.do(http.MethodGet, "/admin/leads", nil, "Cookie", sessionCookie+"="+st.Cookie); w.Code != http.StatusSeeOther {
		t.Fatalf("the plain cookie name is accepted on https: %d", w.Code)
	}
}

func TestSafeNext_OnlyStaffPagesOnThisSite(t *testing.T) {
	for in, want := range map[string]string{
		"/admin/leads?status=new": "/admin/leads?status=new", "/admin": "/admin", "": staffHome,
		"https://evil.example/admin": staffHome, "//evil.example/admin/x": staffHome, "/roles/x": staffHome,
		"/admin/login": staffHome, "/\\evil.example": staffHome, "/administrator": staffHome,
	} {
		if got := safeNext(in); got != want {
			t.Errorf("safeNext(%q) = %q, want %q", in, got, want)
		}
	}
}
