package handlers

import (
	"fmt"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/callbook/callbook/calendars/radicaletest"
	"github.com/callbook/callbook/models"
	"github.com/callbook/callbook/store"
)

// mustAccount starts Radicale with ana's Work and Personal calendars and
// a to-do list.
func mustAccount(t *testing.T) *radicaletest.Server {
	r := radicaletest.Start(t)
	r.MakeCalendar("/ana/work/", "Work", "VEVENT")
	r.MakeCalendar("/ana/personal/", "Personal <home>", "VEVENT")
	r.MakeCalendar("/ana/tasks/", "Tasks", "VTODO")
	return r
}

func TestDiscoverCalendarsAPI_ListsTheAccountsCalendars(t *testing.T) {
	e, _ := newCalendarServer(t, store.DialectSQLite)
	admin := e.mustStaff("admin@example.com", models.RoleAdmin)
	sales := e.mustStaff("sales@example.com", models.RoleSales)
	host := itoa(int(e.defaultHostID()))
	r := mustAccount(t)
	path := "/api/v1/admin/hosts/" + host + "/calendars/discover"
	body := fmt.Sprintf(`{"url": %q, "username": %q, "password": %q}`, r.URL+"/", r.Username, r.Password)

	w := e.api(admin, http.MethodPost, path, body)
	if w.Code != http.StatusOK {
		t.Fatalf("discover: %d %s", w.Code, w.Body.String())
	}
	got := decode[struct {
		Calendars []models.FoundCalendar `json:"calendars"`
	}](t, w).Calendars
	want := []models.FoundCalendar{{URL: r.URL + "/ana/personal/", Name: "Personal <home>"}, {URL: r.URL + "/ana/work/", Name: "Work"}}
	if len(got) != 2 || got[0] != want[0] || got[1] != want[1] {
		t.Fatalf("calendars = %+v, want %+v", got, want)
	}
	if strings.Contains(w.Body.String(), r.Password) {
		t.Fatal("the answer shows the password")
	}
	checks := []struct {
		who    *staffer
		path   string
		body   string
		status int
		field  string
	}{
		{nil, path, body, http.StatusUnauthorized, ""},
		{sales, path, body, http.StatusForbidden, ""},
		{admin, "/api/v1/admin/hosts/999/calendars/discover", body, http.StatusNotFound, ""},
		{admin, path, `{"url": ""}`, http.StatusUnprocessableEntity, "url"},
		{admin, path, `{"url": "ftp://dav.example.com/"}`, http.StatusUnprocessableEntity, "url"},
		{admin, path, fmt.Sprintf(`{"url": %q, "username": "ana", "password": "wrong"}`, r.URL), http.StatusUnprocessableEntity, "url"},
		{admin, path, `{"url": 7}`, http.StatusBadRequest, ""},
	}
	for _, c := range checks {
		w := e.api(c.who, http.MethodPost, c.path, c.body)
		if w.Code != c.status {
			t.Errorf("%s %s: %d, want %d (%s)", c.path, c.body, w.Code, c.status, w.Body.String())
			continue
		}
		if c.field != "" {
			if ej := decode[errorJSON](t, w); ej.Error.Fields[c.field] == "" {
				t.Errorf("%s: no error on %s: %s", c.body, c.field, w.Body.String())
			}
		}
	}
}

// TestAvailabilityPage_FindCalendarsWithoutJavaScript: the "Find
// calendars" button is a plain form post; the page comes back with the
// account's calendars to pick from, and picking one adds and reads it.
func TestAvailabilityPage_FindCalendarsWithoutJavaScript(t *testing.T) {
	e, _ := newCalendarServer(t, store.DialectSQLite)
	admin := e.mustStaff("admin@example.com", models.RoleAdmin)
	host := itoa(int(e.defaultHostID()))
	r := mustAccount(t)

	page := e.page(admin, http.MethodGet, "/admin/availability?host_id="+host, nil).Body.String()
	if !strings.Contains(page, `formaction="/admin/hosts/`+host+`/calendars/discover"`) || !strings.Contains(page, "Find calendars") {
		t.Fatal("the availability page has no Find calendars button")
	}
	w := e.page(admin, http.MethodPost, "/admin/hosts/"+host+"/calendars/discover",
		url.Values{"kind": {"caldav"}, "url": {r.URL + "/ana/"}, "username": {r.Username}, "password": {r.Password}})
	if w.Code != http.StatusOK || w.Header().Get("Cache-Control") != "no-store" {
		t.Fatalf("find: %d (Cache-Control %q), want the page with the calendars", w.Code, w.Header().Get("Cache-Control"))
	}
	body := w.Body.String()
	choices := regexp.MustCompile(`<input type="radio" id="found-\d+" name="url" value="([^"]+)"`).FindAllStringSubmatch(body, -1)
	if len(choices) != 2 || html.UnescapeString(choices[1][1]) != r.URL+"/ana/work/" ||
		!strings.Contains(body, "Personal &lt;home&gt;") || strings.Contains(body, "Tasks") {
		t.Fatalf("choices %v, want Personal and Work (escaped), not the to-do list", choices)
	}
	// Pick Work: the form carries kind, user name and password along.
	form := url.Values{"url": {r.URL + "/ana/work/"}}
	for _, name := range []string{"csrf_token", "kind", "username", "password"} {
		form.Set(name, html.UnescapeString(regexpFind(t, body, `<form method="post" action="/admin/hosts/`+host+`/calendars" id="found-calendars">(?s:.*?)name="`+name+`" value="([^"]*)"`)))
	}
	w = e.page(admin, http.MethodPost, "/admin/hosts/"+host+"/calendars", form)
	if w.Code != http.StatusSeeOther {
		t.Fatalf("add the chosen calendar: %d %s", w.Code, w.Body.String())
	}
	srcs, err := e.store.HostCalendars(t.Context(), e.defaultHostID())
	if err != nil || len(srcs) != 1 || srcs[0].URL != r.URL+"/ana/work/" || srcs[0].Kind != "caldav" || !srcs[0].HasCredentials ||
		srcs[0].LastError != nil || srcs[0].LastSyncedAt == nil {
		t.Fatalf("sources after picking: %+v %v", srcs, err)
	}

	// A wrong password comes back beside the address, the password cleared.
	w = e.page(admin, http.MethodPost, "/admin/hosts/"+host+"/calendars/discover",
		url.Values{"url": {r.URL}, "username": {r.Username}, "password": {"wrong-password"}})
	if w.Code != http.StatusUnprocessableEntity || !strings.Contains(w.Body.String(), `id="cal-url-error"`) ||
		!strings.Contains(w.Body.String(), "401") || strings.Contains(w.Body.String(), "wrong-password") {
		t.Fatalf("wrong password: %d, want the error beside the address", w.Code)
	}
}
