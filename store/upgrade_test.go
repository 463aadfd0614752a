package store_test

import (
	"context"
	"database/sql"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/callbook/callbook/store"
	"github.com/callbook/callbook/store/storetest"
)

// fixtureOptions opens a fixture with the secret its version wrote it with.
func fixtureOptions() store.Options {
	opts := storetest.Options(storetest.NewClock(time.Date(2027, 1, 4, 14, 0, 0, 0, time.UTC)))
	opts.Secret = []byte(storetest.FixtureSecret)
	return opts
}

// derived reports whether a table or schema line belongs to the SQLite
// search index, which start-up rebuilds from the leads rather than a
// migration keeping it (search tests check it).
func derived(s string) bool { return strings.Contains(s, "leads_fts") }

// tableRows reads every table but the search index, each row spelled as one
// line of its columns in order.
func tableRows(t *testing.T, db *sql.DB, dialect string) map[string][]map[string]string {
	t.Helper()
	out := map[string][]map[string]string{}
	for _, table := range storetest.Tables(t, db, dialect) {
		if !derived(table) {
			out[table] = storetest.Rows(t, db, table)
		}
	}
	return out
}

// rowLines spells each row as its values under cols, sorted.
func rowLines(rows []map[string]string, cols []string) []string {
	lines := make([]string, len(rows))
	for i, r := range rows {
		var b strings.Builder
		for _, c := range cols {
			b.WriteString(c + "=" + r[c] + "|")
		}
		lines[i] = b.String()
	}
	sort.Strings(lines)
	return lines
}

// grows lists the tables a migration or the start after it adds rows to:
// the record of migrations, and settings that say what state the search
// index and the roll-up are in.
var grows = map[string]bool{"schema_migrations": true, "settings": true}

// restated lists the columns start-up may rewrite: a setting's value says
// which version of the search index is built, and a newer binary builds its
// own.
var restated = map[string]bool{"settings.value": true}

// TestUpgrade_FromEveryReleasedVersion migrates each database a released
// version wrote (store/testdata/upgrade) with the current code, on SQLite
// and PostgreSQL, and checks that:
//   - a fresh database taken through the same migrations has the fixture's
//     schema: the frozen migrations are what that version ran;
//   - every row of every table is still there, with the same values;
//   - the schema is then the one a fresh database gets;
//   - what the version wrote reads back as it meant it.
func TestUpgrade_FromEveryReleasedVersion(t *testing.T) {
	for _, fixture := range storetest.UpgradeFixtures(t) {
		t.Run(fixture, func(t *testing.T) {
			storetest.ForEachDialect(t, func(t *testing.T, dialect string) {
				url := storetest.RestoreFixture(t, fixture, dialect)
				raw := storetest.OpenRaw(t, url)
				before := tableRows(t, raw, dialect)
				for table, rows := range before {
					if len(rows) == 0 {
						t.Errorf("the fixture's %s table has no row: a fixture must exercise every table", table)
					}
				}
				checkSameSchemaAtVersion(t, dialect, raw, before["schema_migrations"])

				s := openMigrated(t, url, fixtureOptions())
				after := tableRows(t, raw, dialect)
				checkRowsSurvived(t, before, after)
				if got, want := storetest.SchemaShape(t, raw, dialect), freshShape(t, dialect); !slices.Equal(got, want) {
					t.Errorf("the upgraded schema differs from a fresh database's:\n%s", lineDiff(want, got))
				}
				checkFixtureValues(t, s)
			})
		})
	}
}

// checkSameSchemaAtVersion compares the fixture's schema with a fresh
// database migrated to the fixture's newest version.
func checkSameSchemaAtVersion(t *testing.T, dialect string, raw *sql.DB, versions []map[string]string) {
	t.Helper()
	newest := 0
	for _, r := range versions {
		v, err := strconv.Atoi(r["version"])
		if err != nil {
			t.Fatalf("schema_migrations version %q", r["version"])
		}
		newest = max(newest, v)
	}
	freshURL := storetest.URL(t, dialect)
	fresh, err := store.Open(freshURL, fixtureOptions())
	if err != nil {
		t.Fatal(err)
	}
	defer fresh.Close()
	if err := store.MigrateTo(context.Background(), fresh, newest); err != nil {
		t.Fatalf("migrate a fresh database to %d: %v", newest, err)
	}
	shape := func(db *sql.DB) []string {
		return slices.DeleteFunc(storetest.SchemaShape(t, db, dialect), derived)
	}
	if got, want := shape(storetest.OpenRaw(t, freshURL)), shape(raw); !slices.Equal(got, want) {
		t.Errorf("migrations 1 to %d give a schema other than the released version's:\n%s", newest, lineDiff(want, got))
	}
}

// checkRowsSurvived: each row before is still there with the same values
// in the columns it had, and no table lost or gained rows but those that
// record the migrations and start-up state.
func checkRowsSurvived(t *testing.T, before, after map[string][]map[string]string) {
	t.Helper()
	for table, rows := range before {
		afterRows, ok := after[table]
		if !ok {
			t.Errorf("table %s is gone", table)
			continue
		}
		var cols []string
		for c := range rows[0] {
			if !restated[table+"."+c] {
				cols = append(cols, c)
			}
		}
		sort.Strings(cols)
		was, is := rowLines(rows, cols), rowLines(afterRows, cols)
		if !grows[table] && len(is) != len(was) {
			t.Errorf("%s: %d rows before the upgrade, %d after", table, len(was), len(is))
		}
		for _, l := range was {
			i, found := slices.BinarySearch(is, l)
			if !found {
				t.Errorf("%s: row lost or changed by the upgrade: %s", table, l)
				continue
			}
			is = slices.Delete(is, i, i+1)
		}
	}
}

// checkFixtureValues reads back what every fixture's version was asked to
// write (see store/testdata/upgrade/generate/fill.go).
func checkFixtureValues(t *testing.T, s *store.Store) {
	t.Helper()
	var ada struct {
		Name, Status, FirstUTMSource string
		OwnerEmail                   string
	}
	err := s.DB().Raw(`SELECT l.name, l.status, l.first_utm_source, u.email AS owner_email
		FROM leads l JOIN users u ON u.id = l.owner_id WHERE l.email_key = ?`, "ada@example.com").Scan(&ada).Error
	if err != nil {
		t.Fatal(err)
	}
	// Ada came back as Ada King from LinkedIn after a first booking from
	// Google; a sales user owns her lead and contacted her.
	if ada.Name != "Ada King" || ada.Status != "contacted" || ada.FirstUTMSource != "google" || ada.OwnerEmail != "sales@callbook.example" {
		t.Errorf("Ada's lead after the upgrade: %+v", ada)
	}
	var erased int64
	if err := s.DB().Raw("SELECT COUNT(*) FROM leads WHERE erased_at IS NOT NULL AND email_key LIKE 'erased:%'").Scan(&erased).Error; err != nil {
		t.Fatal(err)
	}
	if erased != 1 {
		t.Errorf("%d erased leads after the upgrade, want Barbara's", erased)
	}
}
