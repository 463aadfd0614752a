package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sort"
	"strings"

	"golang.org/x/term"

	"github.com/callbook/callbook/models"
	"github.com/callbook/callbook/store"
)

// Usage lines of the staff commands (README.md, Commands).
const (
	userAddUsage      = "user add --email E --name N --role admin|sales [--host] (password on standard input)"
	userPasswdUsage   = "user passwd --email E [--revoke-tokens] (password on standard input)"
	tokenUsage        = "token create --email E --name LABEL"
	userReset2FAUsage = "user reset-2fa --email E"
)

// cmdUser runs `callbook user add` and `callbook user passwd`.
func cmdUser(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return usageError{errors.New("use " + userAddUsage + ", " + userPasswdUsage + ", or " + userReset2FAUsage)}
	}
	switch args[0] {
	case "add":
		return userAdd(ctx, args[1:], stdin, stdout, stderr)
	case "passwd":
		return userPasswd(ctx, args[1:], stdin, stdout, stderr)
	case "reset-2fa":
		return userReset2FA(ctx, args[1:], stderr)
	}
	return usageError{fmt.Errorf("unknown subcommand %q; use %s, %s, or %s", args[0], userAddUsage, userPasswdUsage, userReset2FAUsage)}
}

// userAdd creates a staff user and prints its id alone on one line of
// standard output, for scripts, and what it created on standard error, for
// the person who ran it.
func userAdd(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	var email, name, role string
	var host bool
	fs := newFlags("user add")
	fs.StringVar(&email, "email", "", "the user's email, used to sign in")
	fs.StringVar(&name, "name", "", "the user's name, as staff see it")
	fs.StringVar(&role, "role", "", "admin or sales")
	fs.BoolVar(&host, "host", false, "the user takes discovery calls")
	if err := parseFlags(fs, args, userAddUsage, "email", "name", "role"); err != nil {
		return err
	}
	if role != models.RoleAdmin && role != models.RoleSales {
		return usageError{fmt.Errorf("--role must be admin or sales; use %s", userAddUsage)}
	}
	password, err := readPassword(stdin, stderr)
	if err != nil {
		return err
	}
	db, err := openMigratedStore(ctx, stderr)
	if err != nil {
		return err
	}
	defer db.Close()
	ctx = store.WithActor(ctx, models.CLIActor(commandActor("callbook user add")))
	u, err := db.CreateUser(ctx, models.NewUser{Email: email, Name: name, Role: role, Host: host, Password: password,
		Actor: commandActor("callbook user add")})
	if err != nil {
		return inputError(err)
	}
	fmt.Fprintln(stdout, u.ID)
	fmt.Fprintln(stderr, describeNewUser(u))
	return nil
}

// describeNewUser says in a sentence what user add created.
func describeNewUser(u *models.User) string {
	what := "a sales user"
	if u.Role == models.RoleAdmin {
		what = "an admin"
	}
	if u.Host {
		what += " who takes calls"
	}
	return fmt.Sprintf("Created %s: %s <%s>, id %d. They sign in to the staff area at /admin with this email and the password given.",
		what, u.Name, u.Email, u.ID)
}

// userPasswd sets a user's password and signs them out everywhere; with
// --revoke-tokens it also revokes their API tokens. Either way it says on
// standard error what became of the tokens.
func userPasswd(ctx context.Context, args []string, stdin io.Reader, _, stderr io.Writer) error {
	var email string
	var revoke bool
	fs := newFlags("user passwd")
	fs.StringVar(&email, "email", "", "the user's email")
	fs.BoolVar(&revoke, "revoke-tokens", false, "also revoke the user's API tokens (integrations using them stop working)")
	if err := parseFlags(fs, args, userPasswdUsage, "email"); err != nil {
		return err
	}
	password, err := readPassword(stdin, stderr)
	if err != nil {
		return err
	}
	db, err := openMigratedStore(ctx, stderr)
	if err != nil {
		return err
	}
	defer db.Close()
	ctx = store.WithActor(ctx, models.CLIActor(commandActor("callbook user passwd")))
	revoked, err := db.SetPassword(ctx, email, models.PasswordChange{Password: password, RevokeTokens: revoke,
		Actor: commandActor("callbook user passwd")})
	if err != nil {
		if errors.Is(err, models.ErrNotFound) {
			return noSuchUser(email)
		}
		return inputError(err)
	}
	if revoke {
		fmt.Fprintf(stderr, "password set; signed out everywhere; %d API token%s revoked\n", revoked, plural(revoked))
		return nil
	}
	if u, err := db.UserByEmail(ctx, email); err == nil {
		if n, err := db.LiveTokenCount(ctx, u.ID); err == nil && n > 0 {
			fmt.Fprintf(stderr, "password set; signed out everywhere; %d API token%s still valid (revoke with --revoke-tokens)\n", n, plural(n))
		}
	}
	return nil
}

// userReset2FA removes every second factor of a user (authenticator app,
// recovery codes, passkeys), for someone who lost their phone: they sign
// in with their password and, if they must have a second factor, set one
// up again.
func userReset2FA(ctx context.Context, args []string, stderr io.Writer) error {
	var email string
	fs := newFlags("user reset-2fa")
	fs.StringVar(&email, "email", "", "the user's email")
	if err := parseFlags(fs, args, userReset2FAUsage, "email"); err != nil {
		return err
	}
	db, err := openMigratedStore(ctx, stderr)
	if err != nil {
		return err
	}
	defer db.Close()
	ctx = store.WithActor(ctx, models.CLIActor(commandActor("callbook user reset-2fa")))
	if err := db.ResetSecondFactors(ctx, email); err != nil {
		if errors.Is(err, models.ErrNotFound) {
			return noSuchUser(email)
		}
		return err
	}
	fmt.Fprintf(stderr, "second factors of %s removed (authenticator app, recovery codes, passkeys); they sign in with their password and set one up again\n", email)
	return nil
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

// cmdToken runs `callbook token create`: it prints a new API token alone
// on one line. The token is stored only as a hash and never shown again.
func cmdToken(ctx context.Context, args []string, _ io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "create" {
		return usageError{errors.New("use " + tokenUsage)}
	}
	var email, label string
	fs := newFlags("token create")
	fs.StringVar(&email, "email", "", "the staff user the token acts as")
	fs.StringVar(&label, "name", "", "a label saying what the token is for")
	if err := parseFlags(fs, args[1:], tokenUsage, "email", "name"); err != nil {
		return err
	}
	db, err := openMigratedStore(ctx, stderr)
	if err != nil {
		return err
	}
	defer db.Close()
	u, err := db.UserByEmail(ctx, email)
	if errors.Is(err, models.ErrNotFound) {
		return noSuchUser(email)
	}
	if err != nil {
		return err
	}
	ctx = store.WithActor(ctx, models.CLIActor(commandActor("callbook token create")))
	token, _, err := db.CreateAPIToken(ctx, u.ID, label)
	if err != nil {
		return inputError(err)
	}
	fmt.Fprintln(stdout, token)
	return nil
}

// ensureFirstAdmin creates an admin (not a host) from CALLBOOK_ADMIN_EMAIL
// and CALLBOOK_ADMIN_PASSWORD when both are set and no admin exists. A
// value the rules refuse stops start-up with one line naming the variable.
func ensureFirstAdmin(ctx context.Context, db *store.Store, cfg *config, log *slog.Logger) error {
	if cfg.AdminEmail == "" || cfg.AdminPassword == "" {
		return nil
	}
	created, err := db.EnsureFirstAdmin(ctx, cfg.AdminEmail, cfg.AdminPassword)
	var verr *models.ValidationError
	if errors.As(err, &verr) {
		vars := map[string]string{"email": "CALLBOOK_ADMIN_EMAIL", "password": "CALLBOOK_ADMIN_PASSWORD"}
		for _, f := range sortedFields(verr) {
			if v, ok := vars[f]; ok {
				return fmt.Errorf("%s: %s", v, verr.Fields[f])
			}
		}
		return fmt.Errorf("CALLBOOK_ADMIN_EMAIL: %s", describe(verr))
	}
	if err != nil {
		return fmt.Errorf("first admin: %w", err)
	}
	if created {
		log.Info("created the first admin from CALLBOOK_ADMIN_EMAIL", "email", models.NormalizeEmail(cfg.AdminEmail))
	}
	return nil
}

// warnNoAdmin says once, at start, that no admin exists yet: the default
// host's notices go to the admins, so until one exists they reach no one.
func warnNoAdmin(ctx context.Context, db *store.Store, log *slog.Logger) {
	ok, err := db.AdminExists(ctx)
	if err != nil || ok {
		return
	}
	log.Warn("no admin yet: notices of calls with the " + models.DefaultHostName + " go to the admins and reach no one until one exists; " +
		"create one with `callbook user add --email E --name N --role admin` (password on standard input), " +
		"or set CALLBOOK_ADMIN_EMAIL and CALLBOOK_ADMIN_PASSWORD and restart")
}

// newFlags makes a flag set that reports errors instead of printing usage.
func newFlags(name string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	return fs
}

// parseFlags parses args and requires the named flags, as usage errors.
func parseFlags(fs *flag.FlagSet, args []string, usage string, required ...string) error {
	if err := fs.Parse(args); err != nil {
		return usageError{fmt.Errorf("%v; use %s", err, usage)}
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Errorf("unexpected argument %q (passwords are read from standard input); use %s", fs.Arg(0), usage)}
	}
	for _, name := range required {
		if strings.TrimSpace(fs.Lookup(name).Value.String()) == "" {
			return usageError{fmt.Errorf("--%s is required; use %s", name, usage)}
		}
	}
	return nil
}

// readPassword reads one line from stdin: typed without echo after a
// prompt on a terminal, else the first line of a pipe or file.
func readPassword(stdin io.Reader, stderr io.Writer) (string, error) {
	if f, ok := stdin.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		fmt.Fprint(stderr, "Password: ")
		b, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(stderr)
		if err != nil {
			return "", fmt.Errorf("read the password: %w", err)
		}
		return string(b), nil
	}
	line, err := bufio.NewReader(stdin).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("read the password from standard input: %w", err)
	}
	line = strings.TrimRight(line, "\r\n")
	if line == "" {
		return "", usageError{errors.New("no password on standard input: pipe one line, as in `printf '%s\\n' \"$PW\" | callbook user ...`")}
	}
	return line, nil
}

// openMigratedStore opens the configured database and applies pending
// migrations, so staff commands work on a fresh install.
func openMigratedStore(ctx context.Context, stderr io.Writer) (*store.Store, error) {
	cfg, err := loadConfig(nil, false)
	if err != nil {
		return nil, err
	}
	db, err := openStore(cfg, newLogger(cfg, stderr))
	if err != nil {
		return nil, err
	}
	if err := migrate(ctx, db); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

// inputError turns a refusal of what was typed into a usage error (exit 2)
// that says what to fix; anything else stays a failure (exit 1).
func inputError(err error) error {
	var verr *models.ValidationError
	if errors.As(err, &verr) {
		return usageError{errors.New(describe(verr))}
	}
	return err
}

func describe(verr *models.ValidationError) string {
	parts := []string{}
	for _, f := range sortedFields(verr) {
		parts = append(parts, f+" "+verr.Fields[f])
	}
	return strings.Join(parts, "; ")
}

func sortedFields(verr *models.ValidationError) []string {
	keys := make([]string, 0, len(verr.Fields))
	for k := range verr.Fields {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func noSuchUser(email string) error {
	return fmt.Errorf("no staff user has the email %q; create one with callbook %s", email, userAddUsage)
}

// commandActor names the operator running a command, for events and the
// audit log.
func commandActor(cmd string) string {
	if u := os.Getenv("USER"); u != "" {
		return cmd + " (" + u + ")"
	}
	return cmd
}
