// Package e2e drives the real service in Debian's Chromium through the
// DevTools protocol (chromedp): booking from a role page with and without
// JavaScript, the manage pages, the staff area, accessibility checks with
// axe-core and screenshots of every public page.
//
// The tests skip with a message when /usr/bin/chromium is missing. axe-core
// comes from e2e/node_modules (`npm ci` in this folder).
package e2e

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/callbook/callbook/handlers"
	"github.com/callbook/callbook/mailer"
	"github.com/callbook/callbook/models"
	"github.com/callbook/callbook/store"
	"github.com/callbook/callbook/store/storetest"
	"github.com/callbook/callbook/web"
)

// chromiumPath is where Debian's chromium package puts the browser; CI
// installs it with `apt-get install -y chromium`.
const chromiumPath = "/usr/bin/chromium"

// businessZone is the zone availability is written in, as in production's
// default CALLBOOK_TIMEZONE.
const businessZone = "America/New_York"

// app is the whole service on a real listener and a fresh SQLite file,
// built the way cmd/callbook's buildApp builds it.
type app struct {
	URL   string
	Store *store.Store
}

// startApp migrates a new database, creates the default host, loads the
// built-in role pages and serves the handlers on 127.0.0.1. It uses the
// real clock: slots are computed from now, like in production.
func startApp(t *testing.T, tweak ...func(*handlers.Options)) *app {
	t.Helper()
	loc, err := time.LoadLocation(businessZone)
	if err != nil {
		t.Fatal(err)
	}
	db, err := store.Open("sqlite:"+filepath.Join(t.TempDir(), "callbook.db"), store.Options{
		Secret:   []byte("e2e-secret-e2e-secret-e2e-secret!"),
		Location: loc,
		Reminders: []models.ReminderOffset{
			{Label: "24h", Before: 24 * time.Hour}, {Label: "1h", Before: time.Hour},
		},
		Log:        quietLog(),
		MailFrom:   "Callbook <no-reply@callbook.test>",
		MeetingURL: "https://meet.callbook.test/call-{booking}",
	})
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	ctx := context.Background()
	if err := db.Migrate(ctx); err != nil {
		t.Fatalf("migrate: %v", err)
	}
	if err := db.EnsureDefaultHost(ctx); err != nil {
		t.Fatalf("default host: %v", err)
	}
	content, err := handlers.LoadContent(web.Content())
	if err != nil {
		t.Fatalf("content: %v", err)
	}

	// The base URL must be known before the handlers are built: listen
	// first, then build, then serve.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	base := "http://" + ln.Addr().String()
	// The mailer renders the calendar files; with no SMTP server it
	// delivers nothing, and nothing runs it here.
	reg := prometheus.NewRegistry()
	outbox, err := mailer.New(mailer.Options{Store: db, From: "Callbook <no-reply@callbook.test>", BaseURL: base, Log: quietLog(), Registerer: reg})
	if err != nil {
		t.Fatalf("mailer: %v", err)
	}
	opts := handlers.Options{
		Store: db, Content: content, Mail: outbox.Renderer(), Log: quietLog(), Metrics: reg, Gatherer: reg,
		BaseURL: base, RateLimit: 0,
	}
	for _, f := range tweak {
		f(&opts)
	}
	h, err := handlers.New(opts)
	if err != nil {
		t.Fatalf("handlers: %v", err)
	}
	srv := &httptest.Server{Listener: ln, Config: &http.Server{Handler: h}}
	srv.Start()
	t.Cleanup(srv.Close)
	return &app{URL: base, Store: db}
}

// quietLog drops request logs unless the tests run with -v and
// CALLBOOK_E2E_LOG is set.
func quietLog() *slog.Logger {
	if os.Getenv("CALLBOOK_E2E_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, nil))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

// leadByEmail reads the lead a booking made.
func (a *app) leadByEmail(t *testing.T, email string) models.Lead {
	t.Helper()
	var l models.Lead
	if err := a.Store.ReadDB().Where("email_key = ?", strings.ToLower(email)).First(&l).Error; err != nil {
		t.Fatalf("lead %s: %v", email, err)
	}
	return l
}

// browser is one Chromium with one tab, closed when the test ends.
type browser struct {
	t     *testing.T
	ctx   context.Context
	width int64 // the emulated viewport width; 0 until setViewport
}

// newBrowser starts a fresh headless Chromium (own profile, no network
// chatter) or skips the test when it is not installed.
func newBrowser(t *testing.T) *browser {
	t.Helper()
	if _, err := os.Stat(chromiumPath); err != nil {
		storetest.Missing(t, fmt.Sprintf("browser tests need Chromium at %s (apt-get install -y chromium): %v", chromiumPath, err))
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromiumPath),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("lang", "en-US"),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 900),
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelTab := chromedp.NewContext(allocCtx)
	t.Cleanup(func() { cancelTab(); cancelAlloc() })
	if err := chromedp.Do(ctx); err != nil { // starts the browser, with no deadline
		t.Fatalf("start chromium: %v", err)
	}
	return &browser{t: t, ctx: ctx}
}

// stepTimeout bounds each group of browser actions, so a missing element
// fails the test instead of hanging it.
const stepTimeout = 20 * time.Second

// do runs actions in order, failing the test on the first error.
func (b *browser) do(actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		b.failed(err)
	}
}

// loaded waits until the page the tab shows has finished loading. A page
// that reloads itself (the zone detection) or follows a sign-in is in the
// DOM before it has loaded, and a step taken then can land on a node the
// load replaces ("No node with given id").
func loaded() chromedp.Action[chromedp.Void] {
	return chromedp.Poll[chromedp.Void](`document.readyState === "complete"`)
}

// run runs one action and returns its value.
func run[T any](b *browser, a chromedp.Action[T]) T {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		b.failed(err)
	}
	return v
}

// failed reports a browser error with the tab's URL and a screenshot of
// what the browser showed, then stops the test.
func (b *browser) failed(err error) {
	b.t.Helper()
	shot := ""
	ctx, cancel := context.WithTimeout(b.ctx, 5*time.Second)
	defer cancel()
	if png, serr := chromedp.Run(ctx, chromedp.CaptureScreenshot()); serr == nil {
		name := strings.NewReplacer("/", "-", " ", "_").Replace(b.t.Name()) + ".png"
		path := filepath.Join(os.TempDir(), "callbook-e2e-"+name)
		if os.WriteFile(path, png, 0o644) == nil {
			shot = "; screenshot " + path
		}
	}
	b.t.Fatalf("browser: %v (at %s%s)", err, b.location(), shot)
}

// location is the tab's URL, for error messages.
func (b *browser) location() string {
	ctx, cancel := context.WithTimeout(b.ctx, 2*time.Second)
	defer cancel()
	u, err := chromedp.Run(ctx, chromedp.Location())
	if err != nil {
		return "?"
	}
	return u
}

// text returns the visible text of the first element matching css.
func (b *browser) text(css string) string {
	b.t.Helper()
	return strings.TrimSpace(run(b, chromedp.Text(chromedp.CSS(css), chromedp.NodeVisible)))
}

// timezone makes the browser report zone as its own, as a visitor there
// would.
func timezone(zone string) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := cdp.Call(ctx, t, emulation.SetTimezoneOverride, emulation.SetTimezoneOverrideParams{TimezoneID: zone})
		return err
	})
}

// noScript turns JavaScript off in the tab, as a visitor who blocks it.
func noScript() chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := cdp.Call(ctx, t, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: true})
		return err
	})
}

// scriptOn turns JavaScript back on in the tab, for a check that runs a
// script of its own with timers (axe) on a page loaded without it.
func scriptOn() chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := cdp.Call(ctx, t, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: false})
		return err
	})
}

// Viewport widths the screenshots and layout checks use.
const (
	phoneWidth   = 390
	desktopWidth = 1280
)

// setViewport sizes the tab as a phone (below 600 px: a touch screen with
// mobile layout rules) or a desktop, height as given.
func (b *browser) setViewport(width, height int64) {
	b.t.Helper()
	b.width = width
	if width < 600 {
		b.do(chromedp.EmulateViewport(width, height, chromedp.EmulateMobile, chromedp.EmulateTouch, chromedp.EmulateScale(1)))
		return
	}
	b.do(chromedp.EmulateViewport(width, height, chromedp.EmulateScale(1)))
}

// screenHeight is the viewport height that goes with a width.
func screenHeight(width int64) int64 {
	if width < 600 {
		return 844
	}
	return 900
}
