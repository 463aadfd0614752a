package e2e

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/pquerna/otp/totp"

	"github.com/callbook/callbook/handlers"
	"github.com/callbook/callbook/models"
)

// TestTOTP_NewAdminEnrolsAtFirstSignInWithoutJavaScript: a new admin signs
// in with the password, is sent to the Security page, scans the QR code
// (here: reads the secret shown beside it), confirms with a code, keeps the
// recovery codes, and next time signs in with the password and a code (a
// recovery code here, since the app's current code was just used). The
// pages pass axe and need no JavaScript.
func TestTOTP_NewAdminEnrolsAtFirstSignInWithoutJavaScript(t *testing.T) {
	a := startApp(t, func(o *handlers.Options) { o.Require2FA = models.Require2FAAdmins })
	axe := loadAxe(t)
	a.mustAdmin(t, "sam@example.com")
	b := newBrowser(t)
	b.do(noScript())

	b.signIn(a.URL, "/admin/leads", "sam@example.com")
	b.do(chromedp.WaitVisible(chromedp.CSS(`form[action="/admin/security/totp"] button`)))
	if p := path(b.location()); p != "/admin/security" {
		t.Fatalf("a new admin landed on %s, want the Security page", p)
	}
	b.do(
		chromedp.Click(chromedp.CSS(`form[action="/admin/security/totp"] button`)),
		chromedp.WaitVisible(chromedp.CSS("img.totp-qr")),
	)
	b.do(scriptOn())
	b.axeCheck(axe, "security page, setting up an app")
	if w := run(b, chromedp.Evaluate[float64](`document.querySelector("img.totp-qr").naturalWidth`)); w < 100 {
		t.Fatalf("the QR code image did not load (width %v)", w)
	}
	secret := b.text("code.totp-secret")
	code, err := totp.GenerateCode(secret, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	b.do(
		chromedp.SendKeys(chromedp.CSS("#code"), code),
		chromedp.Click(chromedp.CSS(`form[action="/admin/security/totp/confirm"] button`)),
		chromedp.WaitVisible(chromedp.CSS("ul.recovery-codes")),
	)
	recovery := strings.Fields(b.text("ul.recovery-codes"))
	if len(recovery) != models.RecoveryCodeCount {
		t.Fatalf("recovery codes shown: %q", recovery)
	}
	b.axeCheck(axe, "security page, recovery codes")

	b.do(
		chromedp.Click(chromedp.CSS(".signout button")),
		chromedp.WaitVisible(chromedp.CSS("#password")),
	)
	b.signIn(a.URL, "/admin/leads", "sam@example.com")
	b.do(chromedp.WaitVisible(chromedp.CSS(`form[action="/admin/login/code"] #code`)))
	b.axeCheck(axe, "sign-in code")
	b.do(
		chromedp.SendKeys(chromedp.CSS("#code"), recovery[0]),
		chromedp.Click(chromedp.CSS(`form[action="/admin/login/code"] button`)),
		chromedp.WaitVisible(chromedp.CSS(".signout")),
	)
	if p := path(b.location()); p != "/admin/leads" {
		t.Fatalf("after the code the admin is at %s, want the leads", p)
	}
}
