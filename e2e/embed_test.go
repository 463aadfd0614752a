package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/callbook/callbook/handlers"
	"github.com/callbook/callbook/models"
)

// careersPage is another company's page with the booking widget on it. It
// records the callbook:booked messages it receives from its own origin,
// as the README tells integrators to listen.
const careersPage = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Careers at Acme</title></head>
<body><h1>Careers at Acme</h1><p>Talk to a coach before you apply.</p>
<script>
window.warnings = [];
const warn = console.warn;
console.warn = function () { window.warnings.push([].join.call(arguments, " ")); warn.apply(console, arguments); };
window.booked = [];
window.addEventListener("message", function (e) {
  if (e.origin === location.origin && e.data && e.data.type === "callbook:booked") window.booked.push(e.data);
});
</script>
<script src="%s/static/embed.js" data-role="backend-engineer" async></script>
<p id="after">More about Acme</p>
</body></html>`

// startOtherSite serves the careers page from its own listener, addressed
// as "localhost" while Callbook is 127.0.0.1: another origin and another
// site, as a real company's domain would be. It returns the site's origin
// and a func that starts serving once Callbook's URL is known.
func startOtherSite(t *testing.T) (string, func(callbook string)) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	origin := "http://localhost:" + fmt.Sprint(ln.Addr().(*net.TCPAddr).Port)
	return origin, func(callbook string) {
		mux := http.NewServeMux()
		mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
			fmt.Fprint(w, `<!doctype html><html lang="en"><title>Acme</title><a id="careers" href="/careers?utm_source=partner&amp;utm_medium=referral&amp;utm_campaign=embed-e2e">Careers</a></html>`)
		})
		mux.HandleFunc("GET /careers", func(w http.ResponseWriter, r *http.Request) {
			fmt.Fprintf(w, careersPage, callbook)
		})
		srv := &httptest.Server{Listener: ln, Config: &http.Server{Handler: mux}}
		srv.Start()
		t.Cleanup(srv.Close)
	}
}

// frameOf attaches to the booking frame on the page whose address starts
// with urlPrefix and holds each of parts: Chromium runs a frame from another
// site as a target of its own.
func (b *browser) frameOf(urlPrefix string, parts ...string) *browser {
	b.t.Helper()
	deadline := time.Now().Add(stepTimeout)
	for time.Now().Before(deadline) {
		infos, err := chromedp.Targets(b.ctx)
		if err != nil {
			b.t.Fatalf("targets: %v", err)
		}
		for _, info := range infos {
			if info.Type == "iframe" && strings.HasPrefix(info.URL, urlPrefix) && containsAll(info.URL, parts) {
				ctx, cancel := chromedp.NewContext(b.ctx, chromedp.WithTargetID(info.TargetID))
				b.t.Cleanup(cancel)
				return &browser{t: b.t, ctx: ctx, width: b.width}
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	b.t.Fatalf("no frame at %s on %s", urlPrefix, b.location())
	return nil
}

func containsAll(s string, parts []string) bool {
	for _, p := range parts {
		if !strings.Contains(s, p) {
			return false
		}
	}
	return true
}

// evalIn evaluates a script in a frame from another site, trying again
// while the frame navigates. (Such a frame is a target of its own, where
// chromedp's DOM waits and polls do not run and an evaluation can stall
// across a navigation; short plain evaluations do not.)
func evalIn[T any](b *browser, js string) T {
	b.t.Helper()
	deadline := time.Now().Add(stepTimeout)
	var err error
	for time.Now().Before(deadline) {
		ctx, cancel := context.WithTimeout(b.ctx, 2*time.Second)
		var v T
		v, err = chromedp.Run(ctx, chromedp.Evaluate[T](js))
		cancel()
		if err == nil {
			return v
		}
		time.Sleep(100 * time.Millisecond)
	}
	b.t.Fatalf("evaluate %s in the frame: %v", js, err)
	var zero T
	return zero
}

// evalUntil evaluates a script in the frame until it returns a non-empty
// string, and returns that.
func (b *browser) evalUntil(js string) string {
	b.t.Helper()
	deadline := time.Now().Add(stepTimeout)
	for time.Now().Before(deadline) {
		if v := evalIn[string](b, js); v != "" {
			return v
		}
		time.Sleep(100 * time.Millisecond)
	}
	b.t.Fatalf("waited in vain for %s", js)
	return ""
}

// waitFor polls a script on the page until it returns true, for as long as
// a step may take, and says whether it did.
func (b *browser) waitFor(js string) bool {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()
	_, err := chromedp.Run(ctx, chromedp.Poll[bool](js))
	return err == nil
}

// TestEmbed_BookThroughTheWidgetOnAnotherSite is the integrator's path on
// a phone: a visitor follows a link with UTM parameters to another site's
// careers page, where embed.js puts the booking flow; they book inside the
// frame, the page hears callbook:booked with the booking's id, the frame
// grows to its content without side scrolling, and the lead carries the
// page's UTM, address and referrer and says it came through the embed.
func TestEmbed_BookThroughTheWidgetOnAnotherSite(t *testing.T) {
	site, serveSite := startOtherSite(t)
	a := startApp(t, func(o *handlers.Options) { o.EmbedOrigins = []string{site} })
	serveSite(a.URL)
	b := newBrowser(t)
	b.setViewport(phoneWidth, screenHeight(phoneWidth))

	b.do(timezone("Europe/Berlin"),
		chromedp.Navigate(site+"/"),
		chromedp.WaitVisible(chromedp.CSS("#careers")),
		chromedp.Click(chromedp.CSS("#careers")),
		chromedp.WaitReady(chromedp.CSS(`iframe[data-callbook-frame="backend-engineer"]`)),
	)
	if !run(b, chromedp.Evaluate[bool](`!!document.querySelector('iframe[data-callbook-frame] + script[data-role] + #after')`)) {
		t.Error("the frame is not where the script tag stands")
	}
	// Keyboard: once the flow shows in the frame (its page said so), Tab
	// from the page's start goes into it.
	b.do(chromedp.WaitReady(chromedp.CSS(`iframe[data-callbook-ready]`)), chromedp.KeyEvent(kb.Tab))
	if !b.waitFor(`document.activeElement && document.activeElement.tagName === "IFRAME"`) {
		t.Errorf("Tab does not reach the booking frame (focus on %s)", run(b, chromedp.Evaluate[string](`document.activeElement.outerHTML.slice(0, 80)`)))
	}

	f := b.frameOf(a.URL + "/embed/roles/backend-engineer/book")
	// Step one in the frame: the role page's questions, answered as a
	// visitor with a year or two of experience would.
	f.evalUntil(`(() => {
		if (document.readyState !== "complete") return "";
		const q = document.querySelector("#q-experience");
		if (!q) return document.querySelector(".time-grid") ? "times" : "";
		q.value = "1-2";
		const form = q.form;
		setTimeout(() => form.requestSubmit(), 0);
		return "answered";
	})()`)
	// Chromium gives the frame's next page a target of its own: attach to
	// the times step.
	f = b.frameOf(a.URL+"/embed/roles/backend-engineer/book", "step=times")
	// Once the times step is there (after book.js set the visitor's zone),
	// look at it and fill it in.
	got := f.evalUntil(`(() => {
		if (document.readyState !== "complete" || !document.querySelector("[data-tz-known]")) return "";
		const time = document.querySelector(".time-grid input[name=start]");
		if (!time) return "";
		const state = {sideways: document.documentElement.scrollWidth > document.documentElement.clientWidth + 1,
			chrome: !!document.querySelector(".site-header, .site-footer")};
		time.click();
		document.querySelector("#name").value = "Ada Embed";
		document.querySelector("#email").value = "ada.embed@example.com";
		document.querySelector("#consent").checked = true;
		const submit = document.querySelector("form[data-book-form] button[type=submit]");
		submit.focus({preventScroll: true});
		const r = submit.getBoundingClientRect();
		return JSON.stringify({state, x: r.left + r.width / 2, y: r.top + r.height / 2,
			page: document.documentElement.getAttribute("data-embed-page")});
	})()`)
	var filled struct {
		Page  string `json:"page"`
		State struct {
			Sideways bool `json:"sideways"`
			Chrome   bool `json:"chrome"`
		} `json:"state"`
		Y float64
	}
	if err := json.Unmarshal([]byte(got), &filled); err != nil {
		t.Fatal(err)
	}
	if filled.State.Sideways || filled.State.Chrome {
		t.Errorf("the frame on a phone: %s, want no sideways scrolling and no site header or footer", got)
	}
	// The visitor scrolls the page down to the frame's submit button, as
	// on a phone they must, once the frame has grown to the form, and
	// presses it (the keyboard's Enter on the focused button).
	if !b.waitFor(fmt.Sprintf(`(() => { const f = document.querySelector("iframe[data-callbook-frame]");
		return f.getAttribute("data-callbook-page") === %q && f.offsetHeight > %f; })()`, filled.Page, filled.Y)) {
		t.Fatal("the page did not hear from the times step, or the frame did not grow to its form")
	}
	at := run(b, chromedp.Evaluate[float64](fmt.Sprintf(`(() => { const f = document.querySelector("iframe[data-callbook-frame]");
		scrollTo(0, f.offsetTop + %f - innerHeight / 2); const r = f.getBoundingClientRect();
		return r.top; })()`, filled.Y)))
	if at > -float64(screenHeight(phoneWidth)) {
		t.Fatalf("the submit button is %.0f px down the frame: too near its top to leave the frame's top off screen", filled.Y)
	}
	b.do(pressEnter())

	// The page heard about the booking, from its own origin.
	id := run(b, chromedp.Poll[int](`window.booked.length && window.booked[0].booking_id`, chromedp.WithPollingTimeout(stepTimeout)))
	lead := a.leadByEmail(t, "ada.embed@example.com")
	bk := a.bookingOf(t, lead.ID)
	if uint(id) != bk.ID || bk.Status != models.BookingConfirmed {
		t.Errorf("callbook:booked carried booking_id %d, want %d", id, bk.ID)
	}
	wantPage := site + "/careers?utm_source=partner&utm_medium=referral&utm_campaign=embed-e2e"
	if lead.Source != models.SourceEmbed || lead.PageURL != wantPage || lead.UTMSource != "partner" ||
		lead.UTMMedium != "referral" || lead.UTMCampaign != "embed-e2e" || lead.Referrer != site+"/" {
		t.Errorf("lead source %q page %q utm %s/%s/%s referrer %q; want embed from %s with the page's UTM and referrer %s/",
			lead.Source, lead.PageURL, lead.UTMSource, lead.UTMMedium, lead.UTMCampaign, lead.Referrer, wantPage, site)
	}

	// The confirmation's heading is on screen: embed.js brought the
	// frame's top into view when the new step showed.
	done := b.frameOf(a.URL + "/embed/bookings/")
	heading := done.evalUntil(`(() => { const h = document.querySelector("h1");
		return h && document.readyState === "complete" ? JSON.stringify({text: h.textContent.trim(), top: h.getBoundingClientRect().top}) : ""; })()`)
	var h1 struct {
		Text string  `json:"text"`
		Top  float64 `json:"top"`
	}
	if err := json.Unmarshal([]byte(heading), &h1); err != nil {
		t.Fatal(err)
	}
	onScreen := fmt.Sprintf(`(() => { const top = document.querySelector("iframe[data-callbook-frame]").getBoundingClientRect().top + %f;
		return top >= 0 && top < innerHeight - 50; })()`, h1.Top)
	if !b.waitFor(onScreen) {
		frameTop := run(b, chromedp.Evaluate[float64](`document.querySelector("iframe[data-callbook-frame]").getBoundingClientRect().top`))
		t.Errorf("after booking, the heading %q is at %.0f px on a %d px screen, want on it", h1.Text, frameTop+h1.Top, screenHeight(phoneWidth))
	}

	// The frame fits its content: embed-frame.js told embed.js its height
	// (the 720 px it starts with changed).
	h := run(b, chromedp.Poll[int](`(() => { const f = document.querySelector("iframe[data-callbook-frame]");
		const h = parseInt(f.style.height, 10); return h !== 720 && h > 200 && h; })()`, chromedp.WithPollingTimeout(stepTimeout)))
	if h < 400 {
		t.Errorf("frame resized to %d px, too short for the confirmation", h)
	}
}

// TestEmbed_RefusedOnASiteNotAllowed puts the widget on a site missing from
// CALLBOOK_EMBED_ORIGINS: the browser refuses to show Callbook in the
// frame, and embed.js folds the frame away instead of leaving an empty
// 720-pixel box, links to the booking page, and says in the console what
// to set.
func TestEmbed_RefusedOnASiteNotAllowed(t *testing.T) {
	site, serveSite := startOtherSite(t)
	a := startApp(t, func(o *handlers.Options) { o.EmbedOrigins = []string{"https://www.elsewhere.example"} })
	serveSite(a.URL)
	b := newBrowser(t)
	b.setViewport(phoneWidth, screenHeight(phoneWidth))
	b.do(chromedp.Navigate(site+"/careers"), chromedp.WaitReady(chromedp.CSS(`iframe[data-callbook-frame]`)))
	if !b.waitFor(`!!document.querySelector("iframe[data-callbook-refused]")`) {
		t.Fatal("the refused frame was not folded away")
	}
	got := run(b, chromedp.Evaluate[string](`JSON.stringify({
		height: document.querySelector("iframe[data-callbook-frame]").offsetHeight,
		link: (document.querySelector("a[data-callbook-link]") || {}).href || "",
		warnings: window.warnings})`))
	var st struct {
		Height   int      `json:"height"`
		Link     string   `json:"link"`
		Warnings []string `json:"warnings"`
	}
	if err := json.Unmarshal([]byte(got), &st); err != nil {
		t.Fatal(err)
	}
	if st.Height != 0 {
		t.Errorf("the refused frame still takes %d px", st.Height)
	}
	if !strings.HasPrefix(st.Link, a.URL+"/roles/backend-engineer/book?") {
		t.Errorf("link in its place: %q, want the booking page", st.Link)
	}
	if len(st.Warnings) != 1 || !strings.Contains(st.Warnings[0], "CALLBOOK_EMBED_ORIGINS") || !strings.Contains(st.Warnings[0], site) {
		t.Errorf("console warnings %q, want one naming CALLBOOK_EMBED_ORIGINS and %s", st.Warnings, site)
	}
}
