package models

import (
	"errors"
	"fmt"
	"time"
)

// Sign-in throttling, across every replica: failed sign-in steps (a wrong
// password; a wrong second-factor code) are rows in login_attempts,
// counted by the limits of SignInLimits. Guessing from one address stops
// after a few tries at one account, but the owner signing in from another
// address is not stopped by it; guessing spread over many addresses is
// stopped, more slowly, by the account's own limit.
const (
	// LoginWindow is the window of the limits per address.
	LoginWindow = 15 * time.Minute
	// MaxAccountAddressFailures are allowed for one account from one
	// address in LoginWindow.
	MaxAccountAddressFailures = 5
	// MaxAddressFailures are allowed from one address, whatever the
	// accounts, in LoginWindow.
	MaxAddressFailures = 20
	// AccountLoginWindow is the window of the limit per account.
	AccountLoginWindow = time.Hour
	// MaxAccountFailures are allowed for one account from every address
	// together in AccountLoginWindow.
	MaxAccountFailures = 50
)

// SignInLimit caps failed sign-in steps in a sliding window, counted per
// account, per client address, or per both together.
type SignInLimit struct {
	ByAccount, ByAddress bool
	Max                  int
	Window               time.Duration
}

// SignInLimits are the sign-in throttle's limits; reaching any one
// refuses the step.
var SignInLimits = []SignInLimit{
	{ByAccount: true, ByAddress: true, Max: MaxAccountAddressFailures, Window: LoginWindow},
	{ByAddress: true, Max: MaxAddressFailures, Window: LoginWindow},
	{ByAccount: true, Max: MaxAccountFailures, Window: AccountLoginWindow},
}

// ErrBadCredentials means the email and password do not match an enabled
// staff user who may sign in. It never says which part was wrong.
var ErrBadCredentials = errors.New("email or password is not right")

// ThrottledError means too many sign-ins failed recently for this account
// from this address, from this address, or for this account from
// everywhere; nothing was checked. RetryAfter is when one may try
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
