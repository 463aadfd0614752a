package main

import (
	"bytes"
	"context"
	"log/slog"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/callbook/callbook/models"
	"github.com/callbook/callbook/store"
	"github.com/callbook/callbook/store/storetest"
)

// staffDB points the commands at a fresh SQLite file and returns a store
// on it for checking what they did.
func staffDB(t *testing.T) *store.Store {
	t.Helper()
	path := filepath.Join(t.TempDir(), "callbook.db")
	t.Setenv("CALLBOOK_DATABASE_URL", "sqlite:"+path)
	t.Setenv("CALLBOOK_SECRET", "test-secret-test-secret-test-secret")
	clock := storetest.NewClock(time.Date(2026, 5, 4, 15, 0, 0, 0, time.UTC))
	return storetest.MustOpenURL(t, "sqlite:"+path, storetest.Options(clock))
}

// runIn runs a command with stdin and returns exit code, stdout and stderr.
func runIn(t *testing.T, stdin string, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(context.Background(), args, strings.NewReader(stdin), &out, &errb)
	return code, out.String(), errb.String()
}

func oneLine(t *testing.T, stderr string) {
	t.Helper()
	if strings.Count(stderr, "\n") != 1 || !strings.HasSuffix(stderr, "\n") {
		t.Errorf("error is not one line: %q", stderr)
	}
}

func TestUserAdd_ReadsThePasswordFromStdinAndPrintsTheID(t *testing.T) {
	s := staffDB(t)
	code, stdout, stderr := runIn(t, "plum-otter-violin-42\n", "user", "add", "--email", "Ana@Example.com", "--name", "Ana Souza", "--role", "sales", "--host")
	if code != 0 {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
	u, err := s.UserByEmail(context.Background(), "ana@example.com")
	if err != nil || stdout != itoa(u.ID)+"\n" || u.Role != models.RoleSales || !u.Host || u.Name != "Ana Souza" {
		t.Fatalf("stdout %q, user %+v, %v", stdout, u, err)
	}
	if bcrypt.CompareHashAndPassword([]byte(u.PasswordHash), []byte("plum-otter-violin-42")) != nil {
		t.Fatal("the stored hash does not match the password from stdin")
	}
	// The id stays alone on standard output for scripts; the person who ran
	// the command reads what was created on standard error.
	if want := "Created a sales user who takes calls: Ana Souza <ana@example.com>, id " + itoa(u.ID) + "."; !strings.HasPrefix(stderr, want) {
		t.Errorf("stderr %q, want it to begin %q", stderr, want)
	}
	for _, c := range []struct {
		name, stdin string
		args        []string
		want        string
	}{
		{"password as an argument", "", []string{"user", "add", "--email", "b@example.com", "--name", "B", "--role", "sales", "--password", "x"}, "flag provided but not defined"},
		{"no password", "", []string{"user", "add", "--email", "b@example.com", "--name", "B", "--role", "sales"}, "no password on standard input"},
		{"bad role", "plum-otter-violin-42\n", []string{"user", "add", "--email", "b@example.com", "--name", "B", "--role", "owner"}, "--role must be admin or sales"},
		{"missing name", "plum-otter-violin-42\n", []string{"user", "add", "--email", "b@example.com", "--role", "sales"}, "--name is required"},
		{"weak password", "password1234\n", []string{"user", "add", "--email", "b@example.com", "--name", "B", "--role", "sales"}, "password is a commonly used password"},
		{"taken email", "plum-otter-violin-42\n", []string{"user", "add", "--email", "ana@example.com", "--name", "B", "--role", "sales"}, "email is already a staff user"},
		{"no subcommand", "", []string{"user"}, "use user add"},
	} {
		code, stdout, stderr := runIn(t, c.stdin, c.args...)
		if code != 2 || stdout != "" || !strings.Contains(stderr, c.want) {
			t.Errorf("%s: exit %d, stdout %q, stderr %q; want 2 and %q", c.name, code, stdout, stderr, c.want)
		}
		oneLine(t, stderr)
	}
}

func TestUserPasswdAndTokenCreate(t *testing.T) {
	s := staffDB(t)
	ctx := context.Background()
	u := &models.User{Email: "ana@example.com", Name: "Ana", Role: models.RoleAdmin, PasswordHash: "x", WeeklyJSON: "{}"}
	if err := s.DB().Create(u).Error; err != nil {
		t.Fatal(err)
	}
	if code, _, stderr := runIn(t, "new-plum-otter-violin\r\n", "user", "passwd", "--email", "ANA@example.com"); code != 0 {
		t.Fatalf("passwd: exit %d %q", code, stderr)
	}
	got, _ := s.UserByID(ctx, u.ID)
	if bcrypt.CompareHashAndPassword([]byte(got.PasswordHash), []byte("new-plum-otter-violin")) != nil {
		t.Fatal("passwd did not set the password read from stdin")
	}
	code, _, stderr := runIn(t, "new-plum-otter-violin\n", "user", "passwd", "--email", "nobody@example.com")
	if code != 1 || !strings.Contains(stderr, "no staff user") {
		t.Fatalf("unknown user: exit %d %q", code, stderr)
	}
	oneLine(t, stderr)

	code, stdout, stderr := runIn(t, "", "token", "create", "--email", "ana@example.com", "--name", "CRM sync")
	if code != 0 || stderr != "" || strings.Count(stdout, "\n") != 1 {
		t.Fatalf("token: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	token := strings.TrimSpace(stdout)
	who, err := s.UserByAPIToken(ctx, token)
	if err != nil || who.ID != u.ID {
		t.Fatalf("the printed token does not work: %v", err)
	}
	var row models.APIToken
	s.DB().Take(&row)
	if row.Name != "CRM sync" || strings.Contains(row.TokenHash, token) {
		t.Fatalf("stored token row %+v", row)
	}
	for _, args := range [][]string{{"token"}, {"token", "create", "--email", "ana@example.com"}} {
		if code, _, stderr := runIn(t, "", args...); code != 2 {
			t.Errorf("%v: exit %d %q, want 2", args, code, stderr)
		}
	}
	if code, _, _ := runIn(t, "", "token", "create", "--email", "x@example.com", "--name", "n"); code != 1 {
		t.Errorf("unknown user: exit %d, want 1", code)
	}
}

func TestEnsureFirstAdmin_FromTheEnvironmentOnlyWhenNoAdminExists(t *testing.T) {
	s := staffDB(t)
	ctx := context.Background()
	log := slog.New(slog.DiscardHandler)
	err := ensureFirstAdmin(ctx, s, &config{AdminEmail: "boss@example.com", AdminPassword: "short"}, log)
	if err == nil || !strings.HasPrefix(err.Error(), "CALLBOOK_ADMIN_PASSWORD: ") {
		t.Fatalf("weak password: %v", err)
	}
	if err := ensureFirstAdmin(ctx, s, &config{}, log); err != nil {
		t.Fatal(err)
	}
	if ok, _ := s.AdminExists(ctx); ok {
		t.Fatal("an admin was created without the variables")
	}
	if err := ensureFirstAdmin(ctx, s, &config{AdminEmail: "boss@example.com", AdminPassword: "plum-otter-violin-42"}, log); err != nil {
		t.Fatal(err)
	}
	u, err := s.UserByEmail(ctx, "boss@example.com")
	if err != nil || u.Role != models.RoleAdmin || u.Host || u.Disabled {
		t.Fatalf("first admin %+v %v", u, err)
	}
	if err := ensureFirstAdmin(ctx, s, &config{AdminEmail: "second@example.com", AdminPassword: "plum-otter-violin-42"}, log); err != nil {
		t.Fatal(err)
	}
	if _, err := s.UserByEmail(ctx, "second@example.com"); err == nil {
		t.Fatal("a second admin was created while one exists")
	}
}

func itoa(n uint) string { return strconv.FormatUint(uint64(n), 10) }

func TestUserPasswd_RevokesTheUsersTokensOnlyWhenAsked(t *testing.T) {
	s := staffDB(t)
	ctx := context.Background()
	for _, email := range []string{"keep@example.com", "gone@example.com"} {
		if code, _, stderr := runIn(t, "plum-otter-violin-42\n", "user", "add", "--email", email, "--name", "N", "--role", "sales"); code != 0 {
			t.Fatalf("user add: %q", stderr)
		}
	}
	tokens := map[string]string{}
	for _, email := range []string{"keep@example.com", "gone@example.com"} {
		_, tok, _ := runIn(t, "", "token", "create", "--email", email, "--name", "CRM")
		tokens[email] = strings.TrimSpace(tok)
	}
	code, _, stderr := runIn(t, "new-plum-otter-violin\n", "user", "passwd", "--email", "keep@example.com")
	if code != 0 || !strings.Contains(stderr, "1 API token still valid (revoke with --revoke-tokens)") {
		t.Errorf("passwd without --revoke-tokens: exit %d %q", code, stderr)
	}
	code, _, stderr = runIn(t, "new-plum-otter-violin\n", "user", "passwd", "--email", "gone@example.com", "--revoke-tokens")
	if code != 0 || !strings.Contains(stderr, "1 API token revoked") {
		t.Errorf("passwd --revoke-tokens: exit %d %q", code, stderr)
	}
	if _, err := s.UserByAPIToken(ctx, tokens["keep@example.com"]); err != nil {
		t.Errorf("the kept token stopped working: %v", err)
	}
	if _, err := s.UserByAPIToken(ctx, tokens["gone@example.com"]); err == nil {
		t.Error("the token still works after passwd --revoke-tokens")
	}
}

func TestWarnNoAdmin_SaysHowToCreateOneOnlyWhileNoneExists(t *testing.T) {
	s := staffDB(t)
	ctx := context.Background()
	var logs bytes.Buffer
	warnNoAdmin(ctx, s, slog.New(slog.NewTextHandler(&logs, nil)))
	out := logs.String()
	if strings.Count(out, "\n") != 1 || !strings.Contains(out, "level=WARN") || !strings.Contains(out, "callbook user add") ||
		!strings.Contains(out, "--role admin") || !strings.Contains(out, "CALLBOOK_ADMIN_EMAIL") {
		t.Fatalf("without an admin the log says %q", out)
	}
	if _, err := s.EnsureFirstAdmin(ctx, "boss@example.com", "plum-otter-violin-42"); err != nil {
		t.Fatal(err)
	}
	logs.Reset()
	warnNoAdmin(ctx, s, slog.New(slog.NewTextHandler(&logs, nil)))
	if logs.Len() != 0 {
		t.Errorf("with an admin the log says %q", logs.String())
	}
}

func TestHelp_ListsEverySubcommand(t *testing.T) {
	for _, arg := range []string{"--help", "-h", "help"} {
		code, stdout, _ := runIn(t, "", arg)
		if code != 0 {
			t.Fatalf("%s: exit %d", arg, code)
		}
		for name := range commands() {
			if !strings.Contains(stdout, "\n  "+name) {
				t.Errorf("%s does not list %q:\n%s", arg, name, stdout)
			}
		}
	}
}
