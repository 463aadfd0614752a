package main

import (
	"fmt"
	"log"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// captureTest is dropped into a released version's models package to record
// the SQL its migrations send: mode "initial" runs migration 1 alone on an
// empty database (what the first release created, before its later steps),
// mode "migrate" runs every pending migration on an existing database.
// Only statements that change the schema or rows are kept.
//
// Versions up to c03747a keep their migrations in models; later ones in
// store, where migration 1 is frozen SQL already (only "migrate" applies).
const captureTest = `package PKG

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	GORM
	"gorm.io/gorm/logger"
)

type captureLogger struct{ stmts *[]string }

func (l captureLogger) LogMode(logger.LogLevel) logger.Interface { return l }
func (captureLogger) Info(context.Context, string, ...any)        {}
func (captureLogger) Warn(context.Context, string, ...any)        {}
func (captureLogger) Error(context.Context, string, ...any)       {}
func (l captureLogger) Trace(_ context.Context, _ time.Time, fc func() (string, int64), err error) {
	if err != nil {
		return
	}
	q, _ := fc()
	for _, p := range []string{"CREATE", "ALTER", "DROP", "UPDATE", "INSERT", "DELETE"} {
		if strings.HasPrefix(strings.ToUpper(strings.TrimSpace(q)), p) {
			*l.stmts = append(*l.stmts, strings.TrimSpace(q))
			return
		}
	}
}

func TestCaptureSchemaSQL(t *testing.T) {
	dbURL := os.Getenv("CAPTURE_DB")
	if dbURL == "" {
		t.Skip("run by the upgrade fixture generator only")
	}
	s, err := Open(dbURL, Options{Secret: []byte("capture")})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var stmts []string
	s.write.Logger = captureLogger{&stmts}
	if os.Getenv("CAPTURE_MODE") == "initial" {
		err = INITIAL
	} else {
		err = s.Migrate(context.Background())
	}
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(os.Getenv("CAPTURE_OUT"), []byte(strings.Join(stmts, ";\n")+";\n"), 0o644); err != nil {
		t.Fatal(err)
	}
}
`

// captureInitialSchema writes the SQL migration 1 of version v sent to an
// empty SQLite database and an empty PostgreSQL database, into dir as
// initial.sqlite.sql and initial.postgres.sql.
func captureInitialSchema(v *version, tags, dir, pgServer string) error {
	tmp, err := os.MkdirTemp("", "cb-capture-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	out := map[string]string{"sqlite": "sqlite:" + filepath.Join(tmp, "capture.db")}
	if pgServer != "" {
		db := "callbook_capture_" + v.short
		if _, err := output("psql", pgServer, "-X", "-c", "DROP DATABASE IF EXISTS "+db, "-c", "CREATE DATABASE "+db); err != nil {
			return err
		}
		defer output("psql", pgServer, "-X", "-c", "DROP DATABASE IF EXISTS "+db)
		u, err := url.Parse(pgServer)
		if err != nil {
			return err
		}
		u.Path = "/" + db
		out["postgres"] = u.String()
	}
	for dialect, dbURL := range out {
		dst, err := filepath.Abs(filepath.Join(dir, "initial."+dialect+".sql"))
		if err != nil {
			return err
		}
		if err := runCapture(v, tags, "initial", dbURL, dst); err != nil {
			return fmt.Errorf("%s: %w", dialect, err)
		}
		log.Printf("wrote %s", dst)
	}
	return nil
}

// runCapture runs the capture test of version v in mode against dbURL.
func runCapture(v *version, tags, mode, dbURL, dst string) error {
	pkg, initial, gormImport := "models", `s.write.Transaction(func(tx *gorm.DB) error {
		return migrations[0].Up(tx.Session(&gorm.Session{NewDB: true}), s.dialect)
	})`, `"gorm.io/gorm"`
	if _, err := os.Stat(filepath.Join(v.src, "store", "migrate.go")); err == nil {
		if mode == "initial" {
			return fmt.Errorf("%s keeps migration 1 as frozen SQL in store/migrations already", v.short)
		}
		pkg, initial, gormImport = "store", "error(nil)", ""
	}
	src := strings.NewReplacer("PKG", pkg, "INITIAL", initial, "GORM", gormImport).Replace(captureTest)
	test := filepath.Join(v.src, pkg, "zz_capture_test.go")
	if err := os.WriteFile(test, []byte(src), 0o644); err != nil {
		return err
	}
	defer os.Remove(test)
	cmd := exec.Command("go", "test", "-tags", tags, "-count=1", "-run", "^TestCaptureSchemaSQL$", "./"+pkg)
	cmd.Dir = v.src
	cmd.Env = append(os.Environ(), "CAPTURE_DB="+dbURL, "CAPTURE_MODE="+mode, "CAPTURE_OUT="+dst)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		return err
	}
	b, err := os.ReadFile(dst)
	if err != nil {
		return err
	}
	if strings.TrimSpace(string(b)) == ";" {
		return fmt.Errorf("no statements captured")
	}
	return nil
}
