package store_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/callbook/callbook/models"
	"github.com/callbook/callbook/store"
	"github.com/callbook/callbook/store/storetest"
)

// signInBurst sends n sign-ins for email at once, each from its own
// address, and sorts the answers: checked (the password was compared) or
// throttled. Any other error fails the test.
func signInBurst(t *testing.T, s *store.Store, email string, passwords []string) (checked, throttled, signedIn int) {
	t.Helper()
	var wg sync.WaitGroup
	errs := make([]error, len(passwords))
	for i, pw := range passwords {
		wg.Go(func() {
			_, errs[i] = s.Authenticate(context.Background(), email, pw, fmt.Sprintf("198.51.100.%d", i))
		})
	}
	wg.Wait()
	for _, err := range errs {
		var te *models.ThrottledError
		switch {
		case err == nil:
			checked++
			signedIn++
		case errors.Is(err, models.ErrBadCredentials):
			checked++
		case errors.As(err, &te):
			throttled++
		default:
			t.Fatalf("sign-in: %v", err)
		}
	}
	return checked, throttled, signedIn
}

func TestAuthenticate_ConcurrentGuessesAreCountedBeforeTheirPasswordIsChecked(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, dialect string) {
		s, _ := mustOpen(t, dialect)
		mustStaffUser(t, s, "ana@example.com", models.RoleSales)
		wrong := make([]string, 40)
		for i := range wrong {
			wrong[i] = fmt.Sprintf("wrong-guess-%d", i)
		}
		checked, throttled, _ := signInBurst(t, s, "ana@example.com", wrong)
		if checked != models.MaxAccountFailures || throttled != 40-models.MaxAccountFailures {
			t.Errorf("40 simultaneous wrong passwords: %d checked, %d throttled; want %d checked", checked, throttled, models.MaxAccountFailures)
		}
		// The limit is hit: even the right password is not checked now.
		_, err := s.Authenticate(context.Background(), "ana@example.com", staffPassword, "192.0.2.77")
		var te *models.ThrottledError
		if !errors.As(err, &te) {
			t.Errorf("the right password after the burst: %v, want throttled", err)
		}
	})
}

func TestAuthenticate_ARightPasswordAmongABurstIsOneOfTheFewChecked(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, dialect string) {
		s, _ := mustOpen(t, dialect)
		mustStaffUser(t, s, "bo@example.com", models.RoleSales)
		guesses := make([]string, 41)
		for i := range guesses {
			guesses[i] = fmt.Sprintf("wrong-guess-%d", i)
		}
		guesses[20] = staffPassword
		checked, _, signedIn := signInBurst(t, s, "bo@example.com", guesses)
		// A success clears the account's failures, so up to the limit may
		// be checked before it and up to the limit after it.
		if limit := models.MaxAccountFailures; checked > limit && !(signedIn == 1 && checked <= 2*limit) {
			t.Errorf("41 simultaneous sign-ins: %d checked (signed in: %d), want at most %d", checked, signedIn, limit)
		}
	})
}
