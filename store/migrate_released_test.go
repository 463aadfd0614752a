package store

import (
	"crypto/sha256"
	"fmt"
	"strings"
	"testing"
)

// released holds the start of the SHA-256 of each released migration's
// statements (comments aside), per dialect. A database that ran a migration
// never runs it again, so changing one would leave databases that ran the
// old statements with another schema than fresh ones: a change is a new
// migration. When a release ships a new migration, add its line.
var released = map[struct {
	version int
	dialect string
}]string{
	{1, "sqlite"}:    "eaf1262f12a027aa",
	{1, "postgres"}:  "259d8db68396134e",
	{2, "sqlite"}:    "356421c65f532998",
	{2, "postgres"}:  "356421c65f532998",
	{3, "sqlite"}:    "e833502631eb25af",
	{3, "postgres"}:  "e833502631eb25af",
	{4, "sqlite"}:    "efbaaf2d5d50a3de",
	{4, "postgres"}:  "efbaaf2d5d50a3de",
	{5, "sqlite"}:    "7b83cb7e3e95b566",
	{5, "postgres"}:  "3910156adcca2243",
	{6, "sqlite"}:    "87c10edd54d19985",
	{6, "postgres"}:  "e24664ea637607d0",
	{7, "sqlite"}:    "0b61acc586ba2b29",
	{7, "postgres"}:  "661fc91ee9c1c5f2",
	{8, "sqlite"}:    "6082eadbd49d688f",
	{8, "postgres"}:  "ed446f85c343e114",
	{9, "sqlite"}:    "dff181e35e8600d8",
	{9, "postgres"}:  "d6c862534f3e0ec0",
	{12, "sqlite"}:   "0742e5d1960f283b",
	{12, "postgres"}: "81769f094a9f04f5",
	{13, "postgres"}: "a9310b0bd48cf21d",
	{14, "sqlite"}:   "42b83c9b57d06bbb",
	{14, "postgres"}: "c910f53067be2b28",
	{15, "sqlite"}:   "0a3dad30bb0606b8",
	{15, "postgres"}: "0a3dad30bb0606b8",
	{16, "sqlite"}:   "35673171b496014f",
	{16, "postgres"}: "379851daf427a011",
}

// TestMigrations_ReleasedOnesNeverChange guards the rule above.
func TestMigrations_ReleasedOnesNeverChange(t *testing.T) {
	seen := 0
	for _, m := range migrations {
		for _, dialect := range []string{DialectSQLite, DialectPostgres} {
			stmts, err := migrationSQL(m.File, dialect)
			if err != nil {
				t.Fatal(err)
			}
			want, ok := released[struct {
				version int
				dialect string
			}{m.Version, dialect}]
			if !ok {
				continue // not released yet
			}
			seen++
			got := fmt.Sprintf("%x", sha256.Sum256([]byte(strings.Join(stmts, ";\n"))))[:16]
			if got != want {
				t.Errorf("migration %d (%s) on %s changed after its release (sha256 %s, released %s): put the change in a new migration",
					m.Version, m.Name, dialect, got, want)
			}
		}
	}
	if seen != len(released) {
		t.Errorf("%d released migrations found of %d: a released migration is gone", seen, len(released))
	}
}
