package e2e

import (
	"context"
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
	// Keyboard: Tab from the page's start goes into the frame.
	b.do(chromedp.KeyEvent(kb.Tab))
	if !run(b, chromedp.Evaluate[bool](`document.activeElement && document.activeElement.tagName === "IFRAME"`)) {
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
	// Once the form is there (after book.js set the visitor's zone), look
	// at it and book, in one evaluation: the frame navigates away after.
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
		const form = document.querySelector("form[data-book-form]");
		setTimeout(() => form.requestSubmit(form.querySelector("button[type=submit]")), 0);
		return JSON.stringify(state);
	})()`)
	if got != `{"sideways":false,"chrome":false}` {
		t.Errorf("the frame on a phone: %s, want no sideways scrolling and no site header or footer", got)
	}

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

	// The frame fits its content: embed-frame.js told embed.js its height
	// (the 720 px it starts with changed).
	h := run(b, chromedp.Poll[int](`(() => { const f = document.querySelector("iframe[data-callbook-frame]");
		const h = parseInt(f.style.height, 10); return h !== 720 && h > 200 && h; })()`, chromedp.WithPollingTimeout(stepTimeout)))
	if h < 400 {
		t.Errorf("frame resized to %d px, too short for the confirmation", h)
	}
}
