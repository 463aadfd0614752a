package models

import (
	"context"
	_ "embed" // the common-password list
	"errors"
	"strings"
	"sync"
	"unicode/utf8"

	"golang.org/x/crypto/bcrypt"
	"gorm.io/gorm"
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
	}
	return ""
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
func (n NewUser) validate() (email, name string, err error) {
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

// CreateUser creates a staff user who can sign in with n.Password (hashed
// with bcrypt; the password itself is never stored). A host starts with the
// default weekly hours. An email already in use is a ValidationError.
func (s *Store) CreateUser(ctx context.Context, n NewUser) (*User, error) {
	email, name, err := n.validate()
	if err != nil {
		return nil, err
	}
	if _, err := s.UserByEmail(ctx, email); err == nil {
		return nil, Invalid("email", "is already a staff user")
	}
	hash, err := HashPassword(n.Password)
	if err != nil {
		return nil, err
	}
	u := &User{Email: email, Name: name, Role: n.Role, Host: n.Host, PasswordHash: hash, WeeklyJSON: "{}"}
	if n.Host {
		u.WeeklyJSON = encodeJSON(DefaultWeekly().toJSON())
	}
	err = s.tx(ctx, func(tx *gorm.DB) error {
		if err := tx.Create(u).Error; err != nil {
			if isUniqueViolation(err) {
				return Invalid("email", "is already a staff user")
			}
			return err
		}
		actor := n.Actor
		if actor == "" {
			actor = ActorSystem
		}
		if err := s.addEvent(tx, 0, 0, "user.created", actor, map[string]any{
			"user_id": u.ID, "role": u.Role, "host": u.Host}); err != nil {
			return err
		}
		if n.Host {
			return s.bumpAvailability(tx)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return u, nil
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

// SetPassword gives the user with email a new password, after the rules of
// CheckPassword, signs them out everywhere and, when asked, revokes their
// API tokens, in one transaction. It returns how many tokens it revoked.
// ErrNotFound when no staff user has that email.
func (s *Store) SetPassword(ctx context.Context, email string, ch PasswordChange) (int, error) {
	u, err := s.UserByEmail(ctx, email)
	if err != nil {
		return 0, err
	}
	return s.changePassword(ctx, u, ch)
}

// SetUserPassword is SetPassword for the user with id (the staff page).
func (s *Store) SetUserPassword(ctx context.Context, id uint, ch PasswordChange) (int, error) {
	u, err := s.UserByID(ctx, id)
	if err != nil {
		return 0, err
	}
	return s.changePassword(ctx, u, ch)
}

func (s *Store) changePassword(ctx context.Context, u *User, ch PasswordChange) (revoked int, err error) {
	if err := CheckPassword(ch.Password, u.Email, u.Name); err != nil {
		return 0, err
	}
	hash, err := HashPassword(ch.Password)
	if err != nil {
		return 0, err
	}
	actor := ch.Actor
	if actor == "" {
		actor = ActorSystem
	}
	now := s.Now()
	err = s.tx(ctx, func(tx *gorm.DB) error {
		if err := tx.Model(&User{}).Where("id = ?", u.ID).Updates(map[string]any{
			"password_hash": hash, "failed_logins": 0, "locked_until": nil, "updated_at": now,
		}).Error; err != nil {
			return err
		}
		if err := tx.Where("user_id = ?", u.ID).Delete(&Session{}).Error; err != nil {
			return err
		}
		revoked = 0
		if ch.RevokeTokens {
			res := tx.Model(&APIToken{}).Where("user_id = ? AND revoked_at IS NULL", u.ID).Update("revoked_at", now)
			if res.Error != nil {
				return res.Error
			}
			revoked = int(res.RowsAffected)
		}
		return s.addEvent(tx, 0, 0, "user.password_changed", actor, map[string]any{
			"user_id": u.ID, "tokens_revoked": revoked})
	})
	return revoked, err
}

// LiveTokenCount is how many API tokens of user id still work.
func (s *Store) LiveTokenCount(ctx context.Context, id uint) (int, error) {
	var n int64
	err := s.read.WithContext(ctx).Model(&APIToken{}).Where("user_id = ? AND revoked_at IS NULL", id).Count(&n).Error
	return int(n), err
}

// UserByEmail finds a staff user by email, compared without case and
// surrounding spaces. ErrNotFound when there is none.
func (s *Store) UserByEmail(ctx context.Context, email string) (*User, error) {
	return s.findUser(s.read.WithContext(ctx).Where("email = ?", NormalizeEmail(email)))
}

// UserByID returns one staff user, or ErrNotFound.
func (s *Store) UserByID(ctx context.Context, id uint) (*User, error) {
	return s.findUser(s.read.WithContext(ctx).Where("id = ?", id))
}

func (s *Store) findUser(q *gorm.DB) (*User, error) {
	var u User
	err := q.Take(&u).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	return &u, nil
}

// ListUsers returns every user (staff and hosts, enabled or not) by id.
func (s *Store) ListUsers(ctx context.Context) ([]User, error) {
	us := []User{}
	err := s.read.WithContext(ctx).Order("id").Find(&us).Error
	return us, err
}

// StaffUsers returns the users who can own leads: enabled, with a password
// to sign in with, by name.
func (s *Store) StaffUsers(ctx context.Context) ([]User, error) {
	us := []User{}
	err := s.read.WithContext(ctx).Where("disabled = ? AND password_hash <> ''", false).
		Order("name, id").Find(&us).Error
	return us, err
}

// AdminExists reports whether an enabled admin exists.
func (s *Store) AdminExists(ctx context.Context) (bool, error) {
	var n int64
	err := s.read.WithContext(ctx).Model(&User{}).Where("role = ? AND disabled = ?", RoleAdmin, false).Count(&n).Error
	return n > 0, err
}

// EnsureFirstAdmin creates an admin (not a host) with email and password
// when no enabled admin exists, and reports whether it did. When a user
// with that email exists already, it is made an admin with that password.
// With an admin in place it changes nothing, whatever the arguments.
//
// Replicas started together with the same settings all call it at once:
// the check and the write are one transaction, and on PostgreSQL those
// transactions take turns on an advisory lock (SQLite's single writer does
// that by itself), so exactly one admin is created and every caller
// succeeds.
func (s *Store) EnsureFirstAdmin(ctx context.Context, email, password string) (bool, error) {
	if ok, err := s.AdminExists(ctx); err != nil || ok {
		return false, err
	}
	n := NewUser{Email: email, Name: "Administrator", Role: RoleAdmin, Password: password}
	existing, err := s.UserByEmail(ctx, email)
	switch {
	case errors.Is(err, ErrNotFound):
		if email, _, err = n.validate(); err != nil {
			return false, err
		}
	case err != nil:
		return false, err
	default:
		email = existing.Email
		if err := CheckPassword(password, existing.Email, existing.Name); err != nil {
			return false, err
		}
	}
	hash, err := HashPassword(password) // slow: outside the transaction
	if err != nil {
		return false, err
	}
	var created bool
	err = s.tx(ctx, func(tx *gorm.DB) error {
		created = false
		if s.dialect == DialectPostgres {
			if err := tx.Exec("SELECT pg_advisory_xact_lock(4242008)").Error; err != nil {
				return err
			}
		}
		var admins int64
		if err := tx.Model(&User{}).Where("role = ? AND disabled = ?", RoleAdmin, false).Count(&admins).Error; err != nil || admins > 0 {
			return err
		}
		var u User
		err := tx.Where("email = ?", email).Take(&u).Error
		switch {
		case errors.Is(err, gorm.ErrRecordNotFound):
			u = User{Email: email, Name: n.Name, Role: RoleAdmin, PasswordHash: hash, WeeklyJSON: "{}"}
			if err := tx.Create(&u).Error; err != nil {
				return err
			}
			if err := s.addEvent(tx, 0, 0, "user.created", ActorSystem, map[string]any{
				"user_id": u.ID, "role": u.Role, "host": u.Host}); err != nil {
				return err
			}
		case err != nil:
			return err
		default:
			if err := tx.Model(&User{}).Where("id = ?", u.ID).Updates(map[string]any{
				"role": RoleAdmin, "disabled": false, "password_hash": hash, "updated_at": s.Now(),
			}).Error; err != nil {
				return err
			}
		}
		created = true
		return nil
	})
	return created && err == nil, err
}
