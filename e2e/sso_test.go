package e2e

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/callbook/callbook/handlers"
	"github.com/callbook/callbook/handlers/ssotest"
	"github.com/callbook/callbook/store/storetest"
)

// TestStaff_SignInThroughTheIdentityProvider is a staff member of a firm
// with an identity provider: a staff page sends them to sign in, "Sign in
// with Firm Login" takes them to the provider's own form and back, signed
// in, to the page they asked for, all without JavaScript. The sign-in page
// with the button passes axe.
func TestStaff_SignInThroughTheIdentityProvider(t *testing.T) {
	b := newBrowser(t)
	axe := loadAxe(t)
	a := startApp(t, func(o *handlers.Options) {
		issuer := ssotest.Start(t, storetest.FreeAddr(t), o.BaseURL+"/admin/oidc/callback", true,
			ssotest.Account{Username: "sam", Email: "Sam@Callbook.Test", EmailVerified: true, FirstName: "Sam", LastName: "Sales"})
		o.SSO = &handlers.SSOSettings{Issuer: issuer, ClientID: ssotest.ClientID, ClientSecret: ssotest.ClientSecret, Name: "Firm Login"}
	})
	a.mustAdmin(t, "sam@callbook.test")
	sso := chromedp.CSS(`a[href^="/admin/oidc/login?"]`)

	b.setViewport(desktopWidth, screenHeight(desktopWidth))
	b.do(chromedp.Navigate(a.URL+"/admin/login"), chromedp.WaitVisible(sso))
	b.axeCheck(axe, "staff sign-in with single sign-on")

	b.do(noScript(), chromedp.Navigate(a.URL+"/admin/leads"), chromedp.WaitVisible(sso))
	if got := b.text(`a[href^="/admin/oidc/login?"]`); got != "Sign in with Firm Login" {
		t.Fatalf("button says %q", got)
	}
	b.do(chromedp.Click(sso),
		chromedp.WaitVisible(chromedp.CSS("#username")),
		chromedp.SendKeys(chromedp.CSS("#username"), "sam"),
		chromedp.SendKeys(chromedp.CSS("#password"), ssotest.Password),
		chromedp.Click(chromedp.CSS(`button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(`form[action="/admin/logout"]`)),
	)
	if loc := b.location(); !strings.HasSuffix(loc, "/admin/leads") {
		t.Fatalf("after signing in through the provider the browser is at %s, want the lead list", loc)
	}
}
