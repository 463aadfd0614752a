// Package deploytest runs deploy/ for real, without Docker: a fresh
// PostgreSQL schema, `callbook migrate`, three `callbook serve` replicas,
// Caddy (2.11, the version deploy/compose.yaml runs, which .ci/run builds
// from its Go module) with the repository's deploy/Caddyfile unchanged,
// and Mailpit catching the mail. The replicas
// and Caddy get the settings deploy/compose.yaml gives its containers,
// with only the addresses changed, so compose.yaml, the Caddyfile and
// this test cannot drift apart.
//
// It needs CALLBOOK_TEST_POSTGRES_URL, caddy and mailpit (on PATH, or
// named by CALLBOOK_TEST_CADDY and CALLBOOK_TEST_MAILPIT), and skips with
// a message without them, except under CI, where .ci/run installs them
// and a missing one fails the run.
package deploytest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the test's own queries

	"github.com/callbook/callbook/models"
	"github.com/callbook/callbook/store"
	"github.com/callbook/callbook/store/storetest"
)

const pgEnv = "CALLBOOK_TEST_POSTGRES_URL"

// tools are the programs the deployment runs besides Callbook.
type tools struct{ caddy, mailpit string }

// needTools finds PostgreSQL, Caddy and Mailpit, or skips (fails under CI).
func needTools(t *testing.T) tools {
	t.Helper()
	var tl tools
	var missing []string
	if os.Getenv(pgEnv) == "" {
		missing = append(missing, pgEnv)
	}
	find := func(env, name string) string {
		if p := os.Getenv(env); p != "" {
			return p
		}
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
		missing = append(missing, name+" (on PATH or in "+env+")")
		return ""
	}
	tl.caddy = find("CALLBOOK_TEST_CADDY", "caddy")
	tl.mailpit = find("CALLBOOK_TEST_MAILPIT", "mailpit")
	if len(missing) > 0 {
		storetest.Missing(t, "the deployment test needs "+strings.Join(missing, ", ")+" (.ci/run installs them)")
	}
	return tl
}

// buildCallbook compiles the binary as the Dockerfile does.
func buildCallbook(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "callbook")
	out, err := exec.Command("go", "build", "-tags", "sqlite_fts5", "-o", bin, "github.com/callbook/callbook/cmd/callbook").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// site is the deployment of one test.
type site struct {
	t        *testing.T
	bin      string
	env      []string // every replica's settings
	db       *sql.DB  // the test's own connection
	mail     *mailpit
	replicas []*replica
	caddy    *proc
	base     string // Caddy's URL: the site
}

// replica is one `callbook serve` on a fixed address, Caddy's upstream.
type replica struct {
	name, addr string
	proc       *proc
}

// startSite runs the whole deployment and returns once Caddy answers.
func startSite(t *testing.T) *site {
	t.Helper()
	tl := needTools(t)
	compose := readCompose(t)
	s := &site{t: t, bin: buildCallbook(t)}
	dbURL := storetest.URL(t, store.DialectPostgres) // a fresh schema, dropped at the end
	var err error
	if s.db, err = sql.Open("pgx", dbURL); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.db.Close() })
	s.mail = startMailpit(t, tl.mailpit)

	caddyAddr := storetest.FreeAddr(t)
	s.base = "http://" + caddyAddr
	s.env = compose.replicaEnv(t,
		// Docker secrets: the test passes the values themselves.
		[]string{"CALLBOOK_DATABASE_URL_FILE", "CALLBOOK_SECRET_FILE"},
		map[string]string{
			"CALLBOOK_DATABASE_URL":    dbURL,
			"CALLBOOK_SECRET":          randomHex(t),
			"CALLBOOK_SMTP_URL":        "smtp://" + s.mail.smtpAddr,
			"CALLBOOK_BASE_URL":        s.base,
			"CALLBOOK_TRUSTED_PROXIES": "127.0.0.1/32", // Caddy's address here
			// Not deployment settings: every booking comes from one
			// address, and mail a stopping replica gives back goes out
			// within a second instead of a minute.
			"CALLBOOK_RATE_LIMIT": "0",
			"CALLBOOK_TICK":       "1s",
		})

	migrate := exec.Command(s.bin, "migrate")
	migrate.Env = append(os.Environ(), s.env...)
	if out, err := migrate.CombinedOutput(); err != nil {
		t.Fatalf("callbook migrate: %v\n%s", err, out)
	}
	seedHost(t, dbURL)

	for i := range 3 {
		r := &replica{name: "callbook-" + string(rune('1'+i)), addr: storetest.FreeAddr(t)}
		s.replicas = append(s.replicas, r)
		s.start(r)
	}
	for _, r := range s.replicas {
		waitUp(t, r.proc, "http://"+r.addr+"/readyz", 60*time.Second)
	}

	caddyHome := t.TempDir()
	caddyEnv := compose.caddyEnv(t, map[string]string{
		"CALLBOOK_SITE":        s.base,
		"CALLBOOK_UPSTREAM_1":  s.replicas[0].addr,
		"CALLBOOK_UPSTREAM_2":  s.replicas[1].addr,
		"CALLBOOK_UPSTREAM_3":  s.replicas[2].addr,
		"CALLBOOK_CADDY_ADMIN": storetest.FreeAddr(t), // not 2019: runs side by side
	})
	caddyEnv = append(caddyEnv, "HOME="+caddyHome, "XDG_DATA_HOME="+caddyHome, "XDG_CONFIG_HOME="+caddyHome)
	caddyfile, err := filepath.Abs(filepath.Join(deployDir, "Caddyfile"))
	if err != nil {
		t.Fatal(err)
	}
	s.caddy = startProc(t, "caddy", tl.caddy, caddyEnv, "run", "--config", caddyfile, "--adapter", "caddyfile")
	waitUp(t, s.caddy, s.base+"/readyz", 60*time.Second)
	return s
}

// start runs r's `callbook serve`.
func (s *site) start(r *replica) {
	r.proc = startProc(s.t, r.name, s.bin, append(s.env[:len(s.env):len(s.env)], "CALLBOOK_ADDR="+r.addr), "serve")
}

// seedHost adds a host who takes 5-minute calls around the clock, with
// no minimum notice, four days ahead: enough free times for the loop.
func seedHost(t *testing.T, dbURL string) {
	t.Helper()
	db, err := store.Open(dbURL, store.Options{Secret: []byte("only-seeding-a-host-here")})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	host := models.User{Email: "coach@example.com", Name: "Coach", Role: models.RoleSales, Host: true, WeeklyJSON: "{}"}
	if err := db.DB().Create(&host).Error; err != nil {
		t.Fatal(err)
	}
	day := models.HoursJSON{{"00:00", "24:00"}}
	week := map[string]models.HoursJSON{"mon": day, "tue": day, "wed": day, "thu": day, "fri": day, "sat": day, "sun": day}
	_, err = db.SetAvailability(context.Background(), models.AvailabilityConfig{HostID: host.ID,
		BookingSettings: models.BookingSettings{DurationMinutes: 5, MinNoticeMinutes: 0, HorizonDays: 4},
		Weekly:          week, Overrides: []models.OverrideJSON{}})
	if err != nil {
		t.Fatal(err)
	}
}

func randomHex(t *testing.T) string {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

// count runs a count query on the site's database.
func (s *site) count(query string, args ...any) int {
	s.t.Helper()
	var n int
	if err := s.db.QueryRow(query, args...).Scan(&n); err != nil {
		s.t.Fatalf("%s: %v", query, err)
	}
	return n
}
