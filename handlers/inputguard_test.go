package handlers

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/callbook/callbook/models"
	"github.com/callbook/callbook/store/storetest"
)

// hostileText are values no database here can take as text: NUL
// characters and bytes that are not UTF-8, percent-encoded as a client
// would send them.
var hostileText = []string{"%00", "a%00b", "%ff%fe", "k%c3%28", "%ed%a0%80"}

// TestHostileText_RefusedWith400OnEveryDatabase sends NUL characters and
// bytes that are not UTF-8 in queries, forms, headers and JSON bodies, to
// the public pages, the booking API, the staff list, the export and the
// dashboard: every one is a 400 (the contract's error shape under /api/),
// never a server error, on SQLite and PostgreSQL.
func TestHostileText_RefusedWith400OnEveryDatabase(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, dialect string) {
		e := newTestServer(t, dialect)
		admin := e.mustStaff("admin@callbook.test", models.RoleAdmin)
		slot := e.firstSlots(1, "UTC")[0]
		cookie := []string{"Cookie", sessionCookie + "=" + admin.Cookie}
		bearer := []string{"Authorization", "Bearer " + admin.Token}
		type request struct {
			method, path, body string
			headers            []string
		}
		form := func(path, fields string, headers ...string) request {
			return request{http.MethodPost, path, fields, append([]string{
				"Content-Type", "application/x-www-form-urlencoded", "Sec-Fetch-Site", "same-origin"}, headers...)}
		}
		get := func(path string, headers ...string) request { return request{http.MethodGet, path, "", headers} }
		cases := map[string]func(v string) request{
			"staff list q":             func(v string) request { return get("/admin/leads?q="+v, cookie...) },
			"staff list target_title":  func(v string) request { return get("/admin/leads?target_title="+v, cookie...) },
			"staff list role_slug":     func(v string) request { return get("/admin/leads?role_slug="+v, cookie...) },
			"API lead list q":          func(v string) request { return get("/api/v1/admin/leads?q="+v, bearer...) },
			"API lead list role_slug":  func(v string) request { return get("/api/v1/admin/leads?role_slug="+v, bearer...) },
			"export q":                 func(v string) request { return get("/admin/export?q="+v, cookie...) },
			"API export target_title":  func(v string) request { return get("/api/v1/admin/leads/export.csv?target_title="+v, bearer...) },
			"dashboard target_title":   func(v string) request { return get("/admin?target_title="+v, cookie...) },
			"API stats target_title":   func(v string) request { return get("/api/v1/admin/stats?target_title="+v, bearer...) },
			"API calls":                func(v string) request { return get("/api/v1/admin/bookings?status="+v, bearer...) },
			"slots tz":                 func(v string) request { return get("/api/v1/slots?tz=" + v) },
			"booking page ref":         func(v string) request { return get("/roles/backend-engineer/book?ref=" + v) },
			"booking page in the path": func(v string) request { return get("/bookings/" + v) },
			"login email": func(v string) request {
				return form("/admin/login", "email=a"+v+"@callbook.test&password=x")
			},
			"login password": func(v string) request {
				return form("/admin/login", "email=admin@callbook.test&password="+v)
			},
			"booking form field": func(v string) request {
				return form("/roles/backend-engineer/book", "name="+v+"&email=ada@example.com&start="+url.QueryEscape(slot))
			},
			"cancel form reason": func(v string) request { return form("/bookings/nope/cancel", "reason="+v) },
			"staff form note": func(v string) request {
				return form("/admin/leads/1/notes", "body="+v+"&"+csrfField+"="+admin.CSRF, cookie...)
			},
			"idempotency key": func(v string) request {
				raw, _ := url.QueryUnescape(v)
				return request{http.MethodPost, "/api/v1/bookings", jsonOf(t, bookingBody("ada@example.com", slot)),
					[]string{"Content-Type", "application/json", "Idempotency-Key", "k" + raw}}
			},
			"referrer header": func(v string) request {
				raw, _ := url.QueryUnescape(v)
				return get("/roles/backend-engineer/book", "Referer", "https://example.com/"+raw)
			},
		}
		for name, mk := range cases {
			for _, v := range hostileText {
				r := mk(v)
				if strings.Contains(strings.Join(r.headers, ""), "\x00") {
					continue // no HTTP server lets a NUL through in a header
				}
				w := e.do(r.method, r.path, strings.NewReader(r.body), r.headers...)
				if w.Code != http.StatusBadRequest {
					t.Errorf("%s = %s: %d, want 400\n%.300s", name, v, w.Code, w.Body)
					continue
				}
				if strings.HasPrefix(r.path, "/api/") && decode[errorJSON](t, w).Error.Code != "bad_request" {
					t.Errorf("%s = %s: %s, want the bad_request error", name, v, w.Body)
				}
			}
		}
		// A NUL written as a JSON escape survives decoding: the field rules
		// refuse it, 422 naming the field.
		for _, r := range []struct{ method, path, body, field string }{
			{http.MethodPost, "/api/v1/bookings", strings.Replace(jsonOf(t, bookingBody("ada@example.com", slot)), `"Ada Lovelace"`, `"Ada\u0000"`, 1), "name"},
			{http.MethodPost, "/api/v1/bookings", strings.Replace(jsonOf(t, bookingBody("ada@example.com", slot)), `"google"`, `"g\u0000"`, 1), "utm.source"},
			{http.MethodPost, "/api/v1/bookings", strings.Replace(jsonOf(t, bookingBody("ada@example.com", slot)), `"1-2"`, `"\u0000"`, 1), "answers.experience"},
			{http.MethodPost, "/api/v1/bookings", strings.Replace(jsonOf(t, bookingBody("ada@example.com", slot)), `"https://example.com/roles/backend-engineer"`, `"https://example.com/\u0000"`, 1), "referrer"},
			{http.MethodPost, "/api/v1/bookings", strings.Replace(jsonOf(t, bookingBody("ada@example.com", slot)), `"cpc"`, `"cpc\u0000"`, 1), "utm.medium"},
			{http.MethodPost, "/api/v1/bookings", strings.Replace(jsonOf(t, bookingBody("ada@example.com", slot)), `"Hello"`, `"Hello\u0000"`, 1), "message"},
			{http.MethodPatch, "/api/v1/admin/leads/1", `{"recommended_title": "x\u0000"}`, "recommended_title"},
			{http.MethodPost, "/api/v1/admin/leads/1/notes", `{"body": "\u0000"}`, "body"},
			{http.MethodPost, "/api/v1/admin/webhooks", `{"url": "https://example.com/\u0000", "events": ["*"]}`, "url"},
			{http.MethodPut, "/api/v1/admin/hosts/1/calendars", `{"calendars": [{"url": "https://example.com/\u0000.ics"}]}`, "calendars[0].url"},
		} {
			w := e.do(r.method, r.path, strings.NewReader(r.body), append([]string{"Content-Type", "application/json"}, bearer...)...)
			ej := decode[errorJSON](t, w)
			if w.Code != http.StatusUnprocessableEntity || ej.Error.Code != "validation_failed" || ej.Error.Fields[r.field] == "" {
				t.Errorf("%s %s with a NUL in %s: %d %s, want 422 naming it", r.method, r.path, r.field, w.Code, w.Body)
			}
		}
		// Ordinary text beyond ASCII still passes.
		if w := e.page(admin, http.MethodGet, "/admin/leads?q="+url.QueryEscape("Zoë Ångström"), nil); w.Code != http.StatusOK {
			t.Errorf("a search for accented letters: %d", w.Code)
		}
		if w := e.postJSON("/api/v1/bookings", bookingBody("zoë@example.com", slot), "Idempotency-Key", "key-1"); w.Code != http.StatusCreated {
			t.Errorf("a booking with accented letters: %d %s", w.Code, w.Body)
		}
	})
}

// TestLogin_BodyCutShortIsBadRequest posts a sign-in whose body stops
// before its end: 400, as for every other form, not a server error.
func TestLogin_BodyCutShortIsBadRequest(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, dialect string) {
		e := newTestServer(t, dialect)
		e.mustStaff("admin@callbook.test", models.RoleAdmin)
		body := io.MultiReader(strings.NewReader("email=admin%40callbook.test&pass"), iotest.ErrReader(io.ErrUnexpectedEOF))
		w := e.do(http.MethodPost, "/admin/login", body,
			"Content-Type", "application/x-www-form-urlencoded", "Sec-Fetch-Site", "same-origin")
		if w.Code != http.StatusBadRequest {
			t.Fatalf("a sign-in cut short: %d, want 400\n%.300s", w.Code, w.Body)
		}
	})
}

func jsonOf(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
