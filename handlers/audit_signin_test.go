package handlers

import (
	"net/http"
	"strings"
	"testing"

	"github.com/callbook/callbook/models"
)

// TestAudit_SingleSignOnsAndTheirRefusalsAreAudited signs one staff user
// in through the identity provider and refuses another, disabled: the log
// has the sign-in with its method and the refusal with its reason.
func TestAudit_SingleSignOnsAndTheirRefusalsAreAudited(t *testing.T) {
	e := newSSOEnv(t, true, func(s *SSOSettings) { s.Domains = []string{"firm.test"} })
	ana := e.mustStaff("ana@firm.test", models.RoleSales)
	dora := e.mustStaff("dora@firm.test", models.RoleAdmin)
	if err := e.store.DB().Model(dora.User).Update("disabled", true).Error; err != nil {
		t.Fatal(err)
	}
	b := newBrowser(t)
	if p := b.get(e.toCallback(b, "ana", "/admin/leads")); p.status != http.StatusOK || !e.signedIn(b) {
		t.Fatalf("not signed in: %d", p.status)
	}
	b2 := newBrowser(t)
	e.mustRefused(b2, b2.get(e.toCallback(b2, "dora", "/admin")), http.StatusUnauthorized, "is disabled")

	var rows []models.AuditEntry
	if err := e.store.DB().Where("action IN ?", []string{models.AuditSignInSucceeded, models.AuditSignInFailed}).
		Order("id").Find(&rows).Error; err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range rows {
		if r.ActorID != nil && (*r.ActorID == ana.User.ID || *r.ActorID == dora.User.ID) && r.ActorEmail != "" && r.IP != "" {
			got = append(got, r.Action+" "+r.ActorEmail+" "+r.Details)
		}
	}
	want := []string{
		`signin.succeeded ana@firm.test {"method":"sso"}`,
		`signin.failed dora@firm.test {"reason":"sso_disabled"}`,
	}
	// mustStaff's own sessions come first.
	if len(got) < 2 || strings.Join(got[len(got)-2:], "\n") != strings.Join(want, "\n") {
		t.Errorf("sign-in entries:\n%s\nwant them to end with:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
