package handlers

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/callbook/callbook/models"
)

// The settings page shows the policies the server runs with, for admins.
func TestAdminSettings_ShowsThePoliciesInForce(t *testing.T) {
	next := time.Date(2026, 12, 8, 3, 30, 0, 0, time.UTC)
	e := newTestServer(t, "sqlite", func(o *Options) {
		o.Require2FA = models.Require2FAAdmins
		o.Retention = Retention{Audit: 90 * 24 * time.Hour, Leads: 730 * 24 * time.Hour, NextRun: func() time.Time { return next }}
		o.NoMailServer = true
	})
	admin := e.mustStaff("admin@example.com", models.RoleAdmin)
	sales := e.mustStaff("sam@example.com", models.RoleSales)
	e.enrolTOTP(admin) // the policy asks it of admins before anything else
	if w := e.page(sales, http.MethodGet, "/admin/settings", nil); w.Code != http.StatusForbidden {
		t.Fatalf("sales: %d, want 403", w.Code)
	}
	w := e.page(admin, http.MethodGet, "/admin/settings", nil)
	body := w.Body.String()
	for _, want := range []string{
		"required of admins", "Single sign-on: off", "kept for 90 days", "for 730 days", `datetime="` + next.In(e.store.Location()).Format(time.RFC3339),
		"no mail server is set", "<code>en</code>",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("the settings page lacks %q", want)
		}
	}
	if w.Code != http.StatusOK || !strings.Contains(body, `href="/admin/settings" aria-current="page"`) {
		t.Fatalf("settings page: %d", w.Code)
	}
}
