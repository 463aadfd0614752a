package handlers

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/callbook/callbook/models"
	"github.com/callbook/callbook/store"
)

func TestAdminSetPassword_AsksWhetherTheUsersTokensAreRevoked(t *testing.T) {
	e := newTestServer(t, store.DialectSQLite)
	admin := e.mustStaff("admin@callbook.test", models.RoleAdmin)
	keep := e.mustStaff("keep@callbook.test", models.RoleSales)
	gone := e.mustStaff("gone@callbook.test", models.RoleSales)

	page := e.page(admin, http.MethodGet, "/admin/users", nil).Body.String()
	for _, want := range []string{`action="/admin/users/` + itoa(int(keep.User.ID)) + `/password"`, "Their API tokens (1 live)",
		`name="revoke_tokens" value="yes"`, `name="revoke_tokens" value="no" required`} {
		if !strings.Contains(page, want) {
			t.Errorf("users page lacks %q", want)
		}
	}
	set := func(st *staffer, choice string) int {
		form := url.Values{"password": {"plum-otter-violin-42"}}
		if choice != "" {
			form.Set("revoke_tokens", choice)
		}
		return e.page(admin, http.MethodPost, "/admin/users/"+itoa(int(st.User.ID))+"/password", form).Code
	}
	if code := set(keep, ""); code != http.StatusUnprocessableEntity {
		t.Fatalf("without an answer about tokens: %d, want 422", code)
	}
	if _, err := e.store.Authenticate(t.Context(), keep.User.Email, "plum-otter-violin-42", "192.0.2.50"); err == nil {
		t.Fatal("the password changed without an answer about tokens")
	}
	if code := set(keep, "no"); code != http.StatusSeeOther {
		t.Fatalf("keep tokens: %d", code)
	}
	if code := set(gone, "yes"); code != http.StatusSeeOther {
		t.Fatalf("revoke tokens: %d", code)
	}
	for _, c := range []struct {
		st        *staffer
		tokenWant int
	}{{keep, http.StatusOK}, {gone, http.StatusUnauthorized}} {
		if code := e.api(c.st, http.MethodGet, "/api/v1/admin/leads", "").Code; code != c.tokenWant {
			t.Errorf("%s's API token after the change: %d, want %d", c.st.User.Email, code, c.tokenWant)
		}
		if code := e.page(c.st, http.MethodGet, "/admin/leads", nil).Code; code != http.StatusSeeOther {
			t.Errorf("%s's session after the change: %d, want signed out (303)", c.st.User.Email, code)
		}
		if _, err := e.store.Authenticate(t.Context(), c.st.User.Email, "plum-otter-violin-42", "192.0.2.50"); err != nil {
			t.Errorf("%s cannot sign in with the new password: %v", c.st.User.Email, err)
		}
	}
}
