package handlers

import (
	"html"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"

	"github.com/callbook/callbook/models"
	"github.com/callbook/callbook/store/storetest"
)

// enrolTOTP sets up an authenticator app for st through the Security page
// and returns its secret and the recovery codes the page showed.
func (e *testEnv) enrolTOTP(st *staffer) (string, []string) {
	e.t.Helper()
	if w := e.page(st, http.MethodPost, "/admin/security/totp", nil); w.Code != http.StatusSeeOther {
		e.t.Fatalf("start: %d %s", w.Code, w.Body.String())
	}
	w := e.page(st, http.MethodGet, "/admin/security", nil)
	body := w.Body.String()
	if w.Code != http.StatusOK || !strings.Contains(body, `src="data:image/png;base64,`) || !strings.Contains(body, "otpauth://totp/") {
		e.t.Fatalf("the Security page shows no QR code or otpauth URI: %d %s", w.Code, body)
	}
	secret := regexpFind(e.t, body, `<code class="totp-secret">([A-Z2-7]+)</code>`)
	uri := html.UnescapeString(regexpFind(e.t, body, `<code class="totp-url">([^<]+)</code>`))
	if u, err := url.Parse(uri); err != nil || u.Query().Get("secret") != secret {
		e.t.Fatalf("the otpauth URI %q does not carry the secret %q", uri, secret)
	}
	// A wrong first code confirms nothing.
	if w := e.page(st, http.MethodPost, "/admin/security/totp/confirm", url.Values{"code": {"000000"}}); w.Code != http.StatusUnprocessableEntity {
		e.t.Fatalf("wrong first code: %d", w.Code)
	}
	w = e.page(st, http.MethodPost, "/admin/security/totp/confirm", url.Values{"code": {e.code(secret)}})
	if w.Code != http.StatusOK {
		e.t.Fatalf("confirm: %d %s", w.Code, w.Body.String())
	}
	var codes []string
	for _, m := range recoveryCodeRE.FindAllStringSubmatch(w.Body.String(), -1) {
		codes = append(codes, m[1])
	}
	if len(codes) != models.RecoveryCodeCount {
		e.t.Fatalf("%d recovery codes shown, want %d", len(codes), models.RecoveryCodeCount)
	}
	// Shown once: the page does not show them again.
	if again := e.page(st, http.MethodGet, "/admin/security", nil).Body.String(); strings.Contains(again, codes[0]) {
		e.t.Fatal("the recovery codes are shown again")
	}
	return secret, codes
}

var recoveryCodeRE = regexp.MustCompile(`<li><code>([a-z2-7]{4}-[a-z2-7]{4}-[a-z2-7]{4}-[a-z2-7]{4})</code></li>`)

// code is the authenticator app's code at the test clock's time.
func (e *testEnv) code(secret string) string {
	e.t.Helper()
	c, err := totp.GenerateCode(secret, e.clock.Now())
	if err != nil {
		e.t.Fatal(err)
	}
	return c
}

// signInPassword posts the password and returns the answer and the
// sign-in step cookie (the code still owed), if any.
func (e *testEnv) signInPassword(email, password string) (*httptest.ResponseRecorder, string) {
	e.t.Helper()
	w := e.postForm("/admin/login", url.Values{"email": {email}, "password": {password}, "next": {"/admin/leads"}})
	return w, cookieValue(w.Header(), signInStepCookie)
}

// signInCode posts a code with the step cookie.
func (e *testEnv) signInCode(step, code string) *httptest.ResponseRecorder {
	e.t.Helper()
	return e.postForm("/admin/login/code", url.Values{"code": {code}}, "Cookie", signInStepCookie+"="+step)
}

// cookieValue is the value a Set-Cookie header gives name, or "".
func cookieValue(h http.Header, name string) string {
	for _, c := range (&http.Response{Header: h}).Cookies() {
		if c.Name == name && c.MaxAge >= 0 {
			return c.Value
		}
	}
	return ""
}

func TestSecondFactor_EnrolThenSignInAsksForTheCodeAndRefusesItsReplay(t *testing.T) {
	e := newTestServer(t, "sqlite")
	st := e.mustStaff("ana@example.com", models.RoleAdmin)
	secret, _ := e.enrolTOTP(st)

	// The code used to confirm is spent too; the next step's code signs in.
	e.clock.Advance(30 * time.Second)
	w, step := e.signInPassword("ana@example.com", staffPassword)
	if w.Code != http.StatusSeeOther || location(w) != "/admin/login/code" || step == "" {
		t.Fatalf("password: %d to %q, step %q; want the code asked", w.Code, location(w), step)
	}
	if cookieNamed(w.Header(), sessionCookie) != "" {
		t.Fatal("a session started before the code was given")
	}
	if w := e.do(http.MethodGet, "/admin/login/code", nil, "Cookie", signInStepCookie+"="+step); w.Code != http.StatusOK || !strings.Contains(w.Body.String(), `name="code"`) {
		t.Fatalf("code page: %d", w.Code)
	}
	if w := e.signInCode(step, "123456"); w.Code != http.StatusUnauthorized || cookieNamed(w.Header(), sessionCookie) != "" {
		t.Fatalf("wrong code: %d", w.Code)
	}
	code := e.code(secret)
	w = e.signInCode(step, code)
	session := cookieValue(w.Header(), sessionCookie)
	if w.Code != http.StatusSeeOther || location(w) != "/admin/leads" || session == "" {
		t.Fatalf("right code: %d to %q", w.Code, location(w))
	}
	if w := e.do(http.MethodGet, "/admin/leads", nil, "Cookie", sessionCookie+"="+session); w.Code != http.StatusOK {
		t.Fatalf("the new session: %d", w.Code)
	}
	// The step is used up with its sign-in.
	if w := e.signInCode(step, code); w.Code != http.StatusUnauthorized || cookieNamed(w.Header(), sessionCookie) != "" {
		t.Fatalf("the used step again: %d", w.Code)
	}

	// The same code, within its window, on a new sign-in: refused.
	e.clock.Advance(10 * time.Second)
	_, step = e.signInPassword("ana@example.com", staffPassword)
	if w := e.signInCode(step, code); w.Code != http.StatusUnauthorized {
		t.Fatalf("replayed code: %d, want 401", w.Code)
	}
	e.clock.Advance(30 * time.Second)
	if w := e.signInCode(step, e.code(secret)); w.Code != http.StatusSeeOther {
		t.Fatalf("the next step's code: %d", w.Code)
	}
}

func TestSecondFactor_RecoveryCodeSignsInOnce(t *testing.T) {
	e := newTestServer(t, "sqlite")
	st := e.mustStaff("ana@example.com", models.RoleSales)
	_, codes := e.enrolTOTP(st)

	_, step := e.signInPassword("ana@example.com", staffPassword)
	if w := e.signInCode(step, codes[3]); w.Code != http.StatusSeeOther || cookieValue(w.Header(), sessionCookie) == "" {
		t.Fatalf("recovery code: %d", w.Code)
	}
	_, step = e.signInPassword("ana@example.com", staffPassword)
	if w := e.signInCode(step, codes[3]); w.Code != http.StatusUnauthorized {
		t.Fatalf("the same recovery code again: %d, want 401", w.Code)
	}
	// Typed loosely (capitals, spaces for dashes), another one works.
	typed := strings.ToUpper(strings.ReplaceAll(codes[4], "-", " "))
	if w := e.signInCode(step, typed); w.Code != http.StatusSeeOther {
		t.Fatalf("another recovery code, typed loosely: %d", w.Code)
	}
}

// TestSecondFactor_WrongCodesShareThePasswordThrottle sends a burst of
// wrong codes at once after a right password: only as many are checked as
// wrong passwords would be, the rest are refused unchecked, and the
// password itself is then refused too: one throttle for both.
func TestSecondFactor_WrongCodesShareThePasswordThrottle(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, dialect string) {
		e := newTestServer(t, dialect)
		st := e.mustStaff("ana@example.com", models.RoleSales)
		e.enrolTOTP(st)
		if w, _ := e.signInPassword("ana@example.com", "not-the-password-1"); w.Code != http.StatusUnauthorized {
			t.Fatalf("wrong password: %d", w.Code)
		}
		_, step := e.signInPassword("ana@example.com", staffPassword)
		// The right password forgave the wrong one; a wrong password now
		// counts with the codes.
		if w, _ := e.signInPassword("ana@example.com", "not-the-password-2"); w.Code != http.StatusUnauthorized {
			t.Fatalf("wrong password: %d", w.Code)
		}
		const guesses = 12
		codes := make([]int, guesses)
		var wg sync.WaitGroup
		for i := range guesses {
			wg.Go(func() { codes[i] = e.signInCode(step, "99999"+itoa(i%10)).Code })
		}
		wg.Wait()
		count := map[int]int{}
		for _, c := range codes {
			count[c]++
		}
		checked := models.MaxAccountAddressFailures - 1
		if count[http.StatusUnauthorized] != checked || count[http.StatusTooManyRequests] != guesses-checked {
			t.Errorf("%d simultaneous wrong codes after a wrong password: %v; want %d checked (401), the rest 429", guesses, count, checked)
		}
		if w, _ := e.signInPassword("ana@example.com", staffPassword); w.Code != http.StatusTooManyRequests {
			t.Errorf("the right password after the wrong codes: %d, want 429", w.Code)
		}
	})
}

// TestSecondFactor_OneCodeSentAtOnceSignsInOnce sends one right code on
// several sign-ins at the same moment: exactly one is let in.
func TestSecondFactor_OneCodeSentAtOnceSignsInOnce(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, dialect string) {
		e := newTestServer(t, dialect)
		st := e.mustStaff("ana@example.com", models.RoleSales)
		secret, _ := e.enrolTOTP(st)
		e.clock.Advance(30 * time.Second)
		const n = 4
		steps := make([]string, n)
		for i := range steps {
			_, steps[i] = e.signInPassword("ana@example.com", staffPassword)
		}
		code := e.code(secret)
		got := make([]int, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() { got[i] = e.signInCode(steps[i], code).Code })
		}
		wg.Wait()
		count := map[int]int{}
		for _, c := range got {
			count[c]++
		}
		if count[http.StatusSeeOther] != 1 || count[http.StatusUnauthorized] != n-1 {
			t.Errorf("one code on %d sign-ins at once: %v; want one signed in, the rest 401", n, count)
		}
	})
}

func TestSecondFactor_RequiredUntilEnrolledByPolicy(t *testing.T) {
	for _, tc := range []struct {
		policy                   string
		adminLocked, salesLocked bool
	}{
		{models.Require2FAAdmins, true, false},
		{models.Require2FAAll, true, true},
		{models.Require2FAOff, false, false},
	} {
		t.Run(tc.policy, func(t *testing.T) {
			e := newTestServer(t, "sqlite", func(o *Options) { o.Require2FA = tc.policy })
			admin := e.mustStaff("boss@example.com", models.RoleAdmin)
			sales := e.mustStaff("ana@example.com", models.RoleSales)
			for _, u := range []struct {
				st     *staffer
				locked bool
			}{{admin, tc.adminLocked}, {sales, tc.salesLocked}} {
				who := u.st.User.Email
				w := e.page(u.st, http.MethodGet, "/admin/leads", nil)
				if u.locked && (w.Code != http.StatusSeeOther || location(w) != securityPage) {
					t.Errorf("%s without a second factor, a staff page: %d to %q; want sent to the Security page", who, w.Code, location(w))
				}
				if !u.locked && w.Code != http.StatusOK {
					t.Errorf("%s, a staff page: %d", who, w.Code)
				}
				// The staff API with the session cookie.
				w = e.do(http.MethodGet, "/api/v1/admin/leads", nil, "Cookie", sessionCookie+"="+u.st.Cookie)
				if u.locked && (w.Code != http.StatusForbidden || !strings.Contains(w.Body.String(), "second factor")) {
					t.Errorf("%s without a second factor, the API by session: %d %s; want 403 saying why", who, w.Code, w.Body.String())
				}
				if !u.locked && w.Code != http.StatusOK {
					t.Errorf("%s, the API by session: %d", who, w.Code)
				}
				// Tokens are not affected; the Security page always opens.
				if w := e.api(u.st, http.MethodGet, "/api/v1/admin/leads", ""); w.Code != http.StatusOK {
					t.Errorf("%s, the API by token: %d", who, w.Code)
				}
				if w := e.page(u.st, http.MethodGet, securityPage, nil); w.Code != http.StatusOK {
					t.Errorf("%s, the Security page: %d", who, w.Code)
				}
				// Signing in lands on the Security page when one is owed.
				w, _ = e.signInPassword(who, staffPassword)
				if want := map[bool]string{true: securityPage, false: "/admin/leads"}[u.locked]; location(w) != want {
					t.Errorf("%s signs in: to %q, want %q", who, location(w), want)
				}
			}
			if tc.adminLocked {
				e.enrolTOTP(admin)
				if w := e.page(admin, http.MethodGet, "/admin/leads", nil); w.Code != http.StatusOK {
					t.Errorf("the admin after setting up an app: %d", w.Code)
				}
			}
		})
	}
}

// TestSecondFactor_PasskeyOnlyUserMustUseIt: an admin who must have a
// second factor and whose only one is a passkey cannot sign in with the
// password alone; where none is required, the password still works.
func TestSecondFactor_PasskeyOnlyUserMustUseIt(t *testing.T) {
	for _, policy := range []string{models.Require2FAAdmins, models.Require2FAOff} {
		t.Run(policy, func(t *testing.T) {
			e := newTestServer(t, "sqlite", func(o *Options) { o.Require2FA = policy })
			st := e.mustStaff("boss@example.com", models.RoleAdmin)
			if _, err := e.store.AddPasskey(t.Context(), st.User.ID, "Laptop", "cred-1", "{}"); err != nil {
				t.Fatal(err)
			}
			w, _ := e.signInPassword("boss@example.com", staffPassword)
			session := cookieValue(w.Header(), sessionCookie)
			if policy == models.Require2FAOff {
				if w.Code != http.StatusSeeOther || session == "" {
					t.Fatalf("password sign-in with no second factor required: %d", w.Code)
				}
				return
			}
			if w.Code != http.StatusUnauthorized || session != "" || !strings.Contains(w.Body.String(), "Sign in with a passkey") {
				t.Fatalf("password alone for a passkey-only admin: %d, session %q", w.Code, session)
			}
		})
	}
}
