package handlers

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/callbook/callbook/store"
)

// hostileRequest builds the i-th request of one kind a visitor controls
// entirely: every kind varies with i, so a label taken from it unbounded
// would add series with every i.
type hostileRequest func(i int) *http.Request

var hostileRequests = map[string]hostileRequest{
	"made-up method": func(i int) *http.Request {
		return httptest.NewRequest(fmt.Sprintf("X%07d", i), "/", nil)
	},
	"lower-case method": func(i int) *http.Request {
		return httptest.NewRequest(strings.Repeat("g", i%40+1)+"et", "/roles/backend-engineer", nil)
	},
	"made-up method on an API route": func(i int) *http.Request {
		return httptest.NewRequest(fmt.Sprintf("PURGE%d", i), "/api/v1/bookings", nil)
	},
	"unknown path": func(i int) *http.Request {
		return httptest.NewRequest(http.MethodGet, fmt.Sprintf("/wp-admin/%d.php", i), nil)
	},
	"unknown role and booking": func(i int) *http.Request {
		if i%2 == 0 {
			return httptest.NewRequest(http.MethodGet, fmt.Sprintf("/roles/nope-%d", i), nil)
		}
		return httptest.NewRequest(http.MethodGet, fmt.Sprintf("/bookings/tok%d", i), nil)
	},
	"static file": func(i int) *http.Request {
		return httptest.NewRequest(http.MethodGet, fmt.Sprintf("/static/x%d.css", i), nil)
	},
	"host, query and headers": func(i int) *http.Request {
		r := httptest.NewRequest(http.MethodGet, fmt.Sprintf("/api/v1/roles?x%d=%d", i, i), nil)
		r.Host = fmt.Sprintf("h%d.example", i)
		r.Header.Set("User-Agent", fmt.Sprintf("bot/%d", i))
		r.Header.Set("X-Forwarded-For", fmt.Sprintf("198.51.100.%d", i%250))
		return r
	},
	"odd status answers": func(i int) *http.Request {
		// A mix of routes whose answers differ: 404, 401, 400, 405-ish.
		paths := []string{"/admin/leads", "/api/v1/admin/leads", "/api/v1/slots?tz=Nowhere/" + fmt.Sprint(i), "/bookings/x/cancel"}
		return httptest.NewRequest(http.MethodGet, paths[i%len(paths)], nil)
	},
}

// seriesCount is how many series /metrics shows, all families together.
func seriesCount(t *testing.T, e *testEnv) int {
	t.Helper()
	families, err := e.srv.gather.Gather()
	if err != nil {
		t.Fatalf("gather: %v", err)
	}
	n := 0
	for _, f := range families {
		n += len(f.GetMetric())
	}
	return n
}

// TestMetrics_SeriesStayBoundedUnderHostileRequests sends many requests
// whose method, path, host, query and headers a visitor invents: after the
// first few of each kind, /metrics must not grow by a single series, for
// every label of every metric the HTTP layer records.
func TestMetrics_SeriesStayBoundedUnderHostileRequests(t *testing.T) {
	e := newTestServer(t, store.DialectSQLite)
	send := func(from, to int) {
		for _, mk := range hostileRequests {
			for i := from; i < to; i++ {
				r := mk(i)
				r.RemoteAddr = e.remote
				e.srv.ServeHTTP(httptest.NewRecorder(), r)
			}
		}
	}
	send(0, 8) // every kind, every answer it can get
	before := seriesCount(t, e)
	send(8, 400)
	if after := seriesCount(t, e); after != before {
		t.Fatalf("hostile requests grew /metrics from %d to %d series", before, after)
	}
	w := httptest.NewRecorder()
	e.srv.MetricsHandler().ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	if !strings.Contains(w.Body.String(), `method="other"`) {
		t.Errorf("made-up methods are not counted as method=\"other\"")
	}
}
