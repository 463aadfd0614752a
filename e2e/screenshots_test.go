package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"testing"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

// docsShots are the screenshots kept in docs/screenshots and shown in the
// README; CALLBOOK_SCREENSHOTS=docs writes only these.
var docsShots = map[string]bool{
	"index-desktop": true, "role-backend-engineer-desktop": true, "role-backend-engineer-phone": true,
	"book-desktop": true, "book-errors-phone": true, "confirmation-phone": true,
}

// screenshotDir is where the screenshots go: CALLBOOK_SCREENSHOTS=docs
// writes the committed ones in docs/screenshots, another value names a
// folder for all of them, and unset keeps them all in the test's temporary
// folder. The second result tells whether name is to be written.
func screenshotDir(t *testing.T) (string, func(name string) bool) {
	t.Helper()
	dir := os.Getenv("CALLBOOK_SCREENSHOTS")
	keep := func(string) bool { return true }
	switch dir {
	case "":
		return t.TempDir(), keep
	case "docs":
		dir = filepath.Join("..", "docs", "screenshots")
		keep = func(name string) bool { return docsShots[name] }
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir, keep
}

// TestScreenshots_PublicPagesAtPhoneAndDesktopWidths renders every public
// page at 390 px and 1280 px and saves full-page screenshots, checking on
// the way that each page answers and shows its main heading.
func TestScreenshots_PublicPagesAtPhoneAndDesktopWidths(t *testing.T) {
	a := startApp(t)
	b := newBrowser(t)
	dir, keep := screenshotDir(t)
	token := a.bookViaAPI(t, "grace@example.com", "Europe/London")
	shoot := func(name string) {
		if keep(name) {
			b.shoot(filepath.Join(dir, name+".jpg"))
		}
	}

	pages := []struct{ name, path string }{
		{"index", "/"},
		{"role-backend-engineer", "/roles/backend-engineer"},
		{"role-software-engineer", "/roles/software-engineer"},
		{"book", "/roles/backend-engineer/book?tz=Europe/London&step=times&answers.experience=1-2"},
		{"confirmation", "/bookings/" + token},
		{"reschedule", "/bookings/" + token + "/reschedule?tz=Europe/London"},
		{"cancel", "/bookings/" + token + "/cancel"},
	}
	b.do(timezone("Europe/London"))
	for _, width := range []int64{phoneWidth, desktopWidth} {
		kind := "desktop"
		if width < 600 {
			kind = "phone"
		}
		b.setViewport(width, screenHeight(width))
		for _, p := range pages {
			b.do(chromedp.Navigate(a.URL+p.path), chromedp.WaitVisible(chromedp.CSS("h1")))
			shoot(p.name + "-" + kind)
		}
		// The booking form's error state: submitted with nothing filled in.
		b.do(chromedp.Navigate(a.URL+"/roles/backend-engineer/book?tz=Europe/London&step=times&answers.experience=1-2"),
			chromedp.WaitVisible(chromedp.CSS(submitButton)),
			chromedp.Click(chromedp.CSS(submitButton)),
			chromedp.WaitVisible(chromedp.CSS(errorSummary)))
		shoot("book-errors-" + kind)
	}
	t.Logf("screenshots in %s", dir)
}

// shoot saves a full-page JPEG (quality 70, small enough to commit) of
// the tab. It makes the viewport as tall as the page first, rather than
// capturing beyond the viewport, so elements fixed to the bottom of the
// screen (the phone's booking bar) sit at the bottom of the picture, as
// they do at the end of the page.
func (b *browser) shoot(path string) {
	b.t.Helper()
	height := run(b, chromedp.Evaluate[int64](`Math.ceil(document.documentElement.scrollHeight)`))
	width := b.width
	b.setViewport(width, height)
	img := run(b, chromedp.Action[[]byte](func(ctx context.Context, t *chromedp.Target) ([]byte, error) {
		r, err := cdp.Call(ctx, t, page.CaptureScreenshot, page.CaptureScreenshotParams{
			Format: page.CaptureScreenshotFormatJpeg, Quality: new(int64(70)),
		})
		return r.Data, err
	}))
	b.setViewport(width, screenHeight(width))
	if err := os.WriteFile(path, img, 0o644); err != nil {
		b.t.Fatal(err)
	}
}

// bookViaAPI books the first free slot through the public API and returns
// the visitor's token.
func (a *app) bookViaAPI(t *testing.T, email, tz string) string {
	t.Helper()
	return a.bookViaAPIWith(t, map[string]any{"email": email, "timezone": tz})
}

// bookViaAPIWith books the first free slot in fields["timezone"] with a
// valid request that fields overrides, and returns the visitor's token.
func (a *app) bookViaAPIWith(t *testing.T, fields map[string]any) string {
	t.Helper()
	req := map[string]any{
		"name": "Grace Hopper", "email": "grace@example.com", "target_title": "Backend Engineer", "role_slug": "backend-engineer",
		"timezone": "UTC", "consent": true, "answers": map[string]any{"experience": "1-2"},
	}
	for k, v := range fields {
		req[k] = v
	}
	req["start"] = a.firstSlot(t, req["timezone"].(string))
	body, _ := json.Marshal(req)
	resp, err := http.Post(a.URL+"/api/v1/bookings", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	var out struct {
		Booking struct {
			ManageURL string `json:"manage_url"`
		} `json:"booking"`
	}
	if err == nil {
		err = json.Unmarshal(raw, &out)
	}
	if err != nil || resp.StatusCode != http.StatusCreated {
		t.Fatalf("book via API: %d %v %s", resp.StatusCode, err, raw)
	}
	u, err := url.Parse(out.Booking.ManageURL)
	if err != nil {
		t.Fatal(err)
	}
	return filepath.Base(u.Path)
}

// firstSlot returns the first offered start in tz.
func (a *app) firstSlot(t *testing.T, tz string) string {
	t.Helper()
	resp, err := http.Get(a.URL + "/api/v1/slots?tz=" + url.QueryEscape(tz))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct {
		Slots []struct {
			Start string `json:"start"`
		} `json:"slots"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || len(out.Slots) == 0 {
		t.Fatalf("slots: %d %v (%d slots)", resp.StatusCode, err, len(out.Slots))
	}
	return out.Slots[0].Start
}
