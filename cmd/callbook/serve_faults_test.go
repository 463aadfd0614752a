package main

import (
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/callbook/callbook/store"
	"github.com/callbook/callbook/store/storetest"
)

// fakeDatabase stands at an address in place of a database server: until
// up it hangs up on every connection as soon as it is accepted, as a
// server that is not up does, and counts serve's tries, so a test can see
// serve keep trying; once up it forwards each connection to the real
// server.
type fakeDatabase struct {
	ln     net.Listener
	mu     sync.Mutex
	target string    // empty while down
	last   time.Time // when the last connection was hung up on
	count  int       // tries hung up on
}

// tryGap separates serve's tries: it waits at least half of
// startRetryFirst between two, and one try can open more than one
// connection in quick succession.
const tryGap = startRetryFirst / 4

func startFakeDatabase(t *testing.T) *fakeDatabase {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	f := &fakeDatabase{ln: ln}
	go f.serve()
	return f
}

func (f *fakeDatabase) addr() string { return f.ln.Addr().String() }

// tries is how many tries to connect were hung up on while down.
func (f *fakeDatabase) tries() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.count
}

// up forwards every later connection to target.
func (f *fakeDatabase) up(target string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.target = target
}

func (f *fakeDatabase) serve() {
	for {
		c, err := f.ln.Accept()
		if err != nil {
			return
		}
		f.mu.Lock()
		target := f.target
		if target == "" {
			if time.Since(f.last) >= tryGap {
				f.count++
			}
			f.last = time.Now()
		}
		f.mu.Unlock()
		if target == "" {
			c.Close() // down
			continue
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
}

// A database that is down at start: serve listens anyway, /healthz says
// alive and /readyz 503, the log says so once, and serve keeps trying
// instead of exiting; when the database comes up it starts by itself.
func TestServe_WaitsForADatabaseThatIsDownAtStart(t *testing.T) {
	pgURL := storetest.URL(t, store.DialectPostgres) // skips without PostgreSQL
	clearEnv(t)
	pg, err := url.Parse(pgURL)
	if err != nil {
		t.Fatal(err)
	}
	db := startFakeDatabase(t)
	late := *pg
	late.Host = db.addr()
	t.Setenv("CALLBOOK_DATABASE_URL", late.String())
	t.Setenv("CALLBOOK_SECRET", "a-test-secret-that-is-long-enough-1234")
	srv := serveInProcess(t)

	base := srv.base
	waitStatus(t, base+"/healthz", http.StatusOK, 20*time.Second, srv.logs)
	// Serve keeps trying: it reaches a third try and has not exited.
	waitUntil(t, 30*time.Second, "serve never tried the database three times", srv.logs, func() bool {
		select {
		case <-srv.exited:
			t.Fatalf("serve exited %d while the database was down:\n%s", srv.code, srv.logs)
		default:
		}
		return db.tries() >= 3
	})
	for path, want := range map[string]int{"/readyz": 503, "/api/v1/roles": 503, "/roles/backend-engineer": 503, "/healthz": 200} {
		if got := statusOf(base + path); got != want {
			t.Errorf("GET %s while the database is down: %d, want %d", path, got, want)
		}
	}
	if n := strings.Count(srv.logs.String(), "database unreachable at start"); n != 1 {
		t.Errorf("the unreachable database was logged %d times, want once:\n%s", n, srv.logs)
	}

	db.up(pg.Host)
	waitStatus(t, base+"/readyz", http.StatusOK, 30*time.Second, srv.logs)
	if got := statusOf(base + "/api/v1/roles"); got != http.StatusOK {
		t.Errorf("roles once the database answers: %d", got)
	}
	if !strings.Contains(srv.logs.String(), "database reachable; starting") {
		t.Errorf("no line saying the database answered:\n%s", srv.logs)
	}
	srv.cancel()
	if code := srv.waitExit(t, 30*time.Second); code != 0 {
		t.Fatalf("serve exited %d:\n%s", code, srv.logs)
	}
}

// Stopped while still waiting for its database, serve exits 0 at once.
func TestServe_StopsCleanlyWhileWaitingForTheDatabase(t *testing.T) {
	clearEnv(t)
	t.Setenv("CALLBOOK_DATABASE_URL", "postgres://callbook@"+storetest.FreeAddr(t)+"/callbook?sslmode=disable")
	t.Setenv("CALLBOOK_SECRET", "a-test-secret-that-is-long-enough-1234")
	srv := serveInProcess(t)
	waitStatus(t, srv.base+"/readyz", http.StatusServiceUnavailable, 20*time.Second, srv.logs)
	srv.cancel()
	if code := srv.waitExit(t, 20*time.Second); code != 0 {
		t.Fatalf("serve exited %d:\n%s", code, srv.logs)
	}
	if statusOf(srv.base+"/healthz") != 0 {
		t.Error("still listening after it stopped")
	}
}
