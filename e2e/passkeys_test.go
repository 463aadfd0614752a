package e2e

import (
	"context"
	"net/url"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/webauthn"
	"github.com/chromedp/chromedp"

	"github.com/callbook/callbook/handlers"
	"github.com/callbook/callbook/models"
)

// virtualAuthenticator gives the tab a platform authenticator that keeps
// passkeys and verifies its user (as a laptop's fingerprint reader would),
// answering without a person.
func virtualAuthenticator() chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		if _, err := cdp.Call(ctx, t, webauthn.Enable, webauthn.EnableParams{}); err != nil {
			return err
		}
		_, err := cdp.Call(ctx, t, webauthn.AddVirtualAuthenticator, webauthn.AddVirtualAuthenticatorParams{
			Options: &webauthn.VirtualAuthenticatorOptions{
				Protocol: webauthn.AuthenticatorProtocolCtap2, Ctap2version: webauthn.Ctap2versionCtap21,
				Transport: webauthn.AuthenticatorTransportInternal, HasResidentKey: true, HasUserVerification: true,
				IsUserVerified: true, AutomaticPresenceSimulation: true,
			},
		})
		return err
	})
}

// TestPasskeys_AddSignInWithItAloneThenRemoveIt: an admin who must have a
// second factor signs in with the password, lands on the Security page,
// adds a passkey, signs out and signs back in with the passkey alone;
// once it is removed, the same passkey no longer signs in.
func TestPasskeys_AddSignInWithItAloneThenRemoveIt(t *testing.T) {
	// WebAuthn needs a host name, not an address, as the site's identity.
	a := startApp(t, func(o *handlers.Options) {
		o.BaseURL = strings.Replace(o.BaseURL, "127.0.0.1", "localhost", 1)
		o.Require2FA = models.Require2FAAdmins
	})
	base := strings.Replace(a.URL, "127.0.0.1", "localhost", 1)
	axe := loadAxe(t)
	a.mustAdmin(t, "sam@example.com")
	b := newBrowser(t)
	b.do(virtualAuthenticator())

	b.signIn(base, "/admin/leads", "sam@example.com")
	b.do(chromedp.WaitVisible(chromedp.CSS("form[data-passkey-add]")))
	if p := path(b.location()); p != "/admin/security" {
		t.Fatalf("an admin without a second factor landed on %s, want the Security page", p)
	}
	b.axeCheck(axe, "security page")
	b.do(
		chromedp.SetValue(chromedp.CSS("#pk-name"), "Work laptop"),
		chromedp.Click(chromedp.CSS("form[data-passkey-add] button[type=submit]")),
		chromedp.WaitVisible(chromedp.CSS("table.passkeys")),
	)
	if got := b.text("table.passkeys tbody"); !strings.Contains(run(b, chromedp.Value(chromedp.CSS("table.passkeys input[name=name]"))), "Work laptop") {
		t.Fatalf("the new passkey is not listed: %q", got)
	}
	// With a second factor the rest of the staff area opens.
	b.do(chromedp.Navigate(base+"/admin/leads"), chromedp.WaitVisible(chromedp.CSS(".signout")))
	if p := path(b.location()); p != "/admin/leads" {
		t.Fatalf("with a passkey the leads page sent the admin to %s", p)
	}

	signOutThenPasskey := func() {
		b.do(
			chromedp.Click(chromedp.CSS(".signout button")),
			chromedp.WaitVisible(chromedp.CSS("form[data-passkey-login] button")),
			chromedp.Click(chromedp.CSS("form[data-passkey-login] button")),
			// Signed in, or refused with a message.
			chromedp.WaitVisible(chromedp.CSS(".signout, .alert-error")),
		)
	}
	signOutThenPasskey()
	if p := path(b.location()); p != "/admin" {
		t.Fatalf("after the passkey sign-in the browser is at %s, want the dashboard", p)
	}

	b.do(
		chromedp.Navigate(base+"/admin/security"),
		chromedp.Click(chromedp.CSS(`table.passkeys form[action$="/remove"] button`)),
		chromedp.WaitNotPresent(chromedp.CSS("table.passkeys")),
		chromedp.WaitVisible(chromedp.CSS(".signout")),
	)
	signOutThenPasskey()
	if msg := b.text(".alert-error"); !strings.Contains(msg, "does not sign in") {
		t.Fatalf("a removed passkey: %q", msg)
	}
	if run(b, chromedp.Evaluate[bool](`!!document.querySelector(".signout")`)) {
		t.Fatal("a removed passkey signed in")
	}
}

// path is the path of a URL.
func path(u string) string {
	p, err := url.Parse(u)
	if err != nil {
		return u
	}
	return p.Path
}
