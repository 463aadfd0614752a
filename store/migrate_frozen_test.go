package store_test

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/callbook/callbook/models"
	"github.com/callbook/callbook/store"
	"github.com/callbook/callbook/store/storetest"
)

// openMigrated opens the store at url, migrates it and returns it with the
// database underneath, both closed when the test ends.
func openMigrated(t *testing.T, url string, opts store.Options) *store.Store {
	t.Helper()
	s, err := store.Open(url, opts)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	if err := s.Migrate(context.Background()); err != nil {
		t.Fatalf("migrate: %v", err)
	}
	return s
}

// freshShape is the schema the migrations give an empty database.
func freshShape(t *testing.T, dialect string) []string {
	t.Helper()
	url := storetest.URL(t, dialect)
	openMigrated(t, url, storetest.Options(storetest.NewClock(time.Now())))
	return storetest.SchemaShape(t, storetest.OpenRaw(t, url), dialect)
}

// TestMigrations_MakeWhatTheTableDefinitionsDescribe checks the frozen
// migrations against the code that reads and writes the tables: an empty
// database migrated has every table of models.Tables with exactly the
// columns (type, nullability, default) the definitions give, and every
// index they declare. A field added without a migration, or a migration
// that gives a column another type or default, fails here.
func TestMigrations_MakeWhatTheTableDefinitionsDescribe(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, dialect string) {
		migrated := freshShape(t, dialect)

		url := storetest.URL(t, dialect)
		s, err := store.Open(url, storetest.Options(storetest.NewClock(time.Now())))
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		if err := s.DB().AutoMigrate(models.Tables()...); err != nil {
			t.Fatalf("create the tables from their definitions: %v", err)
		}
		declared := storetest.SchemaShape(t, storetest.OpenRaw(t, url), dialect)

		tables := map[string]bool{}
		for _, l := range declared {
			if name, ok := strings.CutPrefix(l, "table "); ok {
				tables[name] = true
			}
		}
		// The columns of the declared tables, as the migrations made them;
		// a primary key column's NOT NULL is left out, since SQLite says it
		// only where the table was written WITHOUT ROWID.
		columns := func(shape []string) []string {
			var out []string
			for _, l := range shape {
				rest, ok := strings.CutPrefix(l, "column ")
				if !ok || !tables[rest[:strings.Index(rest, ".")]] {
					continue
				}
				if dialect == store.DialectSQLite && strings.Contains(l, " primary key ") {
					l = strings.Replace(l, " not null", "", 1)
				}
				out = append(out, l)
			}
			return out
		}
		if got, want := columns(migrated), columns(declared); !slices.Equal(got, want) {
			t.Errorf("the migrations' columns differ from the table definitions':\n%s", lineDiff(want, got))
		}
		for _, l := range declared {
			if strings.HasPrefix(l, "column ") {
				continue
			}
			if !slices.Contains(migrated, l) && !slices.Contains(migrated, l+" without rowid") {
				t.Errorf("declared by the table definitions but not made by the migrations: %s", l)
			}
		}
	})
}

// lineDiff lists the lines only in want (-) and only in got (+).
func lineDiff(want, got []string) string {
	var b strings.Builder
	for _, l := range want {
		if !slices.Contains(got, l) {
			b.WriteString("- " + l + "\n")
		}
	}
	for _, l := range got {
		if !slices.Contains(want, l) {
			b.WriteString("+ " + l + "\n")
		}
	}
	return b.String()
}

// TestMigrate_StopsOnADatabaseOfANewerVersion: a database that holds a
// migration this binary does not know was written by a newer version; the
// binary refuses it rather than run on a schema it does not understand.
func TestMigrate_StopsOnADatabaseOfANewerVersion(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, dialect string) {
		url := storetest.URL(t, dialect)
		s := openMigrated(t, url, storetest.Options(storetest.NewClock(time.Now())))
		var latest int
		if err := s.DB().Raw("SELECT MAX(version) FROM schema_migrations").Scan(&latest).Error; err != nil {
			t.Fatal(err)
		}
		if err := s.DB().Exec("INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
			latest+2, "from the future", time.Now()).Error; err != nil {
			t.Fatal(err)
		}
		err := s.Migrate(context.Background())
		var newer *store.NewerSchemaError
		if !errors.As(err, &newer) {
			t.Fatalf("migrate on a newer database: %v, want a NewerSchemaError", err)
		}
		want := "the database was written by a newer version of Callbook (schema " + strconv.Itoa(latest+2) +
			", this binary knows up to " + strconv.Itoa(latest) + "); upgrade the binary"
		if err.Error() != want {
			t.Errorf("error %q\nwant  %q", err, want)
		}
		if pending, err := s.MigrationsPending(context.Background()); err != nil || pending {
			t.Errorf("pending %v, %v: a replica still running the older binary keeps answering ready", pending, err)
		}
	})
}
