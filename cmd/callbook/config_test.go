package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// clearEnv unsets every CALLBOOK_ variable for the test.
func clearEnv(t *testing.T) {
	t.Helper()
	for _, kv := range os.Environ() {
		if k, _, _ := strings.Cut(kv, "="); strings.HasPrefix(k, "CALLBOOK_") {
			t.Setenv(k, "")
			os.Unsetenv(k)
		}
	}
}

func TestLoadConfig_DefaultsMatchTheContract(t *testing.T) {
	clearEnv(t)
	c, err := loadConfig(nil, true)
	if err != nil {
		t.Fatal(err)
	}
	if c.Addr != ":8080" || c.BaseURL != "http://localhost:8080" || c.DatabaseURL != "sqlite:data/callbook.db" ||
		c.SMTPURL != "" || c.MailFrom != "Callbook <no-reply@localhost>" || c.Timezone.String() != "America/New_York" ||
		c.Tick != time.Minute || c.RateLimit != 30 || c.LogFormat != "text" || len(c.Reminders) != 2 ||
		c.Reminders[0].Label != "24h" || c.Reminders[1].Before != time.Hour || c.DigestCron != "0 8 * * 1-5" ||
		c.ShutdownDelay != 5*time.Second || c.Require2FA != "admins" {
		t.Fatalf("defaults: %+v", c)
	}
}

// Without CALLBOOK_BASE_URL, links point where the server listens, so a
// server moved to another port does not send visitors to port 8080.
func TestLoadConfig_BaseURLFollowsTheListenAddress(t *testing.T) {
	cases := map[string]string{
		":8080":          "http://localhost:8080",
		":9090":          "http://localhost:9090",
		"127.0.0.1:9000": "http://127.0.0.1:9000",
		"0.0.0.0:9001":   "http://localhost:9001",
		"[::]:9002":      "http://localhost:9002",
		"[::1]:9003":     "http://[::1]:9003",
		"book.lan:80":    "http://book.lan:80",
	}
	for addr, want := range cases {
		t.Run(addr, func(t *testing.T) {
			clearEnv(t)
			t.Setenv("CALLBOOK_ADDR", addr)
			c, err := loadConfig(nil, true)
			if err != nil {
				t.Fatal(err)
			}
			if c.BaseURL != want || !c.BaseURLDerived {
				t.Fatalf("CALLBOOK_ADDR=%s: base URL %q (derived %v), want %q", addr, c.BaseURL, c.BaseURLDerived, want)
			}
		})
	}
	t.Run("set explicitly", func(t *testing.T) {
		clearEnv(t)
		t.Setenv("CALLBOOK_ADDR", ":9090")
		t.Setenv("CALLBOOK_BASE_URL", "https://book.example.com")
		c, err := loadConfig([]string{"--addr", ":9191"}, true)
		if err != nil {
			t.Fatal(err)
		}
		if c.BaseURL != "https://book.example.com" || c.BaseURLDerived {
			t.Fatalf("base URL %q (derived %v), want the one set", c.BaseURL, c.BaseURLDerived)
		}
	})
	t.Run("from the addr flag", func(t *testing.T) {
		clearEnv(t)
		c, err := loadConfig([]string{"--addr", "127.0.0.1:9191"}, true)
		if err != nil {
			t.Fatal(err)
		}
		if c.BaseURL != "http://127.0.0.1:9191" {
			t.Fatalf("base URL %q, want http://127.0.0.1:9191", c.BaseURL)
		}
	})
}

func TestLoadConfig_BadValuesNameTheVariable(t *testing.T) {
	cases := map[string]string{
		"CALLBOOK_BASE_URL":               "localhost:8080",
		"CALLBOOK_DATABASE_URL":           "mysql://x",
		"CALLBOOK_SMTP_URL":               "http://mail.example.com",
		"CALLBOOK_MAIL_FROM":              "nobody",
		"CALLBOOK_TIMEZONE":               "Mars/Olympus",
		"CALLBOOK_REMINDERS":              "24h,soon",
		"CALLBOOK_TICK":                   "fast",
		"CALLBOOK_CONTENT_DIR":            "/no/such/folder",
		"CALLBOOK_RATE_LIMIT":             "-1",
		"CALLBOOK_TRUSTED_PROXIES":        "10.0.0.0/33",
		"CALLBOOK_LOG_FORMAT":             "xml",
		"CALLBOOK_MAIL_LEASE":             "1s",
		"CALLBOOK_METRICS_ADDR":           "9090",
		"CALLBOOK_EMBED_ORIGINS":          "https://a.example,https://b.example/careers",
		"CALLBOOK_SHUTDOWN_DELAY":         "soon",
		"CALLBOOK_CALENDAR_ALLOW_PRIVATE": "sometimes",
		"CALLBOOK_REQUIRE_2FA":            "admin",
		"CALLBOOK_OIDC_ISSUER":            "login.example.com",
		"CALLBOOK_OIDC_DOMAINS":           "example.com,@example.org",
		"CALLBOOK_AUDIT_RETENTION":        "1h",
		"CALLBOOK_RETENTION_LEADS":        "two years",
	}
	for name, value := range cases {
		t.Run(name, func(t *testing.T) {
			clearEnv(t)
			t.Setenv(name, value)
			_, err := loadConfig(nil, true)
			if err == nil || !strings.HasPrefix(err.Error(), name+":") || strings.Contains(err.Error(), "\n") {
				t.Fatalf("%s=%q: %v", name, value, err)
			}
		})
	}
}

func TestLoadConfig_FlagsOverrideEnvironmentAndFilesHoldSecrets(t *testing.T) {
	clearEnv(t)
	t.Setenv("CALLBOOK_ADDR", ":9000")
	secret := filepath.Join(t.TempDir(), "secret")
	if err := os.WriteFile(secret, []byte("s3cret-value-from-a-file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("CALLBOOK_SECRET_FILE", secret)
	c, err := loadConfig([]string{"--addr", ":9100", "--base-url=https://book.example.com/"}, true)
	if err != nil {
		t.Fatal(err)
	}
	if c.Addr != ":9100" || c.BaseURL != "https://book.example.com" || c.Secret != "s3cret-value-from-a-file" {
		t.Fatalf("config %+v", c)
	}
	t.Setenv("CALLBOOK_SECRET", "both")
	if _, err := loadConfig(nil, true); err == nil || !strings.Contains(err.Error(), "CALLBOOK_SECRET_FILE") {
		t.Fatalf("both set: %v", err)
	}
}

func TestLoadConfig_MailLeaseShortensTheSMTPTimeout(t *testing.T) {
	clearEnv(t)
	c, err := loadConfig(nil, true)
	if err != nil {
		t.Fatal(err)
	}
	if c.MailLease != 0 || c.mailTimeout() != 0 {
		t.Fatalf("default lease %v, timeout %v: want the mailer's defaults", c.MailLease, c.mailTimeout())
	}
	t.Setenv("CALLBOOK_MAIL_LEASE", "8s")
	if c, err = loadConfig(nil, true); err != nil {
		t.Fatal(err)
	}
	if c.MailLease != 8*time.Second || c.mailTimeout() != 2*time.Second {
		t.Fatalf("lease %v, timeout %v: want 8s and 2s", c.MailLease, c.mailTimeout())
	}
}

func TestLoadConfig_PostgresNeedsASecret(t *testing.T) {
	clearEnv(t)
	t.Setenv("CALLBOOK_DATABASE_URL", "postgres://u@127.0.0.1:5432/db")
	if _, err := loadConfig(nil, true); err == nil || !strings.Contains(err.Error(), "CALLBOOK_SECRET") {
		t.Fatalf("postgres without secret: %v", err)
	}
}

func TestRun_ExitCodes(t *testing.T) {
	clearEnv(t)
	var out, errb bytes.Buffer
	if code := run(context.Background(), []string{"version"}, nil, &out, &errb); code != 0 || !strings.HasPrefix(out.String(), "callbook ") {
		t.Fatalf("version: %d %q", code, out.String())
	}
	errb.Reset()
	if code := run(context.Background(), []string{"frobnicate"}, nil, &out, &errb); code != 2 || strings.Count(errb.String(), "\n") != 1 {
		t.Fatalf("unknown command: %d %q", code, errb.String())
	}
	errb.Reset()
	if code := run(context.Background(), []string{"serve", "--no-such-flag"}, nil, &out, &errb); code != 2 || strings.Count(errb.String(), "\n") != 1 {
		t.Fatalf("bad flag: %d %q", code, errb.String())
	}
	errb.Reset()
	t.Setenv("CALLBOOK_TIMEZONE", "Nowhere")
	if code := run(context.Background(), []string{"serve"}, nil, &out, &errb); code != 1 || !strings.Contains(errb.String(), "CALLBOOK_TIMEZONE") {
		t.Fatalf("bad value: %d %q", code, errb.String())
	}
}

// TestServe_StartsMigratesAndDrainsOnSIGTERM runs the real serve command on
// a fresh folder: it creates the database and secret, answers /readyz, and
// exits 0 when told to stop.
func TestServe_StartsMigratesAndDrainsOnSIGTERM(t *testing.T) {
	clearEnv(t)
	dir := t.TempDir()
	t.Setenv("CALLBOOK_DATABASE_URL", "sqlite:"+filepath.Join(dir, "data", "callbook.db"))
	srv := serveInProcess(t)
	srv.waitReady(t)
	if _, err := os.Stat(filepath.Join(dir, "data", "callbook.secret")); err != nil {
		t.Fatalf("no secret kept beside the database: %v", err)
	}
	if err := syscall.Kill(os.Getpid(), syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if code := srv.waitExit(t, 20*time.Second); code != 0 {
		t.Fatalf("serve exited %d: %s", code, srv.logs)
	}
}

func TestMigrate_AppliesAndIsRepeatable(t *testing.T) {
	clearEnv(t)
	t.Setenv("CALLBOOK_DATABASE_URL", "sqlite:"+filepath.Join(t.TempDir(), "db", "callbook.db"))
	for range 2 {
		var out, errb bytes.Buffer
		if code := run(context.Background(), []string{"migrate"}, nil, &out, &errb); code != 0 || !strings.Contains(out.String(), "migrations applied") {
			t.Fatalf("migrate: %d %q %q", code, out.String(), errb.String())
		}
	}
}

func TestLoadConfig_CalendarAllowPrivate(t *testing.T) {
	clearEnv(t)
	c, err := loadConfig(nil, true)
	if err != nil || c.CalendarAllowPrivate {
		t.Fatalf("default: %v %v, want false", c.CalendarAllowPrivate, err)
	}
	t.Setenv("CALLBOOK_CALENDAR_ALLOW_PRIVATE", "true")
	if c, err = loadConfig(nil, true); err != nil || !c.CalendarAllowPrivate {
		t.Fatalf("from the environment: %v %v, want true", c.CalendarAllowPrivate, err)
	}
	if c, err = loadConfig([]string{"--calendar-allow-private=false"}, true); err != nil || c.CalendarAllowPrivate {
		t.Fatalf("flag over the environment: %v %v, want false", c.CalendarAllowPrivate, err)
	}
	if c.WebhookAllowPrivate {
		t.Fatal("the calendar setting allowed private webhook targets too")
	}
}

func TestLoadConfig_SingleSignOnNeedsIssuerClientAndSecret(t *testing.T) {
	clearEnv(t)
	c, err := loadConfig(nil, true)
	if err != nil || c.ssoSettings() != nil || c.SSO.Name != "SSO" {
		t.Fatalf("default: %+v, %v", c.SSO, err)
	}
	secret := filepath.Join(t.TempDir(), "oidc-secret")
	if err := os.WriteFile(secret, []byte("client-secret-from-a-file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("CALLBOOK_OIDC_ISSUER", "https://login.example.com/realms/staff")
	t.Setenv("CALLBOOK_OIDC_CLIENT_ID", "callbook")
	t.Setenv("CALLBOOK_OIDC_DOMAINS", "Example.com, example.org")
	if _, err := loadConfig(nil, true); err == nil || !strings.HasPrefix(err.Error(), "CALLBOOK_OIDC_CLIENT_SECRET:") {
		t.Fatalf("without a secret: %v", err)
	}
	t.Setenv("CALLBOOK_OIDC_CLIENT_SECRET_FILE", secret)
	t.Setenv("CALLBOOK_OIDC_NAME", "Acme Login")
	if c, err = loadConfig(nil, true); err != nil {
		t.Fatal(err)
	}
	got := c.ssoSettings()
	if got == nil || got.Issuer != "https://login.example.com/realms/staff" || got.ClientID != "callbook" ||
		got.ClientSecret != "client-secret-from-a-file" || got.Name != "Acme Login" || strings.Join(got.Domains, ",") != "example.com,example.org" {
		t.Fatalf("settings: %+v", got)
	}
	clearEnv(t)
	t.Setenv("CALLBOOK_OIDC_DOMAINS", "example.com")
	if _, err := loadConfig(nil, true); err == nil || !strings.HasPrefix(err.Error(), "CALLBOOK_OIDC_DOMAINS:") {
		t.Fatalf("domains alone: %v", err)
	}
}

func TestLoadConfig_RetentionSettings(t *testing.T) {
	clearEnv(t)
	c, err := loadConfig(nil, true)
	if err != nil {
		t.Fatal(err)
	}
	if c.AuditRetention != 8760*time.Hour || c.RetentionLeads != 0 || c.CleanupCron != "30 3 * * *" {
		t.Fatalf("defaults: audit %v, leads %v, clean-up %q; want a year, off, 03:30", c.AuditRetention, c.RetentionLeads, c.CleanupCron)
	}
	t.Setenv("CALLBOOK_AUDIT_RETENTION", "720h")
	t.Setenv("CALLBOOK_RETENTION_LEADS", "17520h")
	if c, err = loadConfig(nil, true); err != nil || c.AuditRetention != 720*time.Hour || c.RetentionLeads != 17520*time.Hour {
		t.Fatalf("set: %v, %+v", err, c)
	}
}

// TestServe_SaysWhichBaseURLItLinksTo: serve logs the base URL its emails
// and invites link to, and warns when it only follows the listen address.
func TestServe_SaysWhichBaseURLItLinksTo(t *testing.T) {
	for _, set := range []bool{false, true} {
		t.Run(fmt.Sprintf("base URL set: %v", set), func(t *testing.T) {
			clearEnv(t)
			t.Setenv("CALLBOOK_DATABASE_URL", "sqlite:"+filepath.Join(t.TempDir(), "callbook.db"))
			if set {
				t.Setenv("CALLBOOK_BASE_URL", "https://book.example.com")
			}
			srv := serveInProcess(t)
			want := "base_url=" + srv.base
			if set {
				want = "base_url=https://book.example.com"
			}
			waitUntil(t, 60*time.Second, "serve never said it was listening", srv.logs, func() bool {
				return strings.Contains(srv.logs.String(), "callbook listening")
			})
			logs := srv.logs.String()
			if !strings.Contains(logs, want) {
				t.Fatalf("the start-up log lacks %q:\n%s", want, logs)
			}
			if warned := strings.Contains(logs, "CALLBOOK_BASE_URL is not set"); warned == set {
				t.Fatalf("warned that CALLBOOK_BASE_URL is not set: %v, with it set: %v:\n%s", warned, set, logs)
			}
		})
	}
}
