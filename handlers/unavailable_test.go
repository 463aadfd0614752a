package handlers

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/callbook/callbook/store"
	"github.com/callbook/callbook/store/storetest"
)

// TestAPI_DatabaseAwayAnswers503UnavailableWithRetryAfter takes the
// PostgreSQL server away from a running router: API reads and bookings
// answer 503 "unavailable" with Retry-After 5, not a 500, and so does the
// visitor's page for managing a booking.
func TestAPI_DatabaseAwayAnswers503UnavailableWithRetryAfter(t *testing.T) {
	u, err := url.Parse(storetest.URL(t, store.DialectPostgres))
	if err != nil {
		t.Fatal(err)
	}
	proxy := storetest.StartProxy(t, u.Host)
	u.Host = proxy.Addr()
	clock := storetest.NewClock(testStart)
	e := newTestServerOn(t, storetest.MustOpenURL(t, u.String(), storetest.Options(clock)), clock)
	starts := e.firstSlots(2, "UTC")
	token, _ := e.mustBookAPI("ada@example.com", starts[0])

	// The database goes away: new connections are refused, open ones drop.
	proxy.Down()
	proxy.Cut()
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
