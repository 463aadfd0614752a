package store_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"

	"golang.org/x/crypto/bcrypt"

	"github.com/callbook/callbook/models"
	"github.com/callbook/callbook/store"
	"github.com/callbook/callbook/store/storetest"
)

// staffPassword and staffHash are a password and its bcrypt hash (cost 12),
// so tests can create users without paying for a hash each time.
const (
	staffPassword = "staff-test-password-42"
	staffHash     = "$2a$12$WElekM8AKepQdBZCYpA/OunH4ZPyydqHvyBpuvwwPiq7sWVVa0Hsa"
)

// mustStaffUser inserts an enabled staff user who signs in with staffPassword.
func mustStaffUser(t testing.TB, s *store.Store, email, role string) *models.User {
	t.Helper()
	u := &models.User{Email: email, Name: strings.Split(email, "@")[0], Role: role, PasswordHash: staffHash, WeeklyJSON: "{}"}
	if err := s.DB().Create(u).Error; err != nil {
		t.Fatal(err)
	}
	return u
}

func fieldError(err error, field string) string {
	var ve *models.ValidationError
	if errors.As(err, &ve) {
		return ve.Fields[field]
	}
	return ""
}

func TestCheckPassword_RefusesWeakPasswords(t *testing.T) {
	cases := []struct {
		pw   string
		want string // part of the message; "" means accepted
	}{
		{"short-pw", "at least 12"},
		{"ελληνικά123", "at least 12"}, // 11 characters, more bytes
		{strings.Repeat("long enough words ", 5), "at most 72 bytes"},
		{"passwordpassword", "commonly used"},
		{"Password1234", "commonly used"},
		{"sunshine2024!!", "commonly used"},
		{"mercedes2024!", "commonly used"},
		{"mailcreated5240", "commonly used"},
		{"correct horse battery staple", "commonly used"},
		{"qwertyuiopasdf", "commonly used"},
		{"abcdefghijklmn", "sequence"},
		{"9876543210987", "sequence"},
		{"aaaaaaaaaaaaaaaa", "too few"},
		{"abababababababab", "too few"},
		{"ana.souza-secure-1", "email address or name"},
		{"two\nlines-password", "line breaks"},
		{"Call-Book admin 2026", "name of this service"},
		{"my discovery call pw", "name of this service"},
		{"career coach, always", "name of this service"},
		{"plum-otter-violin-42", ""},
		{"Grüne Äpfel im Regen", ""},
	}
	for _, c := range cases {
		err := models.CheckPassword(c.pw, "ana.souza@example.com", "Ana Souza")
		got := fieldError(err, "password")
		if c.want == "" && err != nil {
			t.Errorf("%q refused: %v", c.pw, err)
		}
		if c.want != "" && !strings.Contains(got, c.want) {
			t.Errorf("%q: got %q, want a message with %q", c.pw, got, c.want)
		}
	}
}

func TestCreateUser_StoresOnlyABcryptHashAndRefusesDuplicates(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, dialect string) {
		t.Parallel()
		s, _ := mustOpen(t, dialect)
		ctx := context.Background()
		u, err := s.CreateUser(ctx, models.NewUser{Email: " Ana@Example.com ", Name: "Ana", Role: models.RoleSales, Host: true, Password: "plum-otter-violin-42"})
		if err != nil {
			t.Fatal(err)
		}
		got, err := s.UserByEmail(ctx, "ANA@example.com")
		if err != nil || got.ID != u.ID || got.Email != "ana@example.com" {
			t.Fatalf("lookup: %+v %v", got, err)
		}
		if strings.Contains(got.PasswordHash, "plum") {
			t.Fatal("password stored in clear")
		}
		if cost, err := bcrypt.Cost([]byte(got.PasswordHash)); err != nil || cost < 12 {
			t.Fatalf("bcrypt cost %d (%v), want at least 12", cost, err)
		}
		if bcrypt.CompareHashAndPassword([]byte(got.PasswordHash), []byte("plum-otter-violin-42")) != nil {
			t.Fatal("hash does not match the password")
		}
		if !got.Host || got.WeeklyJSON == "{}" {
			t.Fatalf("a new host needs default hours, got %q", got.WeeklyJSON)
		}
		_, err = s.CreateUser(ctx, models.NewUser{Email: "ana@example.com", Name: "Ana 2", Role: models.RoleSales, Password: "plum-otter-violin-42"})
		if fieldError(err, "email") == "" {
			t.Fatalf("duplicate email: %v", err)
		}
		_, err = s.CreateUser(ctx, models.NewUser{Email: "bo@example.com", Name: "Bo", Role: "owner", Password: "password1234"})
		if fieldError(err, "role") == "" || fieldError(err, "password") == "" {
			t.Fatalf("want role and password errors, got %v", err)
		}
	})
}

func TestUpdateUser_KeepsAnAdminAndDisablingEndsAccess(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, dialect string) {
		s, _ := mustOpen(t, dialect)
		ctx := context.Background()
		admin := mustStaffUser(t, s, "admin@example.com", models.RoleAdmin)
		sales := mustStaffUser(t, s, "sales@example.com", models.RoleSales)
		yes, sales2 := true, models.RoleSales

		if _, err := s.UpdateUser(ctx, admin.ID, models.UserChange{Disabled: &yes}, admin); fieldError(err, "disabled") == "" {
			t.Fatalf("admin disabled themselves: %v", err)
		}
		if _, err := s.UpdateUser(ctx, admin.ID, models.UserChange{Role: &sales2}, sales); fieldError(err, "role") == "" {
			t.Fatalf("last admin demoted: %v", err)
		}
		sess, err := s.CreateSession(ctx, sales, "192.0.2.1", "test")
		if err != nil {
			t.Fatal(err)
		}
		token, _, err := s.CreateAPIToken(ctx, sales.ID, "crm sync")
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := s.SessionUser(ctx, sess.Token); err != nil {
			t.Fatalf("session before disabling: %v", err)
		}
		got, err := s.UpdateUser(ctx, sales.ID, models.UserChange{Disabled: &yes, Host: &yes}, admin)
		if err != nil || !got.Disabled || !got.Host || got.WeeklyJSON == "{}" {
			t.Fatalf("disable: %+v %v", got, err)
		}
		if _, _, err := s.SessionUser(ctx, sess.Token); !errors.Is(err, models.ErrNotFound) {
			t.Fatalf("disabled user's session still works: %v", err)
		}
		if _, err := s.UserByAPIToken(ctx, token); !errors.Is(err, models.ErrNotFound) {
			t.Fatalf("disabled user's token still works: %v", err)
		}
		var ev models.Event
		if err := s.DB().Where("type = ?", "user.updated").Order("id DESC").Take(&ev).Error; err != nil ||
			ev.Actor != models.ActorUser(admin) || !strings.Contains(ev.Data, `"disabled":true`) {
			t.Fatalf("event: %+v %v", ev, err)
		}
		if _, err := s.UpdateUser(ctx, 9999, models.UserChange{Host: &yes}, admin); !errors.Is(err, models.ErrNotFound) {
			t.Fatalf("unknown user: %v", err)
		}
	})
}

func TestEnsureFirstAdmin_CreatesOneOnlyWhenNoAdminExists(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, dialect string) {
		t.Parallel()
		s, _ := mustOpen(t, dialect)
		ctx := context.Background()
		if _, err := s.EnsureFirstAdmin(ctx, "boss@example.com", "short"); fieldError(err, "password") == "" {
			t.Fatalf("weak password accepted: %v", err)
		}
		created, err := s.EnsureFirstAdmin(ctx, "boss@example.com", "plum-otter-violin-42")
		if err != nil || !created {
			t.Fatalf("first admin: %v %v", created, err)
		}
		u, err := s.UserByEmail(ctx, "boss@example.com")
		if err != nil || u.Role != models.RoleAdmin || u.Host {
			t.Fatalf("admin: %+v %v", u, err)
		}
		created, err = s.EnsureFirstAdmin(ctx, "other@example.com", "plum-otter-violin-42")
		if err != nil || created {
			t.Fatalf("second call created an admin: %v %v", created, err)
		}
	})
}

// Replicas started together with CALLBOOK_ADMIN_EMAIL and
// CALLBOOK_ADMIN_PASSWORD all ask at once: exactly one creates the admin,
// and none fails.
func TestEnsureFirstAdmin_ConcurrentCallsCreateExactlyOneAdmin(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, dialect string) {
		t.Parallel()
		s, _ := mustOpen(t, dialect)
		ctx := context.Background()
		const callers = 4
		var wg sync.WaitGroup
		var mu sync.Mutex
		created, errs := 0, []error{}
		for range callers {
			wg.Go(func() {
				ok, err := s.EnsureFirstAdmin(ctx, "boss@example.com", "plum-otter-violin-42")
				mu.Lock()
				defer mu.Unlock()
				if ok {
					created++
				}
				if err != nil {
					errs = append(errs, err)
				}
			})
		}
		wg.Wait()
		if len(errs) > 0 || created != 1 {
			t.Fatalf("%d of %d calls created the admin; errors: %v", created, callers, errs)
		}
		var admins int64
		if err := s.DB().Model(&models.User{}).Where("role = ?", models.RoleAdmin).Count(&admins).Error; err != nil || admins != 1 {
			t.Fatalf("%d admins, want 1 (%v)", admins, err)
		}
	})
}
