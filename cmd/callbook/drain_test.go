package main

import (
	"io"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// SIGTERM starts a drain: /readyz answers 503 at once, so a load balancer
// takes the replica out of its pool, while a booking sent over a new
// connection still succeeds; only after CALLBOOK_SHUTDOWN_DELAY does the
// listener close, and serve exits 0 with the booking in the database.
func TestServe_SIGTERMDrainsBeforeTheListenerCloses(t *testing.T) {
	bin := buildBinary(t)
	dbPath := filepath.Join(t.TempDir(), "callbook.db")
	// Long enough for the checks below on a loaded machine; the test
	// waits for the listener to close, not for the delay.
	const delay = 10 * time.Second
	srv := serveBinary(t, bin, "CALLBOOK_DATABASE_URL=sqlite:"+dbPath, "CALLBOOK_SHUTDOWN_DELAY="+delay.String(),
		"CALLBOOK_RATE_LIMIT=0", "CALLBOOK_SMTP_URL=", "CALLBOOK_TEST_POSTGRES_URL=")
	srv.waitReady(t)
	starts := offeredStarts(t, srv.base)
	if len(starts) < 2 {
		t.Fatalf("only %d slots offered", len(starts))
	}

	if err := srv.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	waitStatus(t, srv.base+"/readyz", http.StatusServiceUnavailable, delay, srv.logs)

	// A new connection for each request: the listener still accepts.
	fresh := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := fresh.Post(srv.base+"/api/v1/bookings", "application/json", strings.NewReader(bookingJSON(starts[1], 1)))
	if err != nil {
		t.Fatalf("booking during the drain: %v\n%s", err, srv.logs)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("booking during the drain: %d %s", resp.StatusCode, body)
	}
	if st := statusOf(srv.base + "/healthz"); st != http.StatusOK {
		t.Errorf("/healthz during the drain: %d, want 200", st)
	}

	waitUntil(t, delay+10*time.Second, "the listener never closed after the drain", srv.logs, func() bool {
		c, err := net.DialTimeout("tcp", srv.addr, time.Second)
		if err != nil {
			return true
		}
		c.Close()
		return false
	})
	if code := srv.waitExit(t, shutdownGrace+10*time.Second); code != 0 {
		t.Fatalf("exit code %d after SIGTERM:\n%s", code, srv.logs)
	}
	if !strings.Contains(srv.logs.String(), "draining") {
		t.Errorf("the log does not say it drained:\n%s", srv.logs)
	}
	assertWholeBookings(t, dbPath, 1)
}

func TestLoadConfig_ShutdownDelay(t *testing.T) {
	clearEnv(t)
	for _, bad := range []string{"-1s", "1h", "5"} {
		t.Setenv("CALLBOOK_SHUTDOWN_DELAY", bad)
		if _, err := loadConfig(nil, true); err == nil || !strings.HasPrefix(err.Error(), "CALLBOOK_SHUTDOWN_DELAY: ") {
			t.Errorf("%q: %v", bad, err)
		}
	}
	t.Setenv("CALLBOOK_SHUTDOWN_DELAY", "0")
	if c, err := loadConfig(nil, true); err != nil || c.ShutdownDelay != 0 {
		t.Errorf("0 (no drain): %v %v", c, err)
	}
	c, err := loadConfig([]string{"--shutdown-delay", "250ms"}, true)
	if err != nil || c.ShutdownDelay != 250*time.Millisecond {
		t.Errorf("--shutdown-delay 250ms: %v", err)
	}
}
