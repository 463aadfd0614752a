package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/callbook/callbook/models"
	"github.com/callbook/callbook/models/storetest"
)

// syncBuffer collects serve's log from its goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}
func (s *syncBuffer) String() string { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

// freePort returns a local port nothing listens on (yet).
func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// statusOf GETs url and returns the status, or 0 when nothing answers.
func statusOf(url string) int {
	resp, err := http.Get(url)
	if err != nil {
		return 0
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

// waitStatus polls url until it answers want, failing after limit.
func waitStatus(t *testing.T, url string, want int, limit time.Duration, log fmt.Stringer) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for statusOf(url) != want {
		if time.Now().After(deadline) {
			t.Fatalf("%s never answered %d within %v; log:\n%s", url, want, limit, log)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// startProxy forwards connections on addr to target once started, standing in
// for a database server that comes up late.
func startProxy(t *testing.T, addr, target string) {
	t.Helper()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				up, err := net.Dial("tcp", target)
				if err != nil {
					return
				}
				defer up.Close()
				go func() { io.Copy(up, c); up.(*net.TCPConn).CloseWrite() }()
				io.Copy(c, up)
			}()
		}
	}()
}

// A database that is down at start: serve listens anyway, /healthz says
// alive and /readyz 503, the log says so once, and serve keeps trying
// instead of exiting; when the database comes up it starts by itself.
func TestServe_WaitsForADatabaseThatIsDownAtStart(t *testing.T) {
	pgURL := storetest.URL(t, models.DialectPostgres) // skips without PostgreSQL
	clearEnv(t)
	pg, err := url.Parse(pgURL)
	if err != nil {
		t.Fatal(err)
	}
	dbAddr := freePort(t)
	late := *pg
	late.Host = dbAddr
	addr := freePort(t)
	t.Setenv("CALLBOOK_DATABASE_URL", late.String())
	t.Setenv("CALLBOOK_SECRET", "a-test-secret-that-is-long-enough-1234")
	t.Setenv("CALLBOOK_ADDR", addr)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	logs := &syncBuffer{}
	done := make(chan int, 1)
	go func() { done <- run(ctx, []string{"serve"}, nil, io.Discard, logs) }()

	base := "http://" + addr
	waitStatus(t, base+"/healthz", http.StatusOK, 20*time.Second, logs)
	time.Sleep(3 * time.Second) // a few retries
	select {
	case code := <-done:
		t.Fatalf("serve exited %d while the database was down:\n%s", code, logs)
	default:
	}
	for path, want := range map[string]int{"/readyz": 503, "/api/v1/roles": 503, "/roles/backend-engineer": 503, "/healthz": 200} {
		if got := statusOf(base + path); got != want {
			t.Errorf("GET %s while the database is down: %d, want %d", path, got, want)
		}
	}
	if n := strings.Count(logs.String(), "database unreachable at start"); n != 1 {
		t.Errorf("the unreachable database was logged %d times, want once:\n%s", n, logs)
	}

	startProxy(t, dbAddr, pg.Host)
	waitStatus(t, base+"/readyz", http.StatusOK, 30*time.Second, logs)
	if got := statusOf(base + "/api/v1/roles"); got != http.StatusOK {
		t.Errorf("roles once the database answers: %d", got)
	}
	if !strings.Contains(logs.String(), "database reachable; starting") {
		t.Errorf("no line saying the database answered:\n%s", logs)
	}
	cancel()
	select {
	case code := <-done:
		if code != 0 {
			t.Fatalf("serve exited %d:\n%s", code, logs)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("serve did not stop")
	}
}

// Stopped while still waiting for its database, serve exits 0 at once.
func TestServe_StopsCleanlyWhileWaitingForTheDatabase(t *testing.T) {
	clearEnv(t)
	t.Setenv("CALLBOOK_DATABASE_URL", "postgres://callbook@"+freePort(t)+"/callbook?sslmode=disable")
	t.Setenv("CALLBOOK_SECRET", "a-test-secret-that-is-long-enough-1234")
	addr := freePort(t)
	t.Setenv("CALLBOOK_ADDR", addr)
	ctx, cancel := context.WithCancel(context.Background())
	logs := &syncBuffer{}
	done := make(chan int, 1)
	go func() { done <- run(ctx, []string{"serve"}, nil, io.Discard, logs) }()
	waitStatus(t, "http://"+addr+"/readyz", http.StatusServiceUnavailable, 20*time.Second, logs)
	cancel()
	select {
	case code := <-done:
		if code != 0 {
			t.Fatalf("serve exited %d:\n%s", code, logs)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("serve did not stop while waiting for the database")
	}
	if statusOf("http://"+addr+"/healthz") != 0 {
		t.Error("still listening after it stopped")
	}
}
