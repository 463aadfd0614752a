package handlers

import (
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/callbook/callbook/models"
	"github.com/callbook/callbook/models/storetest"
)

// dbGate forwards TCP connections to a database until Close, which drops
// every forwarded connection and refuses new ones, as a database that went
// away does.
type dbGate struct {
	ln    net.Listener
	mu    sync.Mutex
	conns []net.Conn
}

func startDBGate(t *testing.T, target string) *dbGate {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	g := &dbGate{ln: ln}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			d, err := net.Dial("tcp", target)
			if err != nil {
				c.Close()
				continue
			}
			g.mu.Lock()
			g.conns = append(g.conns, c, d)
			g.mu.Unlock()
			go func() { io.Copy(d, c); d.Close() }()
			go func() { io.Copy(c, d); c.Close() }()
		}
	}()
	t.Cleanup(g.Close)
	return g
}

func (g *dbGate) Close() {
	g.ln.Close()
	g.mu.Lock()
	defer g.mu.Unlock()
	for _, c := range g.conns {
		c.Close()
	}
	g.conns = nil
}

// TestAPI_DatabaseAwayAnswers503UnavailableWithRetryAfter takes the
// PostgreSQL server away from a running router: API reads and bookings
// answer 503 "unavailable" with Retry-After 5, not a 500, and so does the
// visitor's page for managing a booking.
func TestAPI_DatabaseAwayAnswers503UnavailableWithRetryAfter(t *testing.T) {
	u, err := url.Parse(storetest.URL(t, models.DialectPostgres))
	if err != nil {
		t.Fatal(err)
	}
	gate := startDBGate(t, u.Host)
	u.Host = gate.ln.Addr().String()
	clock := storetest.NewClock(testStart)
	e := newTestServerOn(t, storetest.MustOpenURL(t, u.String(), storetest.Options(clock)), clock)
	starts := e.firstSlots(2, "UTC")
	token, _ := e.mustBookAPI("ada@example.com", starts[0])

	gate.Close()
	for _, r := range []struct {
		method, path string
		body         any
	}{
		{http.MethodGet, "/api/v1/slots?tz=UTC", nil},
		{http.MethodPost, "/api/v1/bookings", bookingBody("bo@example.com", starts[1])},
		{http.MethodGet, "/api/v1/bookings/" + token, nil},
		{http.MethodGet, "/bookings/" + token, nil},
	} {
		var w *httptest.ResponseRecorder
		if r.body != nil {
			w = e.postJSON(r.path, r.body)
		} else {
			w = e.do(r.method, r.path, nil)
		}
		if w.Code != http.StatusServiceUnavailable || w.Header().Get("Retry-After") != "5" {
			t.Errorf("%s %s with the database away: %d, Retry-After %q; want 503 and 5:\n%.300s",
				r.method, r.path, w.Code, w.Header().Get("Retry-After"), w.Body.String())
			continue
		}
		if strings.HasPrefix(r.path, "/api/") {
			if code := decode[errorJSON](t, w).Error.Code; code != "unavailable" {
				t.Errorf("%s %s: code %q, want unavailable", r.method, r.path, code)
			}
		}
	}
}
