package store

import (
	"context"
	"errors"
	"strings"
	"unicode/utf8"

	"github.com/callbook/callbook/models"
)

// SingleSignOnUser returns the staff user whose email the identity
// provider vouched for, compared as UserByEmail compares. When nobody has
// that email and create is set, it first creates an enabled sales user
// (not a host) named name, or the email's local part when name is empty,
// and reports created. Such a user signs in through the identity provider:
// their password is a random one nobody is told, until an admin sets one.
// Two sign-ins creating the same user at once both get the one user.
// ErrNotFound when nobody has the email and create is not set.
func (s *Store) SingleSignOnUser(ctx context.Context, email, name string, create bool) (u *models.User, created bool, err error) {
	u, err = s.UserByEmail(ctx, email)
	if !errors.Is(err, models.ErrNotFound) || !create {
		return u, false, err
	}
	n := models.NewUser{Email: email, Name: ssoName(name, email), Role: models.RoleSales, Password: RandomToken(32), Actor: models.ActorSystem}
	u, err = s.CreateUser(ctx, n)
	if err != nil {
		// Another sign-in may have created the user meanwhile.
		if again, aerr := s.UserByEmail(ctx, email); aerr == nil {
			return again, false, nil
		}
		return nil, false, err
	}
	return u, true, nil
}

// ssoName is the name a new user gets: the provider's, trimmed and cut to
// the column's 120 characters, or the email's local part.
func ssoName(name, email string) string {
	name = strings.Join(strings.Fields(name), " ")
	if name == "" {
		name, _, _ = strings.Cut(models.NormalizeEmail(email), "@")
	}
	for utf8.RuneCountInString(name) > 120 {
		_, size := utf8.DecodeLastRuneInString(name)
		name = name[:len(name)-size]
	}
	return name
}
