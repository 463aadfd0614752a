package models

import (
	_ "embed" // the common-password list
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"golang.org/x/crypto/bcrypt"
)

// Password rules for staff accounts.
const (
	// MinPasswordLen is the fewest characters a staff password may have.
	MinPasswordLen = 12
	// maxPasswordBytes is bcrypt's limit: it ignores anything longer, so a
	// longer password is refused rather than silently truncated.
	maxPasswordBytes = 72
	// PasswordCost is the bcrypt cost every password is hashed with.
	PasswordCost = 12
)

//go:embed common_passwords.txt
var commonPasswordsText string

// commonPasswords is the embedded list as a set, built once, never changed.
var commonPasswords = sync.OnceValue(func() map[string]bool {
	set := map[string]bool{}
	for _, line := range strings.Split(commonPasswordsText, "\n") {
		line = strings.TrimSpace(line)
		if line != "" && !strings.HasPrefix(line, "#") {
			set[strings.ToLower(line)] = true
		}
	}
	return set
})

// keyboardRuns are sequences people walk along instead of choosing a password.
var keyboardRuns = []string{
	"abcdefghijklmnopqrstuvwxyz", "0123456789", "qwertyuiopasdfghjklzxcvbnm", "qwertzuiop", "azertyuiop",
	"1qaz2wsx3edc4rfv5tgb6yhn7ujm", "q1w2e3r4t5y6u7i8o9p0",
}

// CheckPassword reports, as a ValidationError on "password", why pw may not
// be a staff password: shorter than MinPasswordLen characters, longer than
// bcrypt can hash, a common password (alone or with digits or symbols after
// it), a keyboard or alphabet run, too few different characters, or built
// from the user's own email or name. nil means pw is acceptable.
func CheckPassword(pw, email, name string) error {
	msg := passwordProblem(pw, email, name)
	if msg == "" {
		return nil
	}
	return Invalid("password", msg)
}

func passwordProblem(pw, email, name string) string {
	lower := strings.ToLower(pw)
	switch {
	case !utf8.ValidString(pw):
		return "must be valid UTF-8 text"
	case utf8.RuneCountInString(pw) < MinPasswordLen:
		return "must be at least 12 characters"
	case len(pw) > maxPasswordBytes:
		return "must be at most 72 bytes"
	case strings.ContainsAny(pw, "\r\n\x00"):
		return "must not contain line breaks"
	case isCommonPassword(lower):
		return "is a commonly used password; choose another (a few unrelated words work well)"
	case isKeyboardRun(lower):
		return "is a keyboard or alphabet sequence; choose another"
	case distinctRunes(lower) < 5:
		return "repeats too few different characters"
	case containsPersonal(lower, email, name):
		return "must not contain your email address or name"
	case containsServiceWord(lower):
		return "must not be built from the name of this service or what it does (such as \"callbook\" or \"discovery call\"); choose another"
	}
	return ""
}

// serviceWords are the words an attacker tries first against this service's
// staff: its name and what it is for. They are written as letters only;
// a password is compared with its own letters, so "Call-Book 2026" is
// caught too.
var serviceWords = []string{"callbook", "discoverycall", "bookacall", "careercoach"}

// containsServiceWord reports whether the letters of lower contain one of
// serviceWords.
func containsServiceWord(lower string) bool {
	letters := strings.Map(func(r rune) rune {
		if unicode.IsLetter(r) {
			return r
		}
		return -1
	}, lower)
	for _, w := range serviceWords {
		if strings.Contains(letters, w) {
			return true
		}
	}
	return false
}

// isCommonPassword matches the list, also with digits or symbols added at
// the end ("sunshine2024!") or spaces left out.
func isCommonPassword(lower string) bool {
	set := commonPasswords()
	base := strings.TrimRightFunc(lower, func(r rune) bool {
		return r < 128 && !('a' <= r && r <= 'z')
	})
	return set[lower] || set[strings.ReplaceAll(lower, " ", "")] || (base != "" && set[base])
}

func isKeyboardRun(lower string) bool {
	for _, run := range keyboardRuns {
		twice := run + run
		rev := reverse(twice)
		if strings.Contains(twice, lower) || strings.Contains(rev, lower) {
			return true
		}
	}
	return false
}

func reverse(s string) string {
	r := []rune(s)
	for i, j := 0, len(r)-1; i < j; i, j = i+1, j-1 {
		r[i], r[j] = r[j], r[i]
	}
	return string(r)
}

func distinctRunes(s string) int {
	seen := map[rune]bool{}
	for _, r := range s {
		seen[r] = true
	}
	return len(seen)
}

func containsPersonal(lower, email, name string) bool {
	parts := []string{NormalizeEmail(email), strings.ToLower(strings.ReplaceAll(name, " ", ""))}
	if at := strings.IndexByte(parts[0], '@'); at > 0 {
		parts = append(parts, parts[0][:at])
	}
	parts = append(parts, strings.Fields(strings.ToLower(name))...)
	for _, p := range parts {
		if utf8.RuneCountInString(p) >= 4 && strings.Contains(lower, p) {
			return true
		}
	}
	return false
}

// HashPassword hashes pw with bcrypt at PasswordCost. It does not check the
// rules: call CheckPassword first.
func HashPassword(pw string) (string, error) {
	h, err := bcrypt.GenerateFromPassword([]byte(pw), PasswordCost)
	return string(h), err
}

// NewUser is a staff user to create.
type NewUser struct {
	Email    string
	Name     string
	Role     string // RoleAdmin or RoleSales
	Host     bool
	Password string
	// Actor is who creates the user, for the event; ActorSystem when empty.
	Actor string
}

// validate checks every field and returns the cleaned email and name.
func (n NewUser) Validate() (email, name string, err error) {
	verr := &ValidationError{}
	email = NormalizeEmail(n.Email)
	if !ValidEmail(email) {
		verr.Add("email", "must be an email address such as ana@example.com")
	}
	name = CheckText(verr, "name", n.Name, 1, 120)
	if n.Role != RoleAdmin && n.Role != RoleSales {
		verr.Add("role", "must be admin or sales")
	}
	if msg := passwordProblem(n.Password, email, name); msg != "" {
		verr.Add("password", msg)
	}
	return email, name, verr.Err()
}

// PasswordChange is a new password for a staff user.
type PasswordChange struct {
	Password string
	// RevokeTokens also revokes every API token of the user. Without it
	// the tokens keep working: they are separate credentials, often held by
	// an integration that a password change should not break.
	RevokeTokens bool
	// Actor is who changes it, for the event; ActorSystem when empty.
	Actor string
}
