package handlers

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/callbook/callbook/models"
	"github.com/callbook/callbook/store"
)

// TestMetrics_MainRouterNeedsAnAdminToken checks who may read /metrics on
// the public router: an admin's API token only; not visitors, not a wrong
// token, not sales, and not a staff session cookie (a browser is no scraper).
func TestMetrics_MainRouterNeedsAnAdminToken(t *testing.T) {
	e := newTestServer(t, store.DialectSQLite)
	admin := e.mustStaff("admin@callbook.test", models.RoleAdmin)
	sales := e.mustStaff("sales@callbook.test", models.RoleSales)
	for _, tc := range []struct {
		name    string
		headers []string
		want    int
	}{
		{"anonymous", nil, http.StatusUnauthorized},
		{"unknown token", []string{"Authorization", "Bearer nope"}, http.StatusUnauthorized},
		{"basic auth", []string{"Authorization", "Basic YWRtaW46eA=="}, http.StatusUnauthorized},
		{"admin session cookie", []string{"Cookie", sessionCookie + "=" + admin.Cookie}, http.StatusUnauthorized},
		{"sales token", []string{"Authorization", "Bearer " + sales.Token}, http.StatusForbidden},
		{"admin token", []string{"Authorization", "Bearer " + admin.Token}, http.StatusOK},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := e.do(http.MethodGet, "/metrics", nil, tc.headers...)
			if w.Code != tc.want {
				t.Fatalf("GET /metrics: %d, want %d", w.Code, tc.want)
			}
			hasFigures := strings.Contains(w.Body.String(), "callbook_http_requests_total")
			if hasFigures != (tc.want == http.StatusOK) {
				t.Fatalf("figures shown = %v with status %d", hasFigures, w.Code)
			}
			if tc.want == http.StatusUnauthorized && !strings.HasPrefix(w.Header().Get("WWW-Authenticate"), "Bearer") {
				t.Errorf("401 without a Bearer challenge: %q", w.Header().Get("WWW-Authenticate"))
			}
		})
	}
}

// TestMetrics_HandlerForTheSeparateListener serves the figures without
// credentials, at /metrics only: nothing else of the service is on it.
func TestMetrics_HandlerForTheSeparateListener(t *testing.T) {
	e := newTestServer(t, store.DialectSQLite)
	e.do(http.MethodGet, "/roles/backend-engineer", nil)
	h := e.srv.MetricsHandler()
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	if w.Code != http.StatusOK || !strings.Contains(w.Body.String(), `route="/roles/:slug"`) {
		t.Fatalf("metrics listener: %d %.300s", w.Code, w.Body.String())
	}
	for _, path := range []string{"/", "/admin", "/api/v1/roles", "/roles/backend-engineer"} {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, path, nil))
		if w.Code != http.StatusNotFound {
			t.Errorf("metrics listener answers %s with %d, want 404", path, w.Code)
		}
	}
}
