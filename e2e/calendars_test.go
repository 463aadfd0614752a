package e2e

import (
	"context"
	"strings"
	"testing"

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
		chromedp.WaitVisible(chromedp.CSS("#found-calendars")),
	)
	if got := b.text("#found-calendars"); !strings.Contains(got, "Family") || !strings.Contains(got, "Work") {
		t.Fatalf("the list shows %q, want Family and Work", got)
	}
	// axe waits on timers, which run only with scripts on; the page itself
	// was loaded and is used without them.
	b.do(scriptOn())
	b.axeCheck(axe, "calendars found")
	b.do(noScript())
	b.do(
		chromedp.Click(chromedp.CSS(`#found-calendars input[value$="/ana/work/"]`)),
		chromedp.Click(chromedp.CSS(`#found-calendars button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS("#calendars .alert-ok")),
	)
	if got := b.text("#calendars table"); !strings.Contains(got, dav.URL+"/ana/work/") || !strings.Contains(got, "OK") {
		t.Fatalf("the calendars table shows %q, want Work read", got)
	}
	srcs, err := a.Store.HostCalendars(context.Background(), hosts[0].ID)
	if err != nil || len(srcs) != 1 || !srcs[0].HasCredentials || srcs[0].LastError != nil {
		t.Fatalf("sources: %+v %v", srcs, err)
	}
}
