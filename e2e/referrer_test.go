package e2e

import (
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"testing"

	"github.com/chromedp/chromedp"
)

// startProxy serves the app through a reverse proxy on its own port, as
// Caddy does: the Host header is the proxy's address, not the base URL's.
func startProxy(t *testing.T, a *app) string {
	t.Helper()
	target, err := url.Parse(a.URL)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(httputil.NewSingleHostReverseProxy(target))
	t.Cleanup(srv.Close)
	return srv.URL
}

// startLinkingSite serves a page on another origin (addressed as
// localhost while the service is 127.0.0.1) that links to the given
// addresses, as a newsletter or a partner's site would.
func startLinkingSite(t *testing.T, links map[string]string) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	origin := "http://localhost:" + fmt.Sprint(ln.Addr().(*net.TCPAddr).Port)
	page := `<!doctype html><html lang="en"><title>Newsletter</title>`
	for id, href := range links {
		page += fmt.Sprintf(`<p><a id=%q href=%q>%s</a></p>`, id, href, id)
	}
	srv := &httptest.Server{Listener: ln, Config: &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprint(w, page)
	})}}
	srv.Start()
	t.Cleanup(srv.Close)
	return origin
}

// TestReferrer_BehindAProxyTheLeadKeepsTheSiteItCameFrom books twice in a
// real browser through a proxy whose address is not the base URL: once
// from another site through the role page, its questions and the times,
// once from another site straight onto a booking page. Each step's own
// Referer is a page of the service at the proxy's address; the lead must
// keep the other site, first touch and latest alike.
func TestReferrer_BehindAProxyTheLeadKeepsTheSiteItCameFrom(t *testing.T) {
	a := startApp(t)
	proxy := startProxy(t, a)
	site := startLinkingSite(t, map[string]string{
		"role": proxy + "/roles/backend-engineer?utm_source=newsletter",
		"book": proxy + "/roles/software-engineer/book?utm_source=newsletter",
	})
	want := site + "/" // a cross-site Referer is the origin only
	b := newBrowser(t)
	b.setViewport(desktopWidth, screenHeight(desktopWidth))

	// Role page, questions, times, form.
	b.do(timezone("Europe/Berlin"),
		chromedp.Navigate(site),
		chromedp.Click(chromedp.CSS("#role")),
		chromedp.WaitVisible(chromedp.CSS(heroCTA)),
		chromedp.Click(chromedp.CSS(heroCTA)),
		chromedp.WaitReady(chromedp.CSS(`[data-questions] input[name="tz"][value="Europe/Berlin"]`)),
		loaded(),
		chromedp.SetValue(chromedp.CSS("#q-experience"), "1-2"),
		chromedp.Click(chromedp.CSS(`[data-questions] button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(firstTime)),
		chromedp.WaitNotPresent(chromedp.CSS(`[data-times][aria-busy]`)),
		chromedp.Click(chromedp.CSS(`.time-grid label span`)),
		chromedp.SendKeys(chromedp.CSS("#name"), "Grace Hopper"),
		chromedp.SendKeys(chromedp.CSS("#email"), "grace@example.com"),
		chromedp.Click(chromedp.CSS("#consent")),
		chromedp.Click(chromedp.CSS(submitButton)),
		chromedp.WaitVisible(chromedp.CSS(".ticket")),
	)
	// Straight onto a booking page, whose zone detection reloads it.
	b.do(chromedp.Navigate(site),
		chromedp.Click(chromedp.CSS("#book")),
		chromedp.WaitReady(chromedp.CSS(tzKnown)), loaded(),
		chromedp.WaitVisible(chromedp.CSS(firstTime)),
		chromedp.WaitNotPresent(chromedp.CSS(`[data-times][aria-busy]`)),
		chromedp.Click(chromedp.CSS(`.time-grid label span`)),
		chromedp.SendKeys(chromedp.CSS("#name"), "Ada Lovelace"),
		chromedp.SendKeys(chromedp.CSS("#email"), "ada@example.com"),
		chromedp.Click(chromedp.CSS("#consent")),
		chromedp.Click(chromedp.CSS(submitButton)),
		chromedp.WaitVisible(chromedp.CSS(".ticket")),
	)
	for _, email := range []string{"grace@example.com", "ada@example.com"} {
		l := a.leadByEmail(t, email)
		if l.Referrer != want || l.FirstReferrer != want || l.UTMSource != "newsletter" {
			t.Errorf("%s: referrer %q, first referrer %q, utm_source %q; want %q and newsletter",
				email, l.Referrer, l.FirstReferrer, l.UTMSource, want)
		}
	}
}
