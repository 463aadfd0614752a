package store_test

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/callbook/callbook/models"
	"github.com/callbook/callbook/store/storetest"
)

// Two first sign-ins of one new person at once, as two replicas may see
// them, both get the one sales user; without create nobody is made.
func TestSingleSignOnUser_CreatesOneSalesUserOnce(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, dialect string) {
		s, _ := mustOpen(t, dialect)
		ctx := context.Background()
		if _, _, err := s.SingleSignOnUser(ctx, "New@Partner.Test", "New Person", false); !errors.Is(err, models.ErrNotFound) {
			t.Fatalf("without create: %v, want ErrNotFound", err)
		}
		var wg sync.WaitGroup
		users := make([]*models.User, 2)
		created := make([]bool, 2)
		errs := make([]error, 2)
		for i := range users {
			wg.Go(func() {
				users[i], created[i], errs[i] = s.SingleSignOnUser(ctx, "New@Partner.Test", "  New   Person ", true)
			})
		}
		wg.Wait()
		for _, err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
		if users[0].ID != users[1].ID || created[0] == created[1] {
			t.Fatalf("want one user created once, got ids %d, %d created %v", users[0].ID, users[1].ID, created)
		}
		u := users[0]
		if u.Email != "new@partner.test" || u.Name != "New Person" || u.Role != models.RoleSales || u.Host || u.PasswordHash == "" {
			t.Fatalf("user %+v", u)
		}
		again, made, err := s.SingleSignOnUser(ctx, "new@partner.test", "", true)
		if err != nil || made || again.ID != u.ID {
			t.Fatalf("the next sign-in: %+v %v %v", again, made, err)
		}
		// No name from the provider: the email's local part.
		bare, _, err := s.SingleSignOnUser(ctx, "Bare@Partner.Test", "", true)
		if err != nil || bare.Name != "bare" {
			t.Fatalf("nameless user: %+v %v", bare, err)
		}
	})
}
