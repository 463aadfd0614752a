package handlers

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/callbook/callbook/models"
)

// A staff user sees where they are signed in and ends sessions there: one
// of theirs, every other one, never someone else's.
func TestSecurity_ListsAndEndsTheUsersOwnSessions(t *testing.T) {
	e := newTestServer(t, "sqlite")
	ctx := context.Background()
	ana := e.mustStaff("ana@example.com", models.RoleSales)
	bob := e.mustStaff("bob@example.com", models.RoleSales)
	phone, err := e.store.CreateSession(ctx, ana.User, "198.51.100.7", "Phone browser")
	if err != nil {
		t.Fatal(err)
	}
	onPhone := &staffer{User: ana.User, Cookie: phone.Token, CSRF: phone.Session.CSRFToken}
	signedIn := func(st *staffer) bool {
		t.Helper()
		return e.page(st, http.MethodGet, "/admin/leads", nil).Code == http.StatusOK
	}

	w := e.page(ana, http.MethodGet, "/admin/security", nil)
	if body := w.Body.String(); w.Code != http.StatusOK || !strings.Contains(body, "Phone browser") ||
		!strings.Contains(body, "this browser") || strings.Count(body, "/admin/security/sessions/") != 3 {
		t.Fatalf("Security page: %d; want both of ana's sessions, this one marked, and no one else's:\n%s", w.Code, body)
	}

	// Bob's session is not ana's to end, even by its id.
	bobs, err := e.store.LiveSessions(ctx, bob.User.ID)
	if err != nil || len(bobs) != 1 {
		t.Fatalf("bob's sessions: %v %v", bobs, err)
	}
	if w := e.page(ana, http.MethodPost, "/admin/security/sessions/"+bobs[0].ID+"/end", nil); w.Code != http.StatusNotFound {
		t.Fatalf("ending another user's session: %d, want 404", w.Code)
	}
	if !signedIn(bob) {
		t.Fatal("bob was signed out by ana")
	}

	if w := e.page(ana, http.MethodPost, "/admin/security/sessions/"+phone.Session.ID+"/end", nil); w.Code != http.StatusOK {
		t.Fatalf("ending the phone's session: %d", w.Code)
	}
	if signedIn(onPhone) || !signedIn(ana) {
		t.Fatal("want the phone signed out and this browser still in")
	}

	laptop, err := e.store.CreateSession(ctx, ana.User, "203.0.113.9", "Laptop browser")
	if err != nil {
		t.Fatal(err)
	}
	if w := e.page(ana, http.MethodPost, "/admin/security/sessions/end-others", nil); w.Code != http.StatusOK {
		t.Fatalf("sign out everywhere else: %d", w.Code)
	}
	if signedIn(&staffer{Cookie: laptop.Token}) || !signedIn(ana) || !signedIn(bob) {
		t.Fatal("want only ana's other sessions ended")
	}

	// Ending this browser's own session signs it out.
	if w := e.page(ana, http.MethodPost, "/admin/security/sessions/"+mustLiveSessions(t, e, ana.User.ID)[0].ID+"/end", nil); w.Code != http.StatusSeeOther || location(w) != "/admin/login" {
		t.Fatalf("ending this session: %d to %q", w.Code, location(w))
	}
	if signedIn(ana) {
		t.Fatal("this browser is still signed in")
	}
}

// An admin signs a staff user out everywhere; the user's API tokens still
// work, and sales cannot do it.
func TestAdminUsers_SignsAUserOutEverywhere(t *testing.T) {
	e := newTestServer(t, "sqlite")
	admin := e.mustStaff("admin@example.com", models.RoleAdmin)
	ana := e.mustStaff("ana@example.com", models.RoleSales)
	path := "/admin/users/" + itoa(int(ana.User.ID)) + "/sessions/end"

	if w := e.page(ana, http.MethodPost, path, nil); w.Code != http.StatusForbidden {
		t.Fatalf("sales signing someone out: %d, want 403", w.Code)
	}
	w := e.page(admin, http.MethodPost, path, nil)
	if w.Code != http.StatusSeeOther || location(w) != "/admin/users?saved=signed-out" {
		t.Fatalf("admin: %d to %q", w.Code, location(w))
	}
	if w := e.page(ana, http.MethodGet, "/admin/leads", nil); w.Code != http.StatusSeeOther {
		t.Fatalf("ana's session after being signed out: %d, want 303 to sign in", w.Code)
	}
	if w := e.api(ana, http.MethodGet, "/api/v1/admin/leads", ""); w.Code != http.StatusOK {
		t.Fatalf("ana's API token after being signed out: %d, want 200", w.Code)
	}
	if w := e.page(admin, http.MethodGet, "/admin/users?saved=signed-out", nil); !strings.Contains(w.Body.String(), "signed out everywhere") {
		t.Fatal("the users page does not say what happened")
	}
}

func mustLiveSessions(t *testing.T, e *testEnv, userID uint) []models.Session {
	t.Helper()
	rows, err := e.store.LiveSessions(context.Background(), userID)
	if err != nil || len(rows) == 0 {
		t.Fatalf("live sessions: %v %v", rows, err)
	}
	return rows
}

// Staff change their own password with the current one; the change signs
// every other session out and gives this browser a new one.
func TestSecurity_ChangeOwnPasswordNeedsTheCurrentOneAndRenewsTheSession(t *testing.T) {
	e := newTestServer(t, "sqlite")
	ana := e.mustStaff("ana@example.com", models.RoleSales)
	phone, err := e.store.CreateSession(context.Background(), ana.User, "198.51.100.7", "Phone browser")
	if err != nil {
		t.Fatal(err)
	}
	change := func(current, next string) *httptest.ResponseRecorder {
		return e.page(ana, http.MethodPost, "/admin/security/password", url.Values{"current_password": {current}, "password": {next}})
	}
	if w := change("not-my-password-at-all", "plum-otter-violin-42"); w.Code != http.StatusUnprocessableEntity || !strings.Contains(w.Body.String(), "current password is not right") {
		t.Fatalf("wrong current password: %d", w.Code)
	}
	if w := change(staffPassword, "callbook-rocks-2026"); w.Code != http.StatusUnprocessableEntity || !strings.Contains(w.Body.String(), "name of this service") {
		t.Fatalf("weak new password: %d", w.Code)
	}
	w := change(staffPassword, "plum-otter-violin-42")
	fresh := cookieValue(w.Header(), sessionCookie)
	if w.Code != http.StatusSeeOther || location(w) != "/admin/security?changed=password" || fresh == "" || fresh == ana.Cookie {
		t.Fatalf("change: %d to %q, new session %v", w.Code, location(w), fresh != "")
	}
	for name, cookie := range map[string]string{"the old session here": ana.Cookie, "the phone": phone.Token} {
		if w := e.page(&staffer{Cookie: cookie}, http.MethodGet, "/admin/leads", nil); w.Code != http.StatusSeeOther {
			t.Errorf("%s still signed in after the change: %d", name, w.Code)
		}
	}
	if w := e.page(&staffer{Cookie: fresh}, http.MethodGet, "/admin/security?changed=password", nil); w.Code != http.StatusOK || !strings.Contains(w.Body.String(), "Password changed") {
		t.Fatalf("new session: %d", w.Code)
	}
	if _, err := e.store.Authenticate(context.Background(), "ana@example.com", "plum-otter-violin-42", "192.0.2.1"); err != nil {
		t.Fatalf("the new password does not sign in: %v", err)
	}
}

// Adding a second factor needs a sign-in from the last 15 minutes: a
// browser left signed in cannot be used to add someone else's app or
// passkey. "Sign in again" comes back to the Security page.
func TestSecurity_AddingAFactorNeedsARecentSignIn(t *testing.T) {
	e := newTestServer(t, "sqlite")
	ana := e.mustStaff("ana@example.com", models.RoleSales)
	e.clock.Advance(freshSignInFor + time.Minute)

	w := e.page(ana, http.MethodPost, "/admin/security/totp", nil)
	if w.Code != http.StatusForbidden || !strings.Contains(w.Body.String(), "sign in again") {
		t.Fatalf("setting up an app on an old sign-in: %d", w.Code)
	}
	w = e.page(ana, http.MethodPost, "/admin/security/passkeys/options", nil)
	if w.Code != http.StatusForbidden || !strings.Contains(w.Body.String(), "sign in again") {
		t.Fatalf("adding a passkey on an old sign-in: %d %s", w.Code, w.Body.String())
	}
	if w := e.page(ana, http.MethodPost, "/admin/security/passkeys/1/remove", nil); w.Code != http.StatusForbidden || !strings.Contains(w.Body.String(), "sign in again") {
		t.Fatalf("removing a passkey on an old sign-in: %d", w.Code)
	}
	if f, err := e.store.SecondFactors(context.Background(), ana.User.ID); err != nil || f.Any() || f.TOTPPending {
		t.Fatalf("a factor was started anyway: %+v %v", f, err)
	}
	w = e.page(ana, http.MethodPost, "/admin/logout", url.Values{"next": {"/admin/security"}})
	if w.Code != http.StatusSeeOther || location(w) != "/admin/login?next=%2Fadmin%2Fsecurity" {
		t.Fatalf("sign in again: %d to %q", w.Code, location(w))
	}

	// Just signed in: both start.
	w, _ = e.signInPassword("ana@example.com", staffPassword)
	fresh := &staffer{User: ana.User, Cookie: cookieValue(w.Header(), sessionCookie)}
	if fresh.Cookie == "" {
		t.Fatalf("sign-in: %d to %q", w.Code, location(w))
	}
	sessions := mustLiveSessions(t, e, ana.User.ID)
	fresh.CSRF = sessions[0].CSRFToken
	if w := e.page(fresh, http.MethodPost, "/admin/security/passkeys/options", nil); w.Code != http.StatusOK {
		t.Fatalf("adding a passkey just after signing in: %d %s", w.Code, w.Body.String())
	}
	if w := e.page(fresh, http.MethodPost, "/admin/security/totp", nil); w.Code != http.StatusSeeOther {
		t.Fatalf("setting up an app just after signing in: %d", w.Code)
	}
}
