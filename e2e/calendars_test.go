package e2e

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/callbook/callbook/calendars"
	"github.com/callbook/callbook/calendars/radicaletest"
	"github.com/callbook/callbook/handlers"
)

// TestStaff_FindCalendarsAndAddOneWithoutJavaScript is an admin with
// JavaScript off connecting a host's CalDAV account: they give the
// account's address, press Find calendars, pick Work from the list and
// add it; the page then shows it read.
func TestStaff_FindCalendarsAndAddOneWithoutJavaScript(t *testing.T) {
	dav := radicaletest.Start(t)
	dav.MakeCalendar("/ana/work/", "Work", "VEVENT")
	dav.MakeCalendar("/ana/family/", "Family", "VEVENT")
	a := startApp(t, func(o *handlers.Options) {
		// Radicale listens on 127.0.0.1: allowed, as a company's own server.
		o.Calendars = calendars.New(calendars.Options{Store: o.Store, AllowPrivate: true, Log: quietLog()})
	})
	axe := loadAxe(t)
	a.mustAdmin(t, "sam@callbook.test")
	hosts, err := a.Store.Hosts(context.Background())
	if err != nil || len(hosts) == 0 {
		t.Fatalf("hosts: %v", err)
	}

	b := newBrowser(t)
	b.setViewport(desktopWidth, screenHeight(desktopWidth))
	b.signIn(a.URL, "/admin/availability", "sam@callbook.test")
	b.do(noScript(), chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS("#cal-url")))
	b.do(
		chromedp.SetValue(chromedp.CSS("#cal-kind"), "caldav"),
		chromedp.SendKeys(chromedp.CSS("#cal-url"), dav.URL+"/ana/"),
		chromedp.SendKeys(chromedp.CSS("#cal-user"), dav.Username),
		chromedp.SendKeys(chromedp.CSS("#cal-pass"), dav.Password),
		chromedp.Click(chromedp.CSS(`button[formaction$="/calendars/discover"]`)),
	)
	// The click loads a new page: wait on that page's content itself (a
	// query started on the old page can miss the new one).
	if !b.evalTrue(`document.querySelector("#found-calendars") !== null`) {
		t.Fatal("no list of calendars after Find calendars")
	}
	if got := run(b, chromedp.Evaluate[string](`document.querySelector("#found-calendars").innerText`)); !strings.Contains(got, "Family") || !strings.Contains(got, "Work") {
		t.Fatalf("the list shows %q, want Family and Work", got)
	}
	// axe waits on timers, which run only with scripts on; the page itself
	// was loaded and is used without them.
	b.do(scriptOn())
	b.axeCheck(axe, "calendars found")
	b.do(noScript())
	// The page came from a form's answer: pick and send through the page's
	// own elements (the script runs from the browser's tools, the page's
	// scripts stay off).
	run(b, chromedp.Evaluate[bool](`(() => {
		document.querySelector('#found-calendars input[value$="/ana/work/"]').click();
		document.querySelector('#found-calendars button[type="submit"]').click();
		return true })()`))
	if !b.evalTrue(`document.querySelector("#calendars .alert-ok") !== null`) {
		t.Fatal("no confirmation after adding the chosen calendar")
	}
	if got := run(b, chromedp.Evaluate[string](`document.querySelector("#calendars table").innerText`)); !strings.Contains(got, dav.URL+"/ana/work/") || !strings.Contains(got, "OK") {
		t.Fatalf("the calendars table shows %q, want Work read", got)
	}
	srcs, err := a.Store.HostCalendars(context.Background(), hosts[0].ID)
	if err != nil || len(srcs) != 1 || !srcs[0].HasCredentials || srcs[0].LastError != nil {
		t.Fatalf("sources: %+v %v", srcs, err)
	}
}

// evalTrue evaluates js on the page until it gives true, for as long as a
// step may take. Unlike chromedp's Poll it needs no script of the page's
// own, so it works on a page whose scripts are off.
func (b *browser) evalTrue(js string) bool {
	b.t.Helper()
	deadline := time.Now().Add(stepTimeout)
	for time.Now().Before(deadline) {
		ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
		ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](js))
		cancel()
		if err == nil && ok {
			return true
		}
		time.Sleep(100 * time.Millisecond)
	}
	return false
}
