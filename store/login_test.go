package store_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"golang.org/x/crypto/bcrypt"

	"github.com/callbook/callbook/models"
	"github.com/callbook/callbook/store"
	"github.com/callbook/callbook/store/storetest"
)

// signIn is one sign-in of a burst: a password from an address.
type signIn struct{ password, ip string }

// signInBurst sends the sign-ins for email all at once and sorts the
// answers: checked (the password was compared; signedIn when it matched)
// or throttled. Any other error fails the test.
func signInBurst(t *testing.T, s *store.Store, email string, tries []signIn) (checked, throttled, signedIn int) {
	t.Helper()
	var wg sync.WaitGroup
	errs := make([]error, len(tries))
	for i, try := range tries {
		wg.Go(func() {
			_, errs[i] = s.Authenticate(context.Background(), email, try.password, try.ip)
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

// wrongGuesses are n wrong passwords, from ip(i).
func wrongGuesses(n int, ip func(i int) string) []signIn {
	out := make([]signIn, n)
	for i := range out {
		out[i] = signIn{fmt.Sprintf("wrong-guess-%d", i), ip(i)}
	}
	return out
}

// fastPasswordUser is a staff user whose password hash has bcrypt's least
// cost, so a test may check many guesses without waiting on bcrypt.
func fastPasswordUser(t *testing.T, s *store.Store, email string) {
	t.Helper()
	u := mustStaffUser(t, s, email, models.RoleSales)
	hash, err := bcrypt.GenerateFromPassword([]byte(staffPassword), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.DB().Model(u).Update("password_hash", string(hash)).Error; err != nil {
		t.Fatal(err)
	}
}

func TestAuthenticate_GuessesFromOneAddressAreThrottledWhileTheOwnerElsewhereSignsIn(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, dialect string) {
		s, _ := mustOpen(t, dialect)
		mustStaffUser(t, s, "ana@example.com", models.RoleSales)
		const guesser, owner = "198.51.100.66", "203.0.113.7"
		// Thirty wrong guesses from one address and the owner's right
		// password from another, all at once.
		tries := append(wrongGuesses(30, func(int) string { return guesser }), signIn{staffPassword, owner})
		checked, throttled, signedIn := signInBurst(t, s, "ana@example.com", tries)
		if signedIn != 1 {
			t.Errorf("the owner, signing in from elsewhere during the guessing, was not let in")
		}
		if checked != models.MaxAccountAddressFailures+1 || throttled != 30-models.MaxAccountAddressFailures {
			t.Errorf("30 simultaneous guesses from one address: %d checked, %d throttled; want %d guesses checked",
				checked-signedIn, throttled, models.MaxAccountAddressFailures)
		}
		// The owner's success does not forgive the guesser.
		var te *models.ThrottledError
		if _, err := s.Authenticate(context.Background(), "ana@example.com", staffPassword, guesser); !errors.As(err, &te) {
			t.Errorf("the guessing address after the owner signed in: %v, want throttled", err)
		}
		if _, err := s.Authenticate(context.Background(), "ana@example.com", staffPassword, owner); err != nil {
			t.Errorf("the owner again: %v", err)
		}
	})
}

func TestAuthenticate_GuessesSpreadOverManyAddressesHitTheAccountLimit(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, dialect string) {
		s, _ := mustOpen(t, dialect)
		fastPasswordUser(t, s, "bo@example.com")
		n := models.MaxAccountFailures + 15
		tries := wrongGuesses(n, func(i int) string { return fmt.Sprintf("198.51.%d.%d", i/200, i%200) })
		checked, throttled, _ := signInBurst(t, s, "bo@example.com", tries)
		if checked != models.MaxAccountFailures || throttled != n-models.MaxAccountFailures {
			t.Errorf("%d simultaneous guesses, each from its own address: %d checked, %d throttled; want %d checked",
				n, checked, throttled, models.MaxAccountFailures)
		}
		// The account's limit is reached: no address may try now, not even
		// with the right password.
		_, err := s.Authenticate(context.Background(), "bo@example.com", staffPassword, "192.0.2.77")
		var te *models.ThrottledError
		if !errors.As(err, &te) {
			t.Errorf("the right password after the spread guessing: %v, want throttled", err)
		}
		var u models.User
		s.DB().Where("email = ?", "bo@example.com").Take(&u)
		if u.LockedUntil == nil || !u.LockedUntil.After(s.Now()) {
			t.Errorf("the account is not shown as locked: %v", u.LockedUntil)
		}
	})
}

func TestAuthenticate_ARightPasswordAmongABurstIsOneOfTheFewChecked(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, dialect string) {
		s, _ := mustOpen(t, dialect)
		mustStaffUser(t, s, "cy@example.com", models.RoleSales)
		tries := wrongGuesses(41, func(int) string { return "198.51.100.9" })
		tries[20].password = staffPassword
		checked, _, signedIn := signInBurst(t, s, "cy@example.com", tries)
		// A success forgives the address's failures, so up to the limit may
		// be checked before it and up to the limit after it.
		if limit := models.MaxAccountAddressFailures; checked > limit && !(signedIn == 1 && checked <= 2*limit) {
			t.Errorf("41 simultaneous sign-ins from one address: %d checked (signed in: %d), want at most %d", checked, signedIn, limit)
		}
	})
}
