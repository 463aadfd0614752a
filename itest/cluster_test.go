// Package itest runs Callbook as it is deployed with several replicas: the
// callbook binary, built from this tree once per run, started three times
// as `callbook serve` on one PostgreSQL schema, each on its own port, with
// an SMTP server inside the test. It proves what the single-process tests
// cannot: races between processes, exactly-once mail across them, a
// replica killed mid-send and a database that goes away and comes back.
//
// The tests need PostgreSQL and skip with a message without
// CALLBOOK_TEST_POSTGRES_URL (.ci/run sets it).
package itest

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the test's own queries

	"github.com/callbook/callbook/models"
	"github.com/callbook/callbook/scheduler"
	"github.com/callbook/callbook/store"
	"github.com/callbook/callbook/store/storetest"
)

const (
	pgEnv = "CALLBOOK_TEST_POSTGRES_URL"
	// secret is shared by every replica, as CALLBOOK_SECRET_FILE shares it
	// in production.
	secret = "itest-shared-secret-itest-shared-secret"
	// businessZone is the default CALLBOOK_TIMEZONE.
	businessZone = "America/New_York"
)

// binary is the callbook executable TestMain built, empty without
// PostgreSQL.
var binary string

func TestMain(m *testing.M) { os.Exit(runTests(m)) }

func runTests(m *testing.M) int {
	if os.Getenv(pgEnv) != "" {
		dir, err := os.MkdirTemp("", "callbook-itest-")
		if err != nil {
			fmt.Fprintln(os.Stderr, "itest:", err)
			return 1
		}
		defer os.RemoveAll(dir)
		binary = filepath.Join(dir, "callbook")
		// Built as the README and the Dockerfile build it.
		args := slices.Concat([]string{"build", "-tags", "sqlite_fts5"}, raceFlag, []string{"-o", binary, "github.com/callbook/callbook/cmd/callbook"})
		build := exec.Command("go", args...)
		if out, err := build.CombinedOutput(); err != nil {
			fmt.Fprintf(os.Stderr, "itest: go build ./cmd/callbook: %v\n%s", err, out)
			return 1
		}
	}
	return m.Run()
}

// clusterOptions shape one test's deployment.
type clusterOptions struct {
	replicas  int
	hosts     int           // hosts open around the clock for 5-minute calls
	reminders func() string // CALLBOOK_REMINDERS, asked for just before the replicas start; nil: the default
	mailLease string        // CALLBOOK_MAIL_LEASE; empty: the default
	mailDelay time.Duration // spent by the SMTP server in each DATA
	viaProxy  bool          // reach PostgreSQL through a storetest.Proxy
	env       []string      // more variables for every replica
	// seed, when set, writes to the migrated database before the replicas start.
	seed func(dbURL string)
}

// cluster is one schema, one SMTP server and the replicas serving both.
type cluster struct {
	t      *testing.T
	schema string
	// directURL reaches the schema straight, for the test's own store.
	directURL string
	db        *sql.DB // the test's own connection, straight to PostgreSQL
	mail      *mailbox
	proxy     *storetest.Proxy // nil unless viaProxy
	replicas  []*replica
}

// replica is one `callbook serve` process.
type replica struct {
	name, url, logPath string
	metricsURL         string // its CALLBOOK_METRICS_ADDR listener
	cmd                *exec.Cmd
	done               chan struct{}
}

// newCluster migrates a fresh schema once with `callbook migrate`, seeds
// the hosts, and starts the replicas, each ready before it returns.
func newCluster(t *testing.T, o clusterOptions) *cluster {
	t.Helper()
	if os.Getenv(pgEnv) == "" {
		storetest.Missing(t, "multi-replica tests need PostgreSQL: set "+pgEnv+" (.ci/run does)")
	}
	direct := storetest.URL(t, store.DialectPostgres) // a fresh schema, dropped at the end
	u, _ := url.Parse(direct)
	c := &cluster{t: t, schema: u.Query().Get("search_path"), directURL: direct}
	var err error
	if c.db, err = sql.Open("pgx", direct); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.db.Close() })

	serveURL := *u
	if o.viaProxy {
		c.proxy = storetest.StartProxy(t, u.Host)
		serveURL.Host = c.proxy.Addr()
	}
	mb, smtpURLs := startMailbox(t, o.replicas, o.mailDelay)
	c.mail = mb

	if out, err := command([]string{"CALLBOOK_DATABASE_URL=" + direct, "CALLBOOK_SECRET=" + secret}, "migrate").CombinedOutput(); err != nil {
		t.Fatalf("callbook migrate: %v\n%s", err, out)
	}
	c.seedHosts(direct, o.hosts)
	if o.seed != nil {
		o.seed(direct)
	}

	env := []string{"CALLBOOK_SECRET=" + secret, "CALLBOOK_TICK=1s", "CALLBOOK_RATE_LIMIT=0",
		"CALLBOOK_MEETING_URL=https://meet.example.com/{booking}"}
	if o.reminders != nil {
		env = append(env, "CALLBOOK_REMINDERS="+o.reminders())
	}
	if o.mailLease != "" {
		env = append(env, "CALLBOOK_MAIL_LEASE="+o.mailLease)
	}
	env = append(env, o.env...)
	for i := range o.replicas {
		name := fmt.Sprintf("callbook-%s-r%d", c.schema, i)
		q := serveURL.Query()
		q.Set("application_name", name) // so the database-restart test can end exactly these sessions
		dbURL := serveURL
		dbURL.RawQuery = q.Encode()
		c.replicas = append(c.replicas, c.start(name, slices.Concat(env, []string{"CALLBOOK_DATABASE_URL=" + dbURL.String(),
			"CALLBOOK_SMTP_URL=" + smtpURLs[i]})))
	}
	for _, r := range c.replicas {
		c.waitReady(r, 30*time.Second)
	}
	t.Cleanup(c.stopAll)
	return c
}

// command is the callbook binary with env and none of the caller's
// CALLBOOK_ variables.
func command(env []string, args ...string) *exec.Cmd {
	cmd := exec.Command(binary, args...)
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "CALLBOOK_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, env...)
	return cmd
}

// seedHosts adds n hosts who take 5-minute calls around the clock, with no
// minimum notice, for two days ahead.
func (c *cluster) seedHosts(dbURL string, n int) {
	c.t.Helper()
	loc, _ := time.LoadLocation(businessZone)
	db, err := store.Open(dbURL, store.Options{Secret: []byte(secret), Location: loc, Log: slog.New(slog.DiscardHandler)})
	if err != nil {
		c.t.Fatal(err)
	}
	defer db.Close()
	hosts := make([]models.User, n)
	for i := range hosts {
		hosts[i] = models.User{Email: fmt.Sprintf("host%02d@example.com", i+1), Name: fmt.Sprintf("Host %d", i+1),
			Role: models.RoleSales, Host: true, WeeklyJSON: "{}"}
	}
	if err := db.DB().Create(&hosts).Error; err != nil {
		c.t.Fatalf("seed hosts: %v", err)
	}
	day := models.HoursJSON{{"00:00", "24:00"}}
	week := map[string]models.HoursJSON{"mon": day, "tue": day, "wed": day, "thu": day, "fri": day, "sat": day, "sun": day}
	for _, h := range hosts {
		_, err := db.SetAvailability(context.Background(), models.AvailabilityConfig{HostID: h.ID,
			BookingSettings: models.BookingSettings{DurationMinutes: 5, MinNoticeMinutes: 0, HorizonDays: 2},
			Weekly:          week, Overrides: []models.OverrideJSON{}})
		if err != nil {
			c.t.Fatalf("availability of host %d: %v", h.ID, err)
		}
	}
}

// start runs `callbook serve` on a free loopback port, with its metrics
// on another.
func (c *cluster) start(name string, env []string) *replica {
	c.t.Helper()
	addr, metricsAddr := c.freeAddr(), c.freeAddr()
	r := &replica{name: name, url: "http://" + addr, metricsURL: "http://" + metricsAddr + "/metrics",
		logPath: filepath.Join(c.t.TempDir(), name+".log"), done: make(chan struct{})}
	logf, err := os.Create(r.logPath)
	if err != nil {
		c.t.Fatal(err)
	}
	r.cmd = command(slices.Concat(env, []string{"CALLBOOK_ADDR=" + addr, "CALLBOOK_BASE_URL=" + r.url,
		"CALLBOOK_METRICS_ADDR=" + metricsAddr}), "serve")
	r.cmd.Stdout, r.cmd.Stderr = logf, logf
	if err := r.cmd.Start(); err != nil {
		c.t.Fatal(err)
	}
	go func() { _ = r.cmd.Wait(); logf.Close(); close(r.done) }()
	return r
}

// freeAddr returns a loopback address nothing listens on (yet), outside
// the range outgoing connections take their ports from.
func (c *cluster) freeAddr() string {
	c.t.Helper()
	return storetest.FreeAddr(c.t)
}

// waitReady polls /readyz until it answers 200.
func (c *cluster) waitReady(r *replica, within time.Duration) {
	c.t.Helper()
	deadline := time.Now().Add(within)
	for time.Now().Before(deadline) {
		select {
		case <-r.done:
			c.t.Fatalf("%s exited before it was ready:\n%s", r.name, r.logTail())
		default:
		}
		if st, _ := r.get("/readyz", nil); st == http.StatusOK {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	c.t.Fatalf("%s not ready after %s:\n%s", r.name, within, r.logTail())
}

// kill ends r with SIGKILL: no shutdown, no chance to give anything back.
func (r *replica) kill() {
	_ = r.cmd.Process.Signal(syscall.SIGKILL)
	<-r.done
}

// stopAll ends every replica with SIGTERM (SIGKILL after 20 s) and, when
// the test failed, shows the end of each one's log.
func (c *cluster) stopAll() {
	for _, r := range c.replicas {
		_ = r.cmd.Process.Signal(syscall.SIGTERM)
	}
	for _, r := range c.replicas {
		select {
		case <-r.done:
		case <-time.After(20 * time.Second):
			_ = r.cmd.Process.Signal(syscall.SIGKILL)
			<-r.done
		}
		if log, _ := os.ReadFile(r.logPath); bytes.Contains(log, []byte("WARNING: DATA RACE")) {
			c.t.Errorf("%s: the race detector found a data race:\n%s", r.name, log)
		} else if c.t.Failed() {
			c.t.Logf("%s log:\n%s", r.name, r.logTail())
		}
	}
}

func (r *replica) logTail() string {
	b, _ := os.ReadFile(r.logPath)
	if len(b) > 4000 {
		b = b[len(b)-4000:]
	}
	return string(b)
}

// httpClient bounds every request: a hang is a failure, not a wait.
var httpClient = &http.Client{Timeout: 15 * time.Second,
	Transport: &http.Transport{MaxIdleConnsPerHost: 64, DisableCompression: true}}

// get fetches path and decodes a JSON answer into out (when not nil).
func (r *replica) get(path string, out any) (int, error) {
	resp, err := httpClient.Get(r.url + path)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	if out != nil {
		if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
			return resp.StatusCode, err
		}
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode, nil
}

// bookingAnswer is what POST /api/v1/bookings answers, success or error.
type bookingAnswer struct {
	Status     int
	RetryAfter string
	Booking    struct {
		ID        uint   `json:"id"`
		Status    string `json:"status"`
		Start     string `json:"start"`
		ManageURL string `json:"manage_url"`
	} `json:"booking"`
	Error struct {
		Code string `json:"code"`
	} `json:"error"`
}

// book asks r for the call at start. A transport error (the replica is
// gone, or did not answer in time) is returned as err.
func (r *replica) book(start time.Time, email string) (bookingAnswer, error) {
	body, _ := json.Marshal(map[string]any{
		"name": "Ada Lovelace", "email": email, "phone": "+1 555 0100", "current_title": "Data Analyst",
		"target_title": "Backend Engineer", "start": start.UTC().Format(time.RFC3339), "timezone": "Europe/Berlin",
		"consent": true,
	})
	resp, err := httpClient.Post(r.url+"/api/v1/bookings", "application/json", bytes.NewReader(body))
	if err != nil {
		return bookingAnswer{}, err
	}
	defer resp.Body.Close()
	var a bookingAnswer
	if err := json.NewDecoder(resp.Body).Decode(&a); err != nil {
		return bookingAnswer{}, fmt.Errorf("status %d, body not JSON: %w", resp.StatusCode, err)
	}
	a.Status, a.RetryAfter = resp.StatusCode, resp.Header.Get("Retry-After")
	return a, nil
}

// freeStarts lists the offered starts from r for today and tomorrow (UTC).
func (c *cluster) freeStarts(r *replica) []time.Time {
	c.t.Helper()
	now := time.Now().UTC()
	var body struct {
		Slots []struct {
			Start time.Time `json:"start"`
		} `json:"slots"`
	}
	path := fmt.Sprintf("/api/v1/slots?from=%s&to=%s&tz=UTC", now.Format(time.DateOnly), now.AddDate(0, 0, 1).Format(time.DateOnly))
	if st, err := r.get(path, &body); st != http.StatusOK || err != nil {
		c.t.Fatalf("slots: %d %v", st, err)
	}
	out := make([]time.Time, len(body.Slots))
	for i, s := range body.Slots {
		out[i] = s.Start
	}
	return out
}

// count runs a count query on the test's schema.
func (c *cluster) count(query string, args ...any) int {
	c.t.Helper()
	var n int
	if err := c.db.QueryRow(query, args...).Scan(&n); err != nil {
		c.t.Fatalf("%s: %v", query, err)
	}
	return n
}

// waitFor polls cond every 50 ms until it holds or within has passed.
func waitFor(t *testing.T, within time.Duration, cond func() bool) bool {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(50 * time.Millisecond)
	}
	return true
}

// jobRuns reads from r's metrics how many runs of a scheduled job have
// finished.
func (r *replica) jobRuns(job string) (float64, error) {
	return r.jobCounter("callbook_job_runs_total", job)
}

// jobCounter reads one of r's per-job counters from its metrics.
func (r *replica) jobCounter(name, job string) (float64, error) {
	resp, err := httpClient.Get(r.metricsURL)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, err
	}
	series := name + `{job="` + job + `"} `
	for line := range strings.Lines(string(body)) {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), series); ok {
			return strconv.ParseFloat(v, 64)
		}
	}
	return 0, fmt.Errorf("%s: no %s", r.name, strings.TrimSpace(series))
}

// waitJobRuns waits until each of rs has finished two more runs of job
// than when called. Runs of one job take turns, so the second of them
// started after the call: whatever the job was doing then is done.
func (c *cluster) waitJobRuns(rs []*replica, job string) {
	c.t.Helper()
	before := make([]float64, len(rs))
	for i, r := range rs {
		n, err := r.jobRuns(job)
		if err != nil {
			c.t.Fatal(err)
		}
		before[i] = n
	}
	for i, r := range rs {
		var runs float64
		if !waitFor(c.t, time.Minute, func() bool { runs, _ = r.jobRuns(job); return runs >= before[i]+2 }) {
			c.t.Fatalf("%s finished %v runs of %s in a minute, want 2", r.name, runs-before[i], job)
		}
	}
}

// waitMailSettled waits until every email the replicas rs were queueing or
// sending when called has reached the database and the SMTP server, so a
// duplicate would show: two more reminder sweeps on each (one in flight
// has queued its emails), then two more outbox runs on each (the outbox
// job takes turns with the sender's own drains, so the second began after
// any send then in flight was answered and recorded).
func (c *cluster) waitMailSettled(rs []*replica) {
	c.t.Helper()
	c.waitJobRuns(rs, scheduler.JobReminders)
	c.waitJobRuns(rs, scheduler.JobOutbox)
}
