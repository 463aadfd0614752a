package e2e

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/callbook/callbook/models"
)

// Selectors the booking scenarios share.
const (
	heroCTA      = `a[data-cta="hero"]`
	tzKnown      = `[data-tz-known]`
	otherDay     = `.calendar a[data-date]:not(.is-selected)`
	selectedDay  = `.calendar a[data-date].is-selected`
	firstTime    = `.time-grid input[name="start"]`
	submitButton = `form[data-book-form] button[type="submit"]`
	errorSummary = `#error-summary`
)

// TestBooking_FromRolePageWithJavaScriptInTokyo is the main path with the
// JavaScript picker: a reader in Tokyo (not the business's New York) lands
// on a role page from a newsletter, clicks the hero call to action, gets
// their zone detected, switches day in place, picks a time, books, and the
// lead carries the target title and the UTM source.
func TestBooking_FromRolePageWithJavaScriptInTokyo(t *testing.T) {
	a := startApp(t)
	b := newBrowser(t)
	b.setViewport(desktopWidth, screenHeight(desktopWidth))

	b.do(timezone("Asia/Tokyo"),
		chromedp.Navigate(a.URL+"/roles/backend-engineer?utm_source=newsletter&utm_campaign=e2e"),
		chromedp.WaitVisible(chromedp.CSS(heroCTA)),
		chromedp.Click(chromedp.CSS(heroCTA)),
		// book.js detects Asia/Tokyo and reloads the questions with ?tz=.
		chromedp.WaitReady(chromedp.CSS(`[data-questions] input[name="tz"][value="Asia/Tokyo"]`)),
		loaded(),
		chromedp.SetValue(chromedp.CSS("#q-experience"), "1-2"),
		chromedp.Click(chromedp.CSS(`[data-questions] button[type="submit"]`)),
		chromedp.WaitReady(chromedp.CSS(tzKnown)), loaded(),
	)
	if zone := run(b, chromedp.Value(chromedp.CSS("#tz"))); zone != "Asia/Tokyo" {
		t.Fatalf("zone selector shows %q, want the detected Asia/Tokyo", zone)
	}
	if loc := b.location(); !strings.Contains(loc, "utm_source=newsletter") {
		t.Errorf("the booking page lost the UTM parameters: %s", loc)
	}

	// Another day, switched in place by the script (no page load: the
	// marker set below survives).
	day := b.attr(otherDay, "data-date")
	b.do(chromedp.Evaluate[chromedp.Void](`window.__samePage = true`),
		chromedp.Click(chromedp.CSS(otherDay)),
		chromedp.WaitVisible(chromedp.CSS(fmt.Sprintf(`.calendar a.is-selected[data-date=%q]`, day))),
		chromedp.WaitNotPresent(chromedp.CSS(`[data-times][aria-busy]`)),
	)
	if !run(b, chromedp.Evaluate[bool](`window.__samePage === true`)) {
		t.Error("switching day reloaded the page; the script should fetch the times")
	}
	start := run(b, chromedp.Value(chromedp.CSS(firstTime)))
	if !strings.HasPrefix(start, day) || !strings.HasSuffix(start, "+09:00") {
		t.Fatalf("first time %q is not on %s in Tokyo", start, day)
	}

	b.do(chromedp.Click(chromedp.CSS(`.time-grid label span`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-choice] p`)),
		chromedp.SendKeys(chromedp.CSS("#name"), "Ada Lovelace"),
		chromedp.SendKeys(chromedp.CSS("#email"), "ada@example.com"),
		chromedp.SendKeys(chromedp.CSS("#current_title"), "Data Analyst"),
		chromedp.Click(chromedp.CSS("#consent")),
		chromedp.Click(chromedp.CSS(submitButton)),
		chromedp.WaitVisible(chromedp.CSS(".ticket")),
	)
	if loc := b.location(); !strings.Contains(loc, "/bookings/") {
		t.Fatalf("after booking the browser is at %s, want the confirmation page", loc)
	}
	st, _ := time.Parse(time.RFC3339, start)
	ticket := b.text(".ticket-time")
	if !strings.HasPrefix(ticket, st.Format("15:04")) || !strings.Contains(ticket, "Asia/Tokyo") {
		t.Errorf("confirmation shows %q, want %s Asia/Tokyo", ticket, st.Format("15:04"))
	}

	// The calendar file downloads, for the chosen time.
	ics, name := b.download(`a[href$="/invite.ics"]`)
	if name != "invite.ics" || !strings.Contains(string(ics), "BEGIN:VCALENDAR") ||
		!strings.Contains(string(ics), "DTSTART:"+st.UTC().Format("20060102T150405Z")) {
		t.Errorf("downloaded %s:\n%s\nwant an invite starting %s", name, ics, st.UTC().Format("20060102T150405Z"))
	}

	lead := a.leadByEmail(t, "ada@example.com")
	if lead.TargetTitle != "Backend Engineer" || lead.RoleSlug != "backend-engineer" ||
		lead.UTMSource != "newsletter" || lead.UTMCampaign != "e2e" || lead.CurrentTitle != "Data Analyst" {
		t.Errorf("lead = %+v, want Backend Engineer from newsletter/e2e", lead)
	}
	bk := a.bookingOf(t, lead.ID)
	if !bk.StartAt.Equal(st) || bk.Timezone != "Asia/Tokyo" || bk.Status != models.BookingConfirmed {
		t.Errorf("booking at %s in %s (%s), want %s in Asia/Tokyo", bk.StartAt, bk.Timezone, bk.Status, st)
	}

	// A link with a zone the server does not know is corrected too.
	b.do(chromedp.Navigate(a.URL+"/roles/software-engineer/book?tz=Mars/Olympus_Mons"), chromedp.WaitReady(chromedp.CSS(tzKnown)), loaded())
	if zone := run(b, chromedp.Value(chromedp.CSS("#tz"))); zone != "Asia/Tokyo" {
		t.Errorf("after a bad ?tz= the zone selector shows %q, want Asia/Tokyo", zone)
	}
}

// TestBooking_WithoutJavaScript books with scripts off: the zone selector's
// GET form, the day links (?tz=&date=), a form sent back with an error and
// the input kept, then the booking.
func TestBooking_WithoutJavaScript(t *testing.T) {
	a := startApp(t)
	b := newBrowser(t)
	b.setViewport(phoneWidth, screenHeight(phoneWidth))

	b.do(noScript(), timezone("Asia/Tokyo"),
		chromedp.Navigate(a.URL+"/roles/software-engineer?utm_source=nojs"),
		chromedp.WaitVisible(chromedp.CSS(heroCTA)),
		chromedp.Click(chromedp.CSS(heroCTA)),
		chromedp.WaitVisible(chromedp.CSS(`[data-tz-note]`)),
	)
	if run(b, chromedp.Evaluate[bool](`document.documentElement.classList.contains("js")`)) {
		t.Fatal("book.js ran although scripts are off")
	}
	// No script, no detection: the page says which zone it shows, and the
	// visitor changes it with the selector and its button.
	// Zone names read without underscores: "America/New York".
	if note, want := b.text(`[data-tz-note]`), strings.ReplaceAll(businessZone, "_", " "); !strings.Contains(note, want) {
		t.Errorf("zone note %q does not name %s", note, want)
	}
	b.do(chromedp.SetValue(chromedp.CSS("#tz"), "Europe/Berlin"),
		chromedp.Click(chromedp.CSS(`.tz-form button[type="submit"]`)),
		chromedp.WaitReady(chromedp.CSS(tzKnown)), loaded(),
	)
	if loc := b.location(); !strings.Contains(loc, "tz=Europe%2FBerlin") || !strings.Contains(loc, "utm_source=nojs") {
		t.Fatalf("zone form went to %s, want tz=Europe/Berlin with the UTM kept", loc)
	}

	day := b.attr(otherDay, "data-date")
	href, err := url.Parse(b.attr(otherDay, "href"))
	if err != nil {
		t.Fatal(err)
	}
	if q := href.Query(); q.Get("tz") != "Europe/Berlin" || q.Get("date") != day || q.Get("utm_source") != "nojs" {
		t.Errorf("day link %s lacks ?tz=, ?date= or the UTM source", href)
	}
	b.do(chromedp.Click(chromedp.CSS(otherDay)),
		chromedp.WaitVisible(chromedp.CSS(fmt.Sprintf(`.calendar a.is-selected[data-date=%q]`, day))),
	)
	start := run(b, chromedp.Value(chromedp.CSS(firstTime)))
	if !strings.HasPrefix(start, day) {
		t.Fatalf("first time %q is not on the chosen day %s", start, day)
	}

	// Forget the consent: the form comes back (422) with the problem
	// summed up, linked to the field, and everything typed kept.
	b.do(chromedp.Click(chromedp.CSS(`.time-grid label span`)),
		chromedp.SendKeys(chromedp.CSS("#name"), "Grace Hopper"),
		chromedp.SendKeys(chromedp.CSS("#email"), "grace@example.com"),
		chromedp.Click(chromedp.CSS(submitButton)),
		chromedp.WaitVisible(chromedp.CSS(errorSummary)),
	)
	if href := b.attr(errorSummary+` a`, "href"); href != "#consent" {
		t.Errorf("error summary links to %q, want #consent", href)
	}
	if d := b.attr("#consent", "aria-describedby"); d != "consent-error" {
		t.Errorf("consent aria-describedby = %q", d)
	}
	if v := run(b, chromedp.Value(chromedp.CSS("#name"))); v != "Grace Hopper" {
		t.Errorf("name not kept: %q", v)
	}
	if checked := b.attr(`input[name="start"]:checked`, "value"); checked != start {
		t.Errorf("chosen time not kept: %q, want %q", checked, start)
	}

	b.do(chromedp.Click(chromedp.CSS("#consent")),
		chromedp.Click(chromedp.CSS(submitButton)),
		chromedp.WaitVisible(chromedp.CSS(".ticket")),
	)
	lead := a.leadByEmail(t, "grace@example.com")
	if lead.TargetTitle != "Software Engineer" || lead.UTMSource != "nojs" {
		t.Errorf("lead = %+v, want Software Engineer from nojs", lead)
	}
	st, _ := time.Parse(time.RFC3339, start)
	if bk := a.bookingOf(t, lead.ID); !bk.StartAt.Equal(st) || bk.Timezone != "Europe/Berlin" {
		t.Errorf("booking at %s in %s, want %s in Europe/Berlin", bk.StartAt, bk.Timezone, st)
	}
}

// TestBooking_KeyboardOnly books with the keyboard alone, and checks on
// the way that every control that takes focus shows it.
func TestBooking_KeyboardOnly(t *testing.T) {
	a := startApp(t)
	b := newBrowser(t)
	b.setViewport(desktopWidth, screenHeight(desktopWidth))
	b.do(timezone("Europe/Lisbon"),
		chromedp.Navigate(a.URL+"/roles/software-engineer"),
		chromedp.WaitVisible(chromedp.CSS(heroCTA)),
	)
	b.tabTo(heroCTA, 20)
	b.do(pressEnter(), chromedp.WaitReady(chromedp.CSS(tzKnown)), loaded(), chromedp.WaitVisible(chromedp.CSS(otherDay)))

	// Day: the day grid is one Tab stop, on the chosen day; the right
	// arrow moves to the next day, Enter picks it, and the script loads
	// its times and moves focus to the first one.
	b.tabTo(selectedDay, 15)
	b.do(chromedp.KeyEvent(kb.ArrowRight))
	day := run(b, chromedp.Evaluate[string](`document.activeElement.matches(".calendar a:not(.is-selected)") && document.activeElement.tabIndex === 0 ? document.activeElement.getAttribute("data-date") : ""`))
	if day == "" {
		t.Fatalf("the right arrow did not move to the next day: %s at %s", run(b, chromedp.Evaluate[string](`document.activeElement.outerHTML.slice(0, 120)`)), b.location())
	}
	b.do(pressEnter(),
		chromedp.WaitVisible(chromedp.CSS(fmt.Sprintf(`.calendar a.is-selected[data-date=%q]`, day))),
		chromedp.WaitNotPresent(chromedp.CSS(`[data-times][aria-busy]`)),
	)
	if !run(b, chromedp.Evaluate[bool](`document.activeElement.name === "start"`)) {
		b.tabTo(firstTime, 5)
	}
	// Arrow keys move through the times and pick one; the focused time is
	// outlined.
	b.do(chromedp.KeyEvent(kb.ArrowRight))
	start := run(b, chromedp.Evaluate[string](`document.activeElement.checked ? document.activeElement.value : ""`))
	if start == "" || !strings.HasPrefix(start, day) {
		t.Fatalf("arrow key did not pick a time on %s (got %q)", day, start)
	}
	if o := run(b, chromedp.Evaluate[string](`getComputedStyle(document.activeElement.nextElementSibling).outlineStyle`)); o == "none" {
		t.Error("the focused time shows no outline")
	}

	for _, f := range []struct{ css, keys string }{
		{"#name", "Alan Turing"}, {"#email", "alan@example.com"},
	} {
		b.tabTo(f.css, 3)
		b.do(chromedp.KeyEvent(f.keys))
	}
	b.tabTo("#consent", 8)
	b.do(chromedp.KeyEvent(" "))
	b.tabTo(submitButton, 3)
	b.do(pressEnter(), chromedp.WaitVisible(chromedp.CSS(".ticket")))

	lead := a.leadByEmail(t, "alan@example.com")
	st, _ := time.Parse(time.RFC3339, start)
	if bk := a.bookingOf(t, lead.ID); !bk.StartAt.Equal(st) || bk.Timezone != "Europe/Lisbon" {
		t.Errorf("booking at %s in %s, want %s in Europe/Lisbon", bk.StartAt, bk.Timezone, st)
	}
}

// TestBooking_FewTabsFromTheZoneToATime counts the Tab presses from the
// time zone control to the first free time: the zone's button, the day
// grid (one stop, however many days it lists), the times. Arrow keys move
// in the grid as in WAI-ARIA's date grid: by day, by week, to the week's
// ends, landing on listed days only.
func TestBooking_FewTabsFromTheZoneToATime(t *testing.T) {
	a := startApp(t)
	b := newBrowser(t)
	b.setViewport(desktopWidth, screenHeight(desktopWidth))
	b.do(timezone("Europe/Lisbon"),
		chromedp.Navigate(a.URL+"/roles/software-engineer/book"),
		chromedp.WaitReady(chromedp.CSS(tzKnown)), loaded(),
		chromedp.WaitVisible(chromedp.CSS(otherDay)),
		chromedp.Focus(chromedp.CSS("#tz")),
	)
	if n := run(b, chromedp.Evaluate[int](`document.querySelectorAll(".calendar a[data-date]").length`)); n < 10 {
		t.Fatalf("only %d days listed; the count below means little", n)
	}
	b.tabTo(firstTime, 3)

	// Back in the grid: each arrow lands on the listed day it should.
	b.do(chromedp.Focus(chromedp.CSS(selectedDay)))
	days := run(b, chromedp.Evaluate[[]string](`[...document.querySelectorAll(".calendar a[data-date]")].map(a => a.getAttribute("data-date"))`))
	focused := func() string {
		return run(b, chromedp.Evaluate[string](`document.activeElement.tabIndex === 0 && document.querySelectorAll(".calendar a[tabindex='0']").length === 1 ? document.activeElement.getAttribute("data-date") || "" : "roving tabindex broken"`))
	}
	at := func(date string, delta int) time.Time {
		d, _ := time.Parse(time.DateOnly, date)
		return d.AddDate(0, 0, delta)
	}
	// The first listed day on or after (or on or before) a date.
	listed := func(d time.Time, forward bool) string {
		want := d.Format(time.DateOnly)
		if forward {
			for _, day := range days {
				if day >= want {
					return day
				}
			}
		}
		for i := len(days) - 1; i >= 0; i-- {
			if days[i] <= want {
				return days[i]
			}
		}
		return ""
	}
	for _, step := range []struct {
		key  string
		want func(from string) string
	}{
		{kb.ArrowRight, func(from string) string { return listed(at(from, 1), true) }},
		{kb.ArrowDown, func(from string) string { return listed(at(from, 7), true) }},
		{kb.ArrowLeft, func(from string) string { return listed(at(from, -1), false) }},
		{kb.ArrowUp, func(from string) string { return listed(at(from, -7), false) }},
		{kb.End, func(from string) string {
			d := at(from, 0)
			return listed(d.AddDate(0, 0, 6-(int(d.Weekday())+6)%7), false)
		}},
		{kb.Home, func(from string) string {
			d := at(from, 0)
			return listed(d.AddDate(0, 0, -(int(d.Weekday())+6)%7), true)
		}},
	} {
		from := focused()
		b.do(chromedp.KeyEvent(step.key))
		want := step.want(from)
		if want == "" { // no listed day that way: focus stays
			want = from
		}
		if got := focused(); got != want {
			t.Errorf("from %s, key %q: focus on %q, want %q", from, step.key, got, want)
		}
	}
	// Space picks the focused day, as Enter does.
	day := focused()
	b.do(chromedp.KeyEvent(" "), chromedp.WaitVisible(chromedp.CSS(fmt.Sprintf(`.calendar a.is-selected[data-date=%q]`, day))))
}

// pressEnter presses Enter as a keyboard does: keydown and its keypress in
// one event, then keyup. (chromedp.KeyEvent sends the keypress as a
// separate event; when the keydown already moved focus, say from a day link
// to a time, that late keypress would submit the form.)
func pressEnter() chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		for _, p := range []input.DispatchKeyEventParams{
			{Type: input.DispatchKeyEventTypeKeyDown, Key: "Enter", Code: "Enter", Text: "\r", UnmodifiedText: "\r", WindowsVirtualKeyCode: 13, NativeVirtualKeyCode: 13},
			{Type: input.DispatchKeyEventTypeKeyUp, Key: "Enter", Code: "Enter", WindowsVirtualKeyCode: 13, NativeVirtualKeyCode: 13},
		} {
			if _, err := cdp.Call(ctx, t, input.DispatchKeyEvent, p); err != nil {
				return err
			}
		}
		return nil
	})
}

// tabTo presses Tab until the focused element matches css, at most max
// times, failing the test otherwise. Each element focused on the way must
// show a focus outline.
func (b *browser) tabTo(css string, max int) {
	b.t.Helper()
	for i := 0; i < max; i++ {
		b.do(chromedp.KeyEvent(kb.Tab))
		st := run(b, chromedp.Evaluate[focusState](fmt.Sprintf(`(() => {
			const e = document.activeElement;
			// A visually hidden radio shows its focus on the label's box.
			const shown = e.type === "radio" ? e.nextElementSibling : e;
			return {match: e.matches(%q), outline: getComputedStyle(shown).outlineStyle, tag: e.outerHTML.slice(0, 80)};
		})()`, css)))
		if st.Outline == "none" {
			b.t.Errorf("no visible focus on %s", st.Tag)
		}
		if st.Match {
			return
		}
	}
	b.t.Fatalf("%d Tabs did not reach %s", max, css)
}

// focusState describes the focused element: whether it is the one looked
// for, its outline style, and its start for messages.
type focusState struct {
	Match   bool   `json:"match"`
	Outline string `json:"outline"`
	Tag     string `json:"tag"`
}

// attr returns an attribute of the first element matching css.
func (b *browser) attr(css, name string) string {
	b.t.Helper()
	return run(b, chromedp.Evaluate[string](fmt.Sprintf(`(document.querySelector(%q) || {getAttribute: () => ""}).getAttribute(%q) || ""`, css, name)))
}

// bookingOf returns the lead's latest booking.
func (a *app) bookingOf(t *testing.T, leadID uint) models.Booking {
	t.Helper()
	var bk models.Booking
	if err := a.Store.ReadDB().Where("lead_id = ?", leadID).Order("id DESC").First(&bk).Error; err != nil {
		t.Fatalf("booking of lead %d: %v", leadID, err)
	}
	return bk
}
