package handlers

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"github.com/callbook/callbook/store"
	"github.com/callbook/callbook/store/storetest"
	"github.com/callbook/callbook/web"
)

// testStart is a Monday morning in New York; slots open from Monday
// afternoon (4 hours' notice) on.
var testStart = time.Date(2026, 11, 30, 8, 0, 0, 0, mustZone("America/New_York"))

func mustZone(name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		panic(err)
	}
	return loc
}

// testEnv is a full router on a real database with a settable clock.
type testEnv struct {
	t      testing.TB
	srv    *Server
	store  *store.Store
	clock  *storetest.Clock
	remote string // client address for requests
}

// newTestServer builds the whole router on a fresh database of dialect.
func newTestServer(t testing.TB, dialect string, tweak ...func(*Options)) *testEnv {
	t.Helper()
	clock := storetest.NewClock(testStart)
	return newTestServerOn(t, storetest.MustOpen(t, dialect, storetest.Options(clock)), clock, tweak...)
}

// newTestServerOn builds the whole router on store, whose clock is clock.
func newTestServerOn(t testing.TB, db *store.Store, clock *storetest.Clock, tweak ...func(*Options)) *testEnv {
	t.Helper()
	content, err := LoadContent(web.Content())
	if err != nil {
		t.Fatalf("content: %v", err)
	}
	opts := Options{Store: db, Content: content, Clock: clock.Now, Log: slog.New(slog.DiscardHandler), BaseURL: "http://callbook.test", RateLimit: 0}
	for _, f := range tweak {
		f(&opts)
	}
	srv, err := New(opts)
	if err != nil {
		t.Fatalf("server: %v", err)
	}
	return &testEnv{t: t, srv: srv, store: db, clock: clock, remote: "192.0.2.1:1234"}
}

// do sends a request through the router and returns the recorded answer.
// Every /api/v1 exchange is checked against docs/openapi.yaml (outside
// benchmarks), so each API test also tests the description.
func (e *testEnv) do(method, path string, body io.Reader, headers ...string) *httptest.ResponseRecorder {
	e.t.Helper()
	var reqBody []byte
	if body != nil {
		// Keep a copy for the check; a body that fails part-way (a test of
		// cut-off uploads) still fails the same way for the server.
		var err error
		reqBody, err = io.ReadAll(body)
		body = bytes.NewReader(reqBody)
		if err != nil {
			body = io.MultiReader(body, iotest.ErrReader(err))
		}
	}
	req := httptest.NewRequest(method, path, body)
	req.RemoteAddr = e.remote
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	sent := req.Clone(req.Context())
	w := httptest.NewRecorder()
	e.srv.ServeHTTP(w, req)
	if _, bench := e.t.(*testing.B); !bench && strings.HasPrefix(req.URL.Path, "/api/v1/") {
		checkAgainstAPISpec(e.t, sent, reqBody, w)
	}
	return w
}

// postJSON sends v as JSON.
func (e *testEnv) postJSON(path string, v any, headers ...string) *httptest.ResponseRecorder {
	e.t.Helper()
	var b []byte
	switch x := v.(type) {
	case string:
		b = []byte(x)
	default:
		var err error
		if b, err = json.Marshal(v); err != nil {
			e.t.Fatal(err)
		}
	}
	return e.do(http.MethodPost, path, bytes.NewReader(b), append([]string{"Content-Type", "application/json"}, headers...)...)
}

// postForm sends form values as a browser would from this site.
func (e *testEnv) postForm(path string, form url.Values, headers ...string) *httptest.ResponseRecorder {
	e.t.Helper()
	return e.do(http.MethodPost, path, strings.NewReader(form.Encode()),
		append([]string{"Content-Type", "application/x-www-form-urlencoded", "Sec-Fetch-Site", "same-origin"}, headers...)...)
}

// decode parses a JSON answer.
func decode[T any](t testing.TB, w *httptest.ResponseRecorder) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(w.Body.Bytes(), &v); err != nil {
		t.Fatalf("decode %q: %v", w.Body.String(), err)
	}
	return v
}

// slotsJSON is the /api/v1/slots answer.
type slotsJSON struct {
	Timezone        string `json:"timezone"`
	DurationMinutes int    `json:"duration_minutes"`
	Slots           []struct {
		Start string `json:"start"`
		End   string `json:"end"`
	} `json:"slots"`
}

// firstSlots returns the first n offered starts (RFC 3339) in tz.
func (e *testEnv) firstSlots(n int, tz string) []string {
	e.t.Helper()
	w := e.do(http.MethodGet, "/api/v1/slots?tz="+url.QueryEscape(tz), nil)
	if w.Code != http.StatusOK {
		e.t.Fatalf("slots: %d %s", w.Code, w.Body.String())
	}
	s := decode[slotsJSON](e.t, w)
	if len(s.Slots) < n {
		e.t.Fatalf("want %d slots, got %d", n, len(s.Slots))
	}
	out := make([]string, n)
	for i := range out {
		out[i] = s.Slots[i].Start
	}
	return out
}

// bookingBody is a valid API booking request for start.
func bookingBody(email, start string) map[string]any {
	return map[string]any{
		"name": "Ada Lovelace", "email": email, "phone": "+1 555 0100", "current_title": "Data Analyst",
		"target_title": "Backend Engineer", "role_slug": "backend-engineer", "start": start,
		"timezone": "Europe/Berlin", "message": "Hello", "consent": true,
		"utm":      map[string]string{"source": "google", "medium": "cpc", "campaign": "be-2026"},
		"referrer": "https://example.com/roles/backend-engineer",
		"answers":  map[string]any{"experience": "1-2"},
	}
}

// errorJSON is the contract's error shape.
type errorJSON struct {
	Error struct {
		Code    string            `json:"code"`
		Message string            `json:"message"`
		Fields  map[string]string `json:"fields"`
	} `json:"error"`
}
