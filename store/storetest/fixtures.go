package storetest

import (
	"database/sql"
	"encoding/json"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"testing"

	_ "github.com/mattn/go-sqlite3" // database/sql driver for reading fixtures

	"github.com/callbook/callbook/store"
)

// FixtureSecret is the CALLBOOK_SECRET every upgrade fixture was written
// with; a store opened on a fixture needs it to open what was sealed.
const FixtureSecret = "upgrade-fixture-secret-do-not-use-in-production"

// FixtureCredentials are what a fixture's own version handed out: staff API
// tokens and one visitor's booking token.
type FixtureCredentials struct {
	AdminToken   string `json:"admin_token"`
	SalesToken   string `json:"sales_token"`
	BookingToken string `json:"booking_token"`
}

// fixtureDir is store/testdata/upgrade in the repository this file is in.
func fixtureDir() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "testdata", "upgrade")
}

// UpgradeFixtures names the databases written by released versions, oldest
// first (see store/testdata/upgrade/README.md).
func UpgradeFixtures(t testing.TB) []string {
	t.Helper()
	entries, err := os.ReadDir(fixtureDir())
	if err != nil {
		t.Fatalf("upgrade fixtures: %v", err)
	}
	var names []string
	for _, e := range entries {
		if _, err := os.Stat(filepath.Join(fixtureDir(), e.Name(), "callbook.db")); e.IsDir() && err == nil {
			names = append(names, e.Name())
		}
	}
	sort.Strings(names)
	if len(names) == 0 {
		t.Fatal("no upgrade fixtures in store/testdata/upgrade")
	}
	return names
}

// ReadFixtureCredentials returns the credentials fixture name's version made
// in its database of dialect.
func ReadFixtureCredentials(t testing.TB, name, dialect string) FixtureCredentials {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(fixtureDir(), name, "credentials.json"))
	if err != nil {
		t.Fatalf("fixture %s: %v", name, err)
	}
	var all map[string]FixtureCredentials
	if err := json.Unmarshal(b, &all); err != nil {
		t.Fatalf("fixture %s credentials: %v", name, err)
	}
	c, ok := all[dialect]
	if !ok {
		t.Fatalf("fixture %s has no %s credentials", name, dialect)
	}
	return c
}

// RestoreFixture returns the URL of a database of dialect, this test's own,
// holding fixture name as its version left it: a copy of the SQLite file,
// or on PostgreSQL a new database (dropped when the test ends) into which
// the fixture's dump was loaded.
func RestoreFixture(t testing.TB, name, dialect string) string {
	t.Helper()
	dir := filepath.Join(fixtureDir(), name)
	if dialect == store.DialectSQLite {
		dst := filepath.Join(t.TempDir(), "callbook.db")
		copyFile(t, filepath.Join(dir, "callbook.db"), dst)
		return "sqlite:" + dst
	}
	dump, err := os.ReadFile(filepath.Join(dir, "postgres.sql"))
	if err != nil {
		t.Fatalf("fixture %s: %v", name, err)
	}
	u := FreshDatabase(t, dialect)
	db, err := sql.Open("pgx", u)
	if err != nil {
		t.Fatalf("open %s: %v", u, err)
	}
	defer db.Close()
	// One session: the dump sets its search_path for the statements after.
	conn, err := db.Conn(t.Context())
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(t.Context(), string(dump)); err != nil {
		t.Fatalf("load fixture %s dump: %v", name, err)
	}
	return u
}

// FreshDatabase returns the URL of an empty database of dialect for this
// test. On PostgreSQL it is a whole database, not a schema as URL gives: a
// dump names the public schema, so a fixture and the fresh database it is
// compared with are both read there.
func FreshDatabase(t testing.TB, dialect string) string {
	t.Helper()
	if dialect == store.DialectSQLite {
		return "sqlite:" + filepath.Join(t.TempDir(), "callbook.db")
	}
	base := os.Getenv("CALLBOOK_TEST_POSTGRES_URL")
	if base == "" {
		Missing(t, "PostgreSQL not tested: set CALLBOOK_TEST_POSTGRES_URL to run it")
	}
	admin, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatalf("open postgres: %v", err)
	}
	name := "t_" + strings.ToLower(store.RandomToken(8))
	if _, err := admin.Exec("CREATE DATABASE " + name); err != nil {
		admin.Close()
		t.Fatalf("create database: %v", err)
	}
	t.Cleanup(func() {
		_, _ = admin.Exec("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)")
		admin.Close()
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("parse CALLBOOK_TEST_POSTGRES_URL: %v", err)
	}
	u.Path = "/" + name
	q := u.Query()
	q.Del("search_path")
	u.RawQuery = q.Encode()
	return u.String()
}

// OpenRaw opens the database at a store URL with database/sql, for tests
// that read what a store cannot: whole tables, the schema. Closed when the
// test ends.
func OpenRaw(t testing.TB, storeURL string) *sql.DB {
	t.Helper()
	var db *sql.DB
	var err error
	if path, ok := strings.CutPrefix(storeURL, "sqlite:"); ok {
		db, err = sql.Open("sqlite3", "file:"+path+"?_busy_timeout=10000")
	} else {
		// No statement cache: a test reads the same table before and
		// after a migration changes its columns.
		db, err = sql.Open("pgx", withParam(storeURL, "default_query_exec_mode", "exec"))
	}
	if err != nil {
		t.Fatalf("open %s: %v", storeURL, err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func copyFile(t testing.TB, src, dst string) {
	t.Helper()
	in, err := os.Open(src)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	out, err := os.Create(dst)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(out, in); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
}

// withParam sets a query parameter of a database URL.
func withParam(raw, key, value string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return raw
	}
	q := u.Query()
	q.Set(key, value)
	u.RawQuery = q.Encode()
	return u.String()
}
