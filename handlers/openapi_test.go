package handlers

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"

	"github.com/callbook/callbook/docs"
)

// apiSpec is docs/openapi.yaml loaded and checked once per test binary,
// with a router that finds an operation for a request.
type apiSpec struct {
	doc    *openapi3.T
	router routers.Router
}

var loadAPISpec = sync.OnceValues(func() (*apiSpec, error) {
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(docs.OpenAPIYAML())
	if err != nil {
		return nil, err
	}
	if err := doc.Validate(context.Background()); err != nil {
		return nil, err
	}
	// Match on paths alone: tests send requests to any host.
	doc.Servers = nil
	router, err := legacy.NewRouter(doc)
	if err != nil {
		return nil, err
	}
	return &apiSpec{doc: doc, router: router}, nil
})

func mustAPISpec(t testing.TB) *apiSpec {
	t.Helper()
	spec, err := loadAPISpec()
	if err != nil {
		t.Fatalf("docs/openapi.yaml: %v", err)
	}
	return spec
}

// checkAgainstAPISpec holds one API exchange against docs/openapi.yaml:
// the response must be described for its route and status, with a body that
// matches its schema; a request the description calls invalid must have
// been refused (4xx), so the description never promises less than the
// server accepts. A request to an undescribed route must have found none.
func checkAgainstAPISpec(t testing.TB, req *http.Request, reqBody []byte, w *httptest.ResponseRecorder) {
	t.Helper()
	spec := mustAPISpec(t)
	route, params, err := spec.router.FindRoute(req)
	if err != nil {
		if w.Code != http.StatusNotFound {
			t.Fatalf("openapi: %s %s answered %d but is not described in docs/openapi.yaml: %v", req.Method, req.URL.Path, w.Code, err)
		}
		return
	}
	in := &openapi3filter.RequestValidationInput{
		Request: req.Clone(context.Background()), PathParams: params, Route: route,
		Options: &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc, MultiError: true},
	}
	in.Request.Body = io.NopCloser(bytes.NewReader(reqBody))
	if reqErr := openapi3filter.ValidateRequest(context.Background(), in); reqErr != nil && (w.Code < 400 || w.Code >= 500) {
		t.Fatalf("openapi: %s %s answered %d to a request docs/openapi.yaml calls invalid: %v\nbody: %s",
			req.Method, req.URL.Path, w.Code, reqErr, reqBody)
	}
	out := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: in, Status: w.Code, Header: w.Header(), Body: io.NopCloser(bytes.NewReader(w.Body.Bytes())),
		Options: &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true},
	}
	if err := openapi3filter.ValidateResponse(context.Background(), out); err != nil {
		t.Fatalf("openapi: %s %s: the %d answer does not match docs/openapi.yaml: %v\nbody: %s",
			req.Method, req.URL.Path, w.Code, err, truncate(w.Body.String(), 2000))
	}
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// openAPIPath turns a Gin route pattern into an OpenAPI path template.
func openAPIPath(ginPath string) string {
	parts := strings.Split(ginPath, "/")
	for i, p := range parts {
		if strings.HasPrefix(p, ":") || strings.HasPrefix(p, "*") {
			parts[i] = "{" + p[1:] + "}"
		}
	}
	return strings.Join(parts, "/")
}

// TestOpenAPI_DescribesEveryRoute fails when a route of the router under
// /api/v1 is missing from docs/openapi.yaml, or the file describes a route
// the router does not have.
func TestOpenAPI_DescribesEveryRoute(t *testing.T) {
	e := newTestServer(t, "sqlite")
	spec := mustAPISpec(t)
	served := map[string]bool{}
	for _, r := range e.srv.engine.Routes() {
		if !strings.HasPrefix(r.Path, "/api/v1/") {
			continue
		}
		path := openAPIPath(r.Path)
		served[r.Method+" "+path] = true
		item := spec.doc.Paths.Value(path)
		if item == nil || item.GetOperation(r.Method) == nil {
			t.Errorf("%s %s is a route of the router but is not described in docs/openapi.yaml", r.Method, path)
		}
	}
	if len(served) < 10 {
		t.Fatalf("found only %d API routes; is the router built?", len(served))
	}
	for path, item := range spec.doc.Paths.Map() {
		for method := range item.Operations() {
			if !served[method+" "+path] {
				t.Errorf("docs/openapi.yaml describes %s %s, which the router does not serve", method, path)
			}
		}
	}
}

// TestOpenAPI_DescribesErrorsAndAuth checks what every operation must say:
// its 500 and 503, the staff routes' 401 and security, and each error a body in the
// one error shape.
func TestOpenAPI_DescribesErrorsAndAuth(t *testing.T) {
	spec := mustAPISpec(t)
	for path, item := range spec.doc.Paths.Map() {
		for method, op := range item.Operations() {
			if path != "/api/v1/openapi.json" && (op.Responses.Status(http.StatusInternalServerError) == nil || op.Responses.Status(http.StatusServiceUnavailable) == nil) {
				t.Errorf("%s %s: 500 and 503 (database unreachable) must be described", method, path)
			}
			staff := strings.HasPrefix(path, "/api/v1/admin/")
			if staff && (op.Security == nil || len(*op.Security) == 0 || op.Responses.Status(http.StatusUnauthorized) == nil) {
				t.Errorf("%s %s: a staff route must name its security and describe 401", method, path)
			}
			if !staff && (op.Security == nil || len(*op.Security) != 0) {
				t.Errorf("%s %s: a public route must say it needs no credentials (security: [])", method, path)
			}
			if method != http.MethodGet && op.Responses.Status(http.StatusForbidden) == nil {
				t.Errorf("%s %s: a state-changing route must describe 403 (cross-site requests)", method, path)
			}
			for code, ref := range op.Responses.Map() {
				if code >= "400" && ref.Value.Content.Get("application/json") == nil {
					t.Errorf("%s %s: error %s has no JSON body", method, path, code)
				}
			}
		}
	}
}

// TestOpenAPI_ServedAsJSON checks that /api/v1/openapi.json is the file in
// the repository, as an OpenAPI 3.1 document.
func TestOpenAPI_ServedAsJSON(t *testing.T) {
	e := newTestServer(t, "sqlite")
	w := e.do(http.MethodGet, "/api/v1/openapi.json", nil)
	if w.Code != http.StatusOK || !strings.HasPrefix(w.Header().Get("Content-Type"), "application/json") {
		t.Fatalf("openapi.json: %d %q", w.Code, w.Header().Get("Content-Type"))
	}
	doc, err := openapi3.NewLoader().LoadFromData(w.Body.Bytes())
	if err != nil {
		t.Fatalf("served description does not load: %v", err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		t.Fatalf("served description is not valid: %v", err)
	}
	if !strings.HasPrefix(doc.OpenAPI, "3.1.") {
		t.Fatalf("openapi = %q, want 3.1.x", doc.OpenAPI)
	}
	want := mustAPISpec(t).doc.Paths.InMatchingOrder()
	got := doc.Paths.InMatchingOrder()
	if !slices.Equal(got, want) || len(got) == 0 {
		t.Fatalf("served paths %v, want the file's %v", got, want)
	}
	var raw map[string]any
	if err := json.Unmarshal(w.Body.Bytes(), &raw); err != nil || raw["components"] == nil {
		t.Fatalf("served JSON lacks components: %v", err)
	}
	// The served document names this server, the file none.
	if len(doc.Servers) != 1 || doc.Servers[0].URL != "http://callbook.test" {
		t.Fatalf("served servers = %v, want the base URL http://callbook.test alone", doc.Servers)
	}
	// The whole document, not only its paths: the file as the OpenAPI
	// library reads it and the served JSON must model the same API.
	fromFile, err := openapi3.NewLoader().LoadFromData(docs.OpenAPIYAML())
	if err != nil {
		t.Fatal(err)
	}
	if len(fromFile.Servers) != 1 || fromFile.Servers[0].URL != "/" {
		t.Fatalf("docs/openapi.yaml servers = %v, want the relative /", fromFile.Servers)
	}
	doc.Servers = fromFile.Servers
	gotJSON, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	wantJSON, err := json.Marshal(fromFile)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(gotJSON, wantJSON) {
		i := 0
		for i < len(gotJSON) && i < len(wantJSON) && gotJSON[i] == wantJSON[i] {
			i++
		}
		from := max(i-200, 0)
		t.Fatalf("served description differs from docs/openapi.yaml at byte %d:\nserved …%s\nfile   …%s",
			i, truncate(string(gotJSON[from:]), 400), truncate(string(wantJSON[from:]), 400))
	}
	// The conversion is done once: later requests get the same bytes.
	for range 2 {
		again := e.do(http.MethodGet, "/api/v1/openapi.json", nil)
		if again.Code != http.StatusOK || !bytes.Equal(again.Body.Bytes(), w.Body.Bytes()) {
			t.Fatalf("a later request got %d and a different document", again.Code)
		}
	}
}

// TestOpenAPI_ConvertedOnFirstRequest checks that the description is
// converted once however many clients ask for it at the same time, and that
// a failed conversion is a 500 in the API's error shape rather than an
// empty document.
func TestOpenAPI_ConvertedOnFirstRequest(t *testing.T) {
	var calls atomic.Int32
	e := newTestServer(t, "sqlite")
	e.srv.openAPI = sync.OnceValues(func() ([]byte, error) { calls.Add(1); return embeddedOpenAPI("http://callbook.test") })
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			if w := e.do(http.MethodGet, "/api/v1/openapi.json", nil); w.Code != http.StatusOK {
				t.Errorf("openapi.json: %d", w.Code)
			}
		})
	}
	wg.Wait()
	if n := calls.Load(); n != 1 {
		t.Fatalf("converted %d times for 8 requests, want once", n)
	}

	if _, err := openAPIJSON([]byte("openapi: [3.1")); err == nil || !strings.Contains(err.Error(), "docs/openapi.yaml") {
		t.Fatalf("broken YAML: err = %v, want one naming docs/openapi.yaml", err)
	}
	e.srv.openAPI = func() ([]byte, error) { return openAPIJSON([]byte("openapi: [3.1")) }
	// Straight to the router: the description promises no 500 here, since
	// a release's embedded file always converts.
	w := httptest.NewRecorder()
	e.srv.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/api/v1/openapi.json", nil))
	body := decode[struct {
		Error struct{ Code string } `json:"error"`
	}](t, w)
	if w.Code != http.StatusInternalServerError || body.Error.Code != "internal" {
		t.Fatalf("broken description: %d %q, want 500 internal", w.Code, body.Error.Code)
	}
}

// TestOpenAPI_CheckCatchesDrift proves the exchange check fails when the
// server and the description disagree: answers missing or adding fields,
// an undescribed status, and a request the description refuses but the
// server accepted.
func TestOpenAPI_CheckCatchesDrift(t *testing.T) {
	booking := `{"id": 1, "status": "confirmed", "start": "2026-12-01T15:00:00+01:00", "end": "2026-12-01T15:30:00+01:00",
		"timezone": "Europe/Berlin", "target_title": "x", "role_slug": "", "host": {"name": "h"}, "meeting": {"kind": "phone"},
		"manage_url": "http://x/bookings/t", "ics_url": "http://x/bookings/t/invite.ics", "created_at": "2026-11-30T13:00:00Z", "language": "en"%s}`
	for name, tc := range map[string]struct {
		method, path, reqBody string
		code                  int
		body                  string
		ok                    bool
	}{
		"a whole booking":      {"GET", "/api/v1/bookings/abc", "", 200, `{"booking": ` + fmt.Sprintf(booking, "") + `}`, true},
		"missing fields":       {"GET", "/api/v1/bookings/abc", "", 200, `{"booking": {"id": 1}}`, false},
		"undescribed field":    {"GET", "/api/v1/bookings/abc", "", 200, `{"booking": ` + fmt.Sprintf(booking, `, "extra": 1`) + `}`, false},
		"lead_id for visitors": {"GET", "/api/v1/bookings/abc", "", 200, `{"booking": ` + fmt.Sprintf(booking, `, "lead_id": 1`) + `}`, false},
		"undescribed status":   {"GET", "/api/v1/roles", "", 418, `{"error": {"code": "internal", "message": "x"}}`, false},
		"error of wrong shape": {"GET", "/api/v1/roles", "", 500, `{"message": "x"}`, false},
		"undescribed route":    {"GET", "/api/v1/nowhere", "", 200, `{}`, false},
		"unknown route 404":    {"GET", "/api/v1/nowhere", "", 404, `{"error": {"code": "not_found", "message": "x"}}`, true},
		"bad request refused": {"POST", "/api/v1/bookings/abc/reschedule", `{"start": 5}`, 400,
			`{"error": {"code": "bad_request", "message": "x"}}`, true},
		"bad request accepted": {"POST", "/api/v1/bookings/abc/reschedule", `{"start": 5}`, 200,
			`{"booking": ` + fmt.Sprintf(booking, "") + `}`, false},
	} {
		t.Run(name, func(t *testing.T) {
			req := httptest.NewRequest(tc.method, tc.path, strings.NewReader(tc.reqBody))
			if tc.reqBody != "" {
				req.Header.Set("Content-Type", "application/json")
			}
			w := httptest.NewRecorder()
			w.Header().Set("Content-Type", "application/json; charset=utf-8")
			w.WriteHeader(tc.code)
			w.WriteString(tc.body)
			ft := &fatalRecorder{TB: t}
			func() {
				defer func() { _ = recover() }()
				checkAgainstAPISpec(ft, req, []byte(tc.reqBody), w)
			}()
			if ft.failed == tc.ok {
				t.Fatalf("check failed = %v for %d %s (%s)", ft.failed, tc.code, tc.body, ft.msg)
			}
		})
	}
}

// fatalRecorder notes a Fatalf instead of ending the test, to test a check.
type fatalRecorder struct {
	testing.TB
	failed bool
	msg    string
}

func (f *fatalRecorder) Helper() {}
func (f *fatalRecorder) Fatalf(format string, args ...any) {
	f.failed = true
	f.msg = fmt.Sprintf(format, args...)
	panic("fatal")
}

// TestOpenAPI_BodyTooLargeOnEveryRoute checks the one client error that the
// routes without parameters describe: a request body over 64 KiB gets 413,
// whatever the method, and the answer matches the description.
func TestOpenAPI_BodyTooLargeOnEveryRoute(t *testing.T) {
	e := newTestServer(t, "sqlite")
	big := strings.Repeat("x", maxBody+1)
	for _, path := range []string{"/api/v1/openapi.json", "/api/v1/roles"} {
		if w := e.do(http.MethodGet, path, strings.NewReader(big)); w.Code != http.StatusRequestEntityTooLarge {
			t.Errorf("GET %s with a %d-byte body: %d, want 413", path, len(big), w.Code)
		}
	}
}
