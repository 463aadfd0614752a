package models

import (
	"errors"
	"fmt"
	"time"
)

// Sign-in throttling: failures counted in LoginWindow, per account and per
// client address, across every replica (they live in login_attempts).
const (
	LoginWindow        = 15 * time.Minute
	MaxAccountFailures = 5
	MaxAddressFailures = 20
)

// ErrBadCredentials means the email and password do not match an enabled
// staff user who may sign in. It never says which part was wrong.
var ErrBadCredentials = errors.New("email or password is not right")

// ThrottledError means too many sign-ins failed recently for this account
// or from this address; nothing was checked. RetryAfter is when one may try
// again.
type ThrottledError struct{ RetryAfter time.Duration }

func (e *ThrottledError) Error() string {
	mins := int(e.RetryAfter.Round(time.Minute) / time.Minute)
	if mins < 1 {
		mins = 1
	}
	return fmt.Sprintf("too many failed sign-ins; try again in %d minute%s", mins, plural(mins))
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

// NewSession is a session just created: Token goes into the cookie and is
// never stored; the session row holds only its hash.
type NewSession struct {
	Token   string
	Session *Session
}
