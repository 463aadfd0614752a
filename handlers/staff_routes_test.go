package handlers

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/callbook/callbook/models"
	"github.com/callbook/callbook/store/storetest"
)

// staffRoute is one staff route and a request that exercises it.
type staffRoute struct {
	Method, Pattern string // as registered in routes.go
	Path            string // with ids filled in
	Body            string // JSON for the API, a form for pages
	AdminOnly       bool
}

// staffFixture is what the route table's requests refer to.
type staffFixture struct {
	lead, spareLead, booking, sales, mail, token, host uint
	webhook, spareWebhook, delivery                    uint
	task                                               uint
}

func (e *testEnv) mustStaffFixture(sales *staffer) staffFixture {
	e.t.Helper()
	ctx := context.Background()
	var hooks [2]*models.Webhook
	for i := range hooks {
		w, err := e.store.CreateWebhook(ctx, models.WebhookInput{URL: "https://example.com/hook", Events: []string{"*"}}, nil)
		if err != nil {
			e.t.Fatal(err)
		}
		hooks[i] = w
	}
	lead, booking := e.mustBookLead("ada@example.com", 0, nil)
	spare, _ := e.mustBookLead("bob@example.com", 1, nil)
	var m models.OutboxMessage
	if err := e.store.DB().Order("id").Take(&m).Error; err != nil {
		e.t.Fatal(err)
	}
	_, tok, err := e.store.CreateAPIToken(context.Background(), sales.User.ID, "spare")
	if err != nil {
		e.t.Fatal(err)
	}
	hosts, err := e.store.Hosts(context.Background())
	if err != nil || len(hosts) == 0 {
		e.t.Fatalf("hosts: %v", err)
	}
	var d models.WebhookDelivery
	if err := e.store.DB().Where("webhook_id = ?", hooks[0].ID).Order("id").Take(&d).Error; err != nil {
		e.t.Fatal(err)
	}
	task, err := e.store.AddTask(ctx, lead, "Send the salary guide", "2026-12-10", 0, sales.User)
	if err != nil {
		e.t.Fatal(err)
	}
	return staffFixture{task: task.ID, lead: lead, spareLead: spare, booking: booking, sales: sales.User.ID, mail: m.ID, token: tok.ID, host: hosts[0].ID,
		webhook: hooks[0].ID, spareWebhook: hooks[1].ID, delivery: d.ID}
}

// staffRoutes lists EVERY staff route. The test below fails when routes.go
// registers a staff route that is missing here: add a row for it.
func staffRoutes(f staffFixture) []staffRoute {
	id := func(p string, n uint) string { return strings.Replace(p, ":id", fmt.Sprint(n), 1) }
	avail := url.Values{"host_id": {fmt.Sprint(f.host)}, "duration_minutes": {"30"}, "buffer_minutes": {"0"}, "min_notice_minutes": {"240"},
		"horizon_days": {"30"}, "max_per_day": {"0"}, "mon_start": {"09:00"}, "mon_end": {"17:00"}}.Encode()
	availJSON := `{"duration_minutes":30,"buffer_minutes":0,"min_notice_minutes":240,"horizon_days":30,"max_per_day":0,"weekly":{"mon":[["09:00","17:00"]]},"overrides":[]}`
	return []staffRoute{
		{"GET", "/admin/leads", "/admin/leads?status=new", "", false},
		{"GET", "/admin/leads/:id", id("/admin/leads/:id", f.lead), "", false},
		{"POST", "/admin/leads/:id", id("/admin/leads/:id", f.lead), "status=contacted&owner_id=&recommended_title=SRE", false},
		{"POST", "/admin/leads/:id/notes", id("/admin/leads/:id/notes", f.lead), "body=Called+back", false},
		{"POST", "/admin/leads/:id/tasks", id("/admin/leads/:id/tasks", f.lead), "body=Call+back&due=2026-12-10", false},
		{"POST", "/admin/leads/:id/tasks/:task_id", taskPathOf("/admin", f), "done=true", false},
		{"GET", "/admin/tasks", "/admin/tasks", "", false},
		{"GET", "/admin/calls", "/admin/calls", "", false},
		{"GET", "/admin", "/admin?days=7", "", false},
		{"GET", "/admin/export", "/admin/export?status=new", "", true},
		{"GET", "/api/v1/admin/stats", "/api/v1/admin/stats?from=2026-11-01&to=2026-11-30", "", false},
		{"GET", "/api/v1/admin/leads/export.csv", "/api/v1/admin/leads/export.csv?status=new", "", true},
		{"POST", "/admin/bookings/:id/outcome", id("/admin/bookings/:id/outcome", f.booking), "outcome=completed", false},
		{"POST", "/admin/bookings/:id/host", id("/admin/bookings/:id/host", f.booking), "host_id=999999", false},
		{"POST", "/admin/leads/:id/links", id("/admin/leads/:id/links", f.lead), "call=", false},
		{"GET", "/admin/leads/:id/erase", id("/admin/leads/:id/erase", f.spareLead), "", true},
		{"GET", "/admin/availability", "/admin/availability", "", true},
		{"POST", "/admin/availability", "/admin/availability", avail, true},
		{"GET", "/admin/users", "/admin/users", "", true},
		{"POST", "/admin/users", "/admin/users", "email=new%40example.com&name=New&role=sales&password=short", true},
		{"POST", "/admin/users/:id", id("/admin/users/:id", f.sales), "name=Sally", true},
		{"POST", "/admin/users/:id/password", id("/admin/users/:id/password", f.sales), "password=plum-otter-violin-42&revoke_tokens=no", true},
		{"POST", "/admin/users/:id/sessions/end", "/admin/users/999999/sessions/end", "", true},
		{"POST", "/admin/tokens/:id/revoke", id("/admin/tokens/:id/revoke", f.token), "", true},
		{"GET", "/admin/mail", "/admin/mail?status=pending", "", true},
		{"GET", "/admin/mail/:id", id("/admin/mail/:id", f.mail), "", true},
		{"GET", "/admin/mail/:id/html", id("/admin/mail/:id/html", f.mail), "", true},
		{"POST", "/admin/mail/:id/retry", id("/admin/mail/:id/retry", f.mail), "", true},
		{"POST", "/admin/leads/:id/erase", id("/admin/leads/:id/erase", f.spareLead), "confirm=ERASE", true},

		{"GET", "/api/v1/admin/leads", "/api/v1/admin/leads?limit=10", "", false},
		{"GET", "/api/v1/admin/leads/:id", id("/api/v1/admin/leads/:id", f.lead), "", false},
		{"PATCH", "/api/v1/admin/leads/:id", id("/api/v1/admin/leads/:id", f.lead), `{"status":"qualified"}`, false},
		{"POST", "/api/v1/admin/leads/:id/notes", id("/api/v1/admin/leads/:id/notes", f.lead), `{"body":"note"}`, false},
		{"POST", "/api/v1/admin/leads/:id/tasks", id("/api/v1/admin/leads/:id/tasks", f.lead), `{"body":"Call back","due":"2026-12-10"}`, false},
		{"PATCH", "/api/v1/admin/leads/:id/tasks/:task_id", taskPathOf("/api/v1/admin", f), `{"done":true}`, false},
		{"GET", "/api/v1/admin/tasks", "/api/v1/admin/tasks", "", false},
		{"GET", "/api/v1/admin/bookings", "/api/v1/admin/bookings", "", false},
		{"POST", "/api/v1/admin/bookings/:id/outcome", id("/api/v1/admin/bookings/:id/outcome", f.booking), `{"outcome":"no_show"}`, false},
		{"POST", "/api/v1/admin/bookings/:id/host", id("/api/v1/admin/bookings/:id/host", f.booking), `{"host_id":999999}`, false},
		{"POST", "/api/v1/admin/links", "/api/v1/admin/links", `{"role_slug":"backend-engineer","call":"follow-up"}`, false},
		{"GET", "/api/v1/admin/links", "/api/v1/admin/links", "", false},
		{"DELETE", "/api/v1/admin/links/:id", "/api/v1/admin/links/999999", "", false},
		{"GET", "/api/v1/admin/availability", "/api/v1/admin/availability", "", false},
		{"PUT", "/api/v1/admin/availability", "/api/v1/admin/availability", availJSON, true},
		{"GET", "/api/v1/admin/outbox", "/api/v1/admin/outbox?status=pending", "", true},
		{"GET", "/api/v1/admin/users", "/api/v1/admin/users", "", true},
		{"DELETE", "/api/v1/admin/leads/:id", id("/api/v1/admin/leads/:id", f.lead), "", true},

		// The dashboard, the export and the figures, behind the same middleware.
		{"GET", "/admin", "/admin", "", false},
		{"GET", "/admin/export", "/admin/export", "", true},
		{"GET", "/api/v1/admin/stats", "/api/v1/admin/stats", "", false},
		{"GET", "/api/v1/admin/leads/export.csv", "/api/v1/admin/leads/export.csv?status=new", "", true},

		// Hosts' own calendars and feeds. A sales user may replace only
		// their own feed, so another host's is refused like an admin action.
		{"GET", "/api/v1/admin/hosts/:id/calendars", id("/api/v1/admin/hosts/:id/calendars", f.host), "", true},
		{"PUT", "/api/v1/admin/hosts/:id/calendars", id("/api/v1/admin/hosts/:id/calendars", f.host), `{"calendars":[]}`, true},
		{"POST", "/admin/hosts/:id/calendars", id("/admin/hosts/:id/calendars", f.host), "remove=1", true},
		{"POST", "/admin/hosts/:id/feed", id("/admin/hosts/:id/feed", f.host), "", true},
		{"POST", "/api/v1/admin/hosts/:id/calendars/discover", id("/api/v1/admin/hosts/:id/calendars/discover", f.host), `{"url":""}`, true},
		{"POST", "/admin/hosts/:id/calendars/discover", id("/admin/hosts/:id/calendars/discover", f.host), "url=", true},

		// Webhooks, admin only.
		{"GET", "/admin/webhooks", "/admin/webhooks", "", true},
		{"POST", "/admin/webhooks", "/admin/webhooks", "url=https%3A%2F%2Fexample.com%2Fnew&events=*", true},
		{"GET", "/admin/webhooks/:id", id("/admin/webhooks/:id", f.webhook), "", true},
		{"POST", "/admin/webhooks/:id/enable", id("/admin/webhooks/:id/enable", f.webhook), "", true},
		{"POST", "/admin/webhooks/:id/deliveries/:delivery_id/retry", hookDelivery("/admin", f), "", true},
		{"GET", "/api/v1/admin/webhooks", "/api/v1/admin/webhooks", "", true},
		{"POST", "/api/v1/admin/webhooks", "/api/v1/admin/webhooks", `{"url":"https://example.com/new","events":["booking.created"]}`, true},
		{"GET", "/api/v1/admin/webhooks/:id/deliveries", id("/api/v1/admin/webhooks/:id/deliveries", f.webhook), "", true},
		{"POST", "/api/v1/admin/webhooks/:id/deliveries/:delivery_id/retry", hookDelivery("/api/v1/admin", f), "", true},
		{"POST", "/admin/webhooks/:id/delete", id("/admin/webhooks/:id/delete", f.spareWebhook), "", true},
		{"DELETE", "/api/v1/admin/webhooks/:id", id("/api/v1/admin/webhooks/:id", f.spareWebhook), "", true},

		// Each user's own second factors.
		{"GET", "/admin/security", "/admin/security", "", false},
		{"POST", "/admin/security/totp", "/admin/security/totp", "", false},
		{"POST", "/admin/security/totp/confirm", "/admin/security/totp/confirm", "code=000000", false},
		{"POST", "/admin/security/totp/remove", "/admin/security/totp/remove", "", false},
		{"POST", "/admin/security/recovery-codes", "/admin/security/recovery-codes", "code=000000", false},
		{"POST", "/admin/security/passkeys/options", "/admin/security/passkeys/options", "", false},
		{"POST", "/admin/security/passkeys", "/admin/security/passkeys", "step=x&credential=%7B%7D&name=Key", false},
		{"POST", "/admin/security/passkeys/:id", "/admin/security/passkeys/999999", "name=Key", false},
		{"POST", "/admin/security/passkeys/:id/remove", "/admin/security/passkeys/999999/remove", "", false},
		{"POST", "/admin/security/password", "/admin/security/password", "current_password=wrong&password=x", false},
		{"POST", "/admin/security/sessions/end-others", "/admin/security/sessions/end-others", "", false},
		{"POST", "/admin/security/sessions/:id/end", "/admin/security/sessions/no-such-session/end", "", false},
		// The audit log, admin only.
		{"GET", "/admin/audit", "/admin/audit?action=user.created", "", true},
		{"GET", "/admin/settings", "/admin/settings", "", true},
		{"GET", "/api/v1/admin/audit", "/api/v1/admin/audit?limit=5", "", true},
		{"GET", "/api/v1/admin/audit/export.csv", "/api/v1/admin/audit/export.csv?target_type=lead", "", true},

		{"POST", "/admin/logout", "/admin/logout", "", false}, // last: it ends the session
	}
}

// hookDelivery is the retry path of the fixture's delivery under prefix.
func hookDelivery(prefix string, f staffFixture) string {
	return fmt.Sprintf("%s/webhooks/%d/deliveries/%d/retry", prefix, f.webhook, f.delivery)
}

// send makes the route's request as st (nil: anonymous): the session
// cookie and CSRF token for pages, the bearer token for the API.
func (e *testEnv) send(st *staffer, r staffRoute) (int, string, string) {
	e.t.Helper()
	if strings.HasPrefix(r.Path, "/api/") {
		w := e.api(st, r.Method, r.Path, r.Body)
		return w.Code, location(w), w.Body.String()
	}
	form, err := url.ParseQuery(r.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	w := e.page(st, r.Method, r.Path, form)
	return w.Code, location(w), w.Body.String()
}

func TestStaffRoutes_EveryRouteAnswersAnonymousSalesAndAdminCorrectly(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, dialect string) {
		for _, role := range []string{"anonymous", models.RoleSales, models.RoleAdmin} {
			t.Run(role, func(t *testing.T) {
				e := newTestServer(t, dialect)
				sales := e.mustStaff("sales@example.com", models.RoleSales)
				admin := e.mustStaff("admin@example.com", models.RoleAdmin)
				fx := e.mustStaffFixture(sales)
				who := map[string]*staffer{"anonymous": nil, models.RoleSales: sales, models.RoleAdmin: admin}[role]
				routes := staffRoutes(fx)
				checkEveryStaffRouteListed(t, e, routes)
				for _, r := range routes {
					code, loc, body := e.send(who, r)
					label := r.Method + " " + r.Path
					switch {
					case role == "anonymous" && strings.HasPrefix(r.Path, "/api/"):
						if code != http.StatusUnauthorized || !strings.Contains(body, `"code":"unauthorized"`) {
							t.Errorf("%s: %d %s, want 401 unauthorized", label, code, body)
						}
					case role == "anonymous":
						if code != http.StatusSeeOther || !strings.HasPrefix(loc, "/admin/login?next=") {
							t.Errorf("%s: %d to %q, want 303 to the sign-in page", label, code, loc)
						}
					case role == models.RoleSales && r.AdminOnly:
						if code != http.StatusForbidden {
							t.Errorf("%s: %d, want 403 for sales", label, code)
						}
					default:
						if code == http.StatusUnauthorized || code == http.StatusForbidden || code >= 500 {
							t.Errorf("%s as %s: %d %.200s", label, role, code, body)
						}
					}
				}
			})
		}
	})
}

// checkEveryStaffRouteListed fails when a staff route is registered but
// not in the table, so a new route cannot skip the access checks.
func checkEveryStaffRouteListed(t *testing.T, e *testEnv, routes []staffRoute) {
	t.Helper()
	listed := map[string]bool{}
	for _, r := range routes {
		listed[r.Method+" "+r.Pattern] = true
	}
	for _, ri := range e.srv.engine.Routes() {
		staff := strings.HasPrefix(ri.Path, "/admin") || strings.HasPrefix(ri.Path, "/api/v1/admin")
		// The sign-in steps (password, code, passkey, the identity
		// provider) come before a session and are open to everyone.
		signIn := ri.Path == "/admin/login" || strings.HasPrefix(ri.Path, "/admin/login/") || strings.HasPrefix(ri.Path, "/admin/oidc/")
		if !staff || signIn || listed[ri.Method+" "+ri.Path] {
			continue
		}
		t.Errorf("staff route %s %s is not in staffRoutes: add a row so its access is tested", ri.Method, ri.Path)
	}
}

// taskPathOf is the fixture task's path under prefix.
func taskPathOf(prefix string, f staffFixture) string {
	return fmt.Sprintf("%s/leads/%d/tasks/%d", prefix, f.lead, f.task)
}
