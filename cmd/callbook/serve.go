package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/callbook/callbook/calendars"
	"github.com/callbook/callbook/handlers"
	"github.com/callbook/callbook/mailer"
	"github.com/callbook/callbook/models"
	"github.com/callbook/callbook/scheduler"
	"github.com/callbook/callbook/store"
	"github.com/callbook/callbook/web"
	"github.com/callbook/callbook/webhooks"
)

// cmdServe migrates, then runs the web server and the scheduler until
// SIGINT or SIGTERM; then it drains (/readyz 503 for CALLBOOK_SHUTDOWN_DELAY
// while requests are still served), stops HTTP, then the background work,
// and closes the database last.
func cmdServe(ctx context.Context, args []string, _ io.Reader, _, stderr io.Writer) error {
	cfg, err := loadConfig(args, true)
	if err != nil {
		return err
	}
	log := newLogger(cfg, stderr)
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()

	// Listen first, so /healthz and /readyz (503) answer while a database
	// that is not up yet is waited for.
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w (set CALLBOOK_ADDR)", cfg.Addr, err)
	}
	handler := &swapHandler{}
	handler.set(startingHandler())
	srv := &http.Server{Handler: handler, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second,
		WriteTimeout: 60 * time.Second, IdleTimeout: 120 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	app, err := waitForApp(ctx, cfg, log, buildApp)
	if err != nil || app == nil {
		srv.Close()
		return err
	}
	defer app.store.Close()
	metrics, err := listenMetrics(cfg.MetricsAddr, app.metrics, log)
	if err != nil {
		srv.Close()
		return err
	}
	if err := app.store.WarmConnections(ctx); err != nil {
		// Not fatal: requests open what they need.
		log.Warn("opening the database connections ahead of requests", "err", err)
	}
	handler.set(app.handler)
	bg := app.startBackground(ctx, log)
	log.Info("callbook listening", "addr", ln.Addr().String(), "base_url", cfg.BaseURL, "database", app.store.Dialect(), "version", version)
	if cfg.BaseURLDerived {
		log.Info("CALLBOOK_BASE_URL is not set: emails, invites and links point at the listen address; set it to the address visitors use",
			"base_url", cfg.BaseURL)
	}
	if sso := cfg.ssoSettings(); sso != nil {
		log.Info("staff may sign in through the identity provider; register this redirect URI with it",
			"issuer", sso.Issuer, "redirect_uri", cfg.BaseURL+"/admin/oidc/callback")
	}

	select {
	case <-ctx.Done():
		drain(handler, cfg.ShutdownDelay, errc, log)
	case err := <-errc:
		if !errors.Is(err, http.ErrServerClosed) {
			return fmt.Errorf("http server: %w", err)
		}
	}
	log.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		log.Error("http shutdown", "err", err)
	}
	metrics.shutdown(sctx)
	bg.stop(sctx)
	log.Info("stopped")
	return nil
}

// shutdownGrace bounds a stop: requests in flight get this long to finish,
// then the background work what is left of it.
const shutdownGrace = 20 * time.Second

// app is the service's moving parts, built once.
type app struct {
	store   *store.Store
	handler http.Handler
	metrics http.Handler // /metrics without credentials, for CALLBOOK_METRICS_ADDR
	outbox  *mailer.Outbox
	hooks   *webhooks.Sender
	sched   *scheduler.Scheduler
}

// background is work that runs beside HTTP and stops after it.
type background struct {
	cancel   context.CancelFunc
	mailDone chan struct{}
	hookDone chan struct{}
	sched    *scheduler.Scheduler
	log      *slog.Logger
}

// startBackground starts the mail sender and the scheduler.
func (a *app) startBackground(ctx context.Context, log *slog.Logger) *background {
	ctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	bg := &background{cancel: cancel, mailDone: make(chan struct{}), hookDone: make(chan struct{}), sched: a.sched, log: log}
	go func() { defer close(bg.mailDone); a.outbox.Run(ctx) }()
	go func() { defer close(bg.hookDone); a.hooks.Run(ctx) }()
	a.sched.Start()
	return bg
}

// stop waits for the scheduler's running job, then for the mail and
// webhook senders to record what they sent, so the database can close behind them.
func (b *background) stop(ctx context.Context) {
	if err := b.sched.Stop(ctx); err != nil {
		b.log.Error("scheduler stop", "err", err)
	}
	b.cancel()
	for name, done := range map[string]chan struct{}{"mail sender": b.mailDone, "webhook sender": b.hookDone} {
		select {
		case <-done:
		case <-ctx.Done():
			b.log.Error(name + " did not stop in time")
		}
	}
}

// buildApp opens and migrates the database, seeds the default host and the
// first admin, loads the role pages and builds the mailer, the scheduler and
// the HTTP handler, all on one Prometheus registry.
func buildApp(ctx context.Context, cfg *config, log *slog.Logger) (*app, error) {
	smtp, err := mailer.ParseSMTPURL(cfg.SMTPURL)
	if err != nil {
		return nil, fmt.Errorf("CALLBOOK_SMTP_URL: %w", err)
	}
	db, err := openStore(cfg, log)
	if err != nil {
		return nil, err
	}
	fail := func(err error) (*app, error) { db.Close(); return nil, err }
	if err := migrate(ctx, db); err != nil {
		return fail(err)
	}
	if err := db.EnsureDefaultHost(ctx); err != nil {
		return fail(fmt.Errorf("default host: %w", err))
	}
	if err := ensureFirstAdmin(ctx, db, cfg, log); err != nil {
		return fail(err)
	}
	warnNoAdmin(ctx, db, log)
	content, err := loadContent(cfg)
	if err != nil {
		return fail(err)
	}
	reg := prometheus.NewRegistry()
	outbox, err := mailer.New(mailer.Options{Store: db, SMTP: smtp, From: cfg.MailFrom, BaseURL: cfg.BaseURL, Log: log, Registerer: reg,
		Lease: cfg.MailLease, Timeout: cfg.mailTimeout(), PauseMax: cfg.Tick})
	if err != nil {
		return fail(err)
	}
	cals := calendars.New(calendars.Options{Store: db, Log: log, AllowPrivate: cfg.CalendarAllowPrivate})
	sched, err := scheduler.New(scheduler.Options{Store: db, Outbox: outbox, Tick: cfg.Tick, DigestSpec: cfg.DigestCron, CleanupSpec: cfg.CleanupCron, Log: log, Registerer: reg,
		Calendars: cals, CalendarSync: cfg.CalendarSync, RetentionLeads: cfg.RetentionLeads})
	if err != nil {
		return fail(err)
	}
	hooks, err := webhooks.New(webhooks.Options{Store: db, Log: log, Registerer: reg, AllowPrivate: cfg.WebhookAllowPrivate})
	if err != nil {
		return fail(err)
	}
	h, err := handlers.New(handlers.Options{
		Store: db, Content: content, Mail: outbox.Renderer(), MailViewer: mailViewer(outbox), Calendars: cals, MailPause: outbox.Pause, NoMailServer: cfg.SMTPURL == "", Log: log,
		Metrics: reg, Gatherer: reg, BaseURL: cfg.BaseURL, RateLimit: cfg.RateLimit, TrustedProxies: cfg.TrustedProxies,
		DefaultLanguage: cfg.DefaultLanguage,
		WebhookTargets: func(ctx context.Context, u string) error {
			return webhooks.CheckURL(ctx, u, cfg.WebhookAllowPrivate, nil)
		},
		EmbedOrigins: cfg.EmbedOrigins, Require2FA: cfg.Require2FA,
		SSO: cfg.ssoSettings(),
		Retention: handlers.Retention{Audit: cfg.AuditRetention, Leads: cfg.RetentionLeads,
			NextRun: func() time.Time { return sched.NextRun(scheduler.JobCleanup) }},
	})
	if err != nil {
		return fail(err)
	}
	db.SetWebhookRenderer(h.WebhookData)
	return &app{store: db, handler: h, metrics: h.MetricsHandler(), outbox: outbox, hooks: hooks, sched: sched}, nil
}

// mailViewer shows the staff an outbox row exactly as the mailer sends it.
func mailViewer(o *mailer.Outbox) handlers.MailViewer {
	return handlers.MailViewerFunc(func(row models.OutboxMessage) (handlers.MailPreview, error) {
		r, err := o.Render(row)
		return handlers.MailPreview{Subject: r.Subject, Text: r.Text, HTML: r.HTML, ICS: r.ICS}, err
	})
}

// loadContent reads the role pages from CALLBOOK_CONTENT_DIR or the
// built-in ones.
func loadContent(cfg *config) (*handlers.Content, error) {
	if cfg.ContentDir != "" {
		c, err := handlers.LoadContent(os.DirFS(cfg.ContentDir))
		if err != nil {
			return nil, fmt.Errorf("CALLBOOK_CONTENT_DIR: %w", err)
		}
		return c, nil
	}
	return handlers.LoadContent(web.Content())
}
