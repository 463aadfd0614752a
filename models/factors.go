package models

import (
	"crypto/subtle"
	"encoding/base32"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"
)

// Who must sign in with a second factor (CALLBOOK_REQUIRE_2FA).
const (
	Require2FAAdmins = "admins"
	Require2FAAll    = "all"
	Require2FAOff    = "off"
)

// ParseRequire2FA checks a CALLBOOK_REQUIRE_2FA value.
func ParseRequire2FA(v string) (string, error) {
	switch v {
	case Require2FAAdmins, Require2FAAll, Require2FAOff:
		return v, nil
	}
	return "", fmt.Errorf("must be %s, %s or %s", Require2FAAdmins, Require2FAAll, Require2FAOff)
}

// MustHaveSecondFactor reports whether policy (a Require2FA value; empty
// is off) requires u to sign in with a second factor.
func MustHaveSecondFactor(policy string, u *User) bool {
	switch policy {
	case Require2FAAll:
		return true
	case Require2FAAdmins:
		return u.Role == RoleAdmin
	}
	return false
}

// RecoveryCodeCount is how many one-use recovery codes a user gets when
// they confirm an authenticator app.
const RecoveryCodeCount = 10

// NormalizeCode trims what people type around a code: spaces, dashes and
// case, so "abcd-efgh-…" and "123 456" are read as written.
func NormalizeCode(code string) string {
	code = strings.ToLower(strings.TrimSpace(code))
	return strings.Map(func(r rune) rune {
		if r == ' ' || r == '-' {
			return -1
		}
		return r
	}, code)
}

// Second-factor errors.
var (
	// ErrBadCode: the code is wrong, already used, or its time has passed.
	ErrBadCode = errors.New("that code is not right, or was already used; enter the current code from your authenticator app or an unused recovery code")
	// ErrNoPendingTOTP: there is no authenticator app waiting to be confirmed.
	ErrNoPendingTOTP = errors.New("start adding an authenticator app again")
	// ErrTOTPExists: the user already has a confirmed authenticator app.
	ErrTOTPExists = errors.New("an authenticator app is already set up; remove it first to set up another")
	// ErrChallengeGone: a sign-in step or passkey ceremony expired or was
	// already used.
	ErrChallengeGone = errors.New("this step expired or was already used; start again")
)

// TOTPFactor is a user's authenticator app (RFC 6238). Secret is sealed
// with the service secret; ConfirmedAt is nil until the user entered a
// first code. LastStep is the last 30-second step whose code was
// accepted: a code of that step or an earlier one is refused.
type TOTPFactor struct {
	UserID      uint   `gorm:"primaryKey;autoIncrement:false"`
	Secret      string `gorm:"size:500;not null"`
	ConfirmedAt *time.Time
	LastStep    int64     `gorm:"not null;default:0"`
	CreatedAt   time.Time `gorm:"not null"`
}

// TableName keeps the table name short and plain.
func (TOTPFactor) TableName() string { return "totp_factors" }

// RecoveryCode is one one-use recovery code; only its SHA-256 is kept
// (the codes carry 80 random bits, so a fast hash is enough).
type RecoveryCode struct {
	ID        uint   `gorm:"primaryKey"`
	UserID    uint   `gorm:"not null;index"`
	CodeHash  string `gorm:"size:64;not null;uniqueIndex"`
	UsedAt    *time.Time
	CreatedAt time.Time `gorm:"not null"`
}

// Passkey is a WebAuthn credential of a staff user. CredentialID is its
// id, base64url without padding; Credential is the library's record of it
// (public key, sign count, flags) as JSON.
type Passkey struct {
	ID           uint   `gorm:"primaryKey"`
	UserID       uint   `gorm:"not null;index"`
	Name         string `gorm:"size:120;not null"`
	CredentialID string `gorm:"size:1400;not null;uniqueIndex"`
	Credential   string `gorm:"type:text;not null"`
	LastUsedAt   *time.Time
	CreatedAt    time.Time `gorm:"not null"`
}

// Purposes of a SignInChallenge.
const (
	// ChallengeSecondFactor: the password was right; the code is owed.
	ChallengeSecondFactor = "second_factor"
	// ChallengePasskeyLogin: a passkey sign-in was offered to a browser.
	ChallengePasskeyLogin = "passkey_login"
	// ChallengePasskeyAdd: a signed-in user is adding a passkey.
	ChallengePasskeyAdd = "passkey_add"
)

// SignInChallenge is a short-lived step of a sign-in or of adding a
// passkey, found by the hash of a random token the browser holds. No
// session exists until the step is done. UserID is 0 for a passkey
// sign-in, whose user is not known yet; Data holds the WebAuthn
// ceremony's state.
type SignInChallenge struct {
	ID        string    `gorm:"primaryKey;size:64"`
	Purpose   string    `gorm:"size:16;not null"`
	UserID    uint      `gorm:"not null;default:0"`
	Next      string    `gorm:"size:2000;not null;default:''"`
	Data      string    `gorm:"type:text;not null;default:''"`
	ExpiresAt time.Time `gorm:"not null;index"`
	CreatedAt time.Time `gorm:"not null"`
}

// SecondFactors is what a user has set up, for the Security page.
type SecondFactors struct {
	// TOTP: an authenticator app is confirmed.
	TOTP bool
	// TOTPPending: one was started and awaits its first code.
	TOTPPending bool
	// RecoveryLeft counts unused recovery codes.
	RecoveryLeft int
	Passkeys     []Passkey
}

// Any reports whether the user has a second factor.
func (f SecondFactors) Any() bool { return f.TOTP || len(f.Passkeys) > 0 }

// CheckPasskeyName cleans a passkey's name; empty becomes "Passkey".
func CheckPasskeyName(name string) (string, error) {
	verr := &ValidationError{}
	if strings.TrimSpace(name) == "" {
		name = "Passkey"
	}
	name = CheckText(verr, "name", name, 1, 120)
	return name, verr.Err()
}

// TOTP parameters (RFC 6238 as authenticator apps expect them).
const (
	TOTPPeriod = 30 // seconds
	TOTPDigits = otp.DigitsSix
	// totpSkew accepts the code of the step before and after now, for a
	// phone whose clock is a little off.
	totpSkew = 1
)

// TOTPStep returns the time step whose code code is, within one step of
// now, and whether there is one. Each candidate is compared in constant
// time.
func TOTPStep(secret, code string, now time.Time) (int64, bool) {
	code = NormalizeCode(code)
	if len(code) != TOTPDigits.Length() {
		return 0, false
	}
	now = now.UTC()
	step := now.Unix() / TOTPPeriod
	found, match := int64(0), false
	for d := int64(-totpSkew); d <= totpSkew; d++ {
		t := time.Unix((step+d)*TOTPPeriod, 0).UTC()
		want, err := totp.GenerateCodeCustom(secret, t, totp.ValidateOpts{
			Period: TOTPPeriod, Digits: TOTPDigits, Algorithm: otp.AlgorithmSHA1,
		})
		if err == nil && subtle.ConstantTimeCompare([]byte(want), []byte(code)) == 1 {
			found, match = step+d, true
		}
	}
	return found, match
}

// NewTOTPKey makes a new authenticator-app key for account (the user's
// email) under issuer (the site's name), with a 160-bit secret.
func NewTOTPKey(issuer, account string) (*otp.Key, error) {
	return totp.Generate(totpOpts(issuer, account, nil))
}

// TOTPKey is the key of an existing base32 secret, for its otpauth:// URI
// and QR code.
func TOTPKey(issuer, account, secret string) (*otp.Key, error) {
	raw, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(strings.ToUpper(secret))
	if err != nil {
		return nil, err
	}
	return totp.Generate(totpOpts(issuer, account, raw))
}

func totpOpts(issuer, account string, secret []byte) totp.GenerateOpts {
	return totp.GenerateOpts{
		Issuer: issuer, AccountName: account, Period: TOTPPeriod, Digits: TOTPDigits,
		Algorithm: otp.AlgorithmSHA1, SecretSize: 20, Secret: secret,
	}
}
