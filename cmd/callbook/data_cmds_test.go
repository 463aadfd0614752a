package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/callbook/callbook/models"
	"github.com/callbook/callbook/store"
	"github.com/callbook/callbook/store/storetest"
)

// mustDataDB makes a migrated SQLite database with three leads and points
// the commands' configuration at it.
func mustDataDB(t *testing.T) (*store.Store, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "callbook.db")
	clock := storetest.NewClock(time.Date(2026, 5, 4, 15, 0, 0, 0, time.UTC))
	s := storetest.MustOpenURL(t, "sqlite:"+path, storetest.Options(clock))
	for i, l := range []models.Lead{
		{Email: "ada@example.com", Name: "Lovelace, Ada", TargetTitle: "Backend Engineer", Status: "client",
			CreatedAt: time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)},
		{Email: "bob@example.com", Name: "=cmd()", TargetTitle: "Backend Engineer", Status: "new",
			CreatedAt: time.Date(2026, 5, 2, 12, 0, 0, 0, time.UTC)},
		{Email: "cy@example.com", Name: "Сергей", TargetTitle: "Data Analyst", Status: "client",
			CreatedAt: time.Date(2026, 4, 1, 12, 0, 0, 0, time.UTC)},
	} {
		l.EmailKey, l.UpdatedAt = l.Email, l.CreatedAt
		if err := s.DB().Create(&l).Error; err != nil {
			t.Fatalf("lead %d: %v", i, err)
		}
	}
	t.Setenv("CALLBOOK_DATABASE_URL", "sqlite:"+path)
	t.Setenv("CALLBOOK_SECRET", "test-secret-test-secret-test-secret")
	return s, path
}

func runCmd(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(context.Background(), args, strings.NewReader(""), &out, &errb)
	return code, out.String(), errb.String()
}

func TestExportCommand_WritesFilteredCSVQuietly(t *testing.T) {
	s, _ := mustDataDB(t)
	out := filepath.Join(t.TempDir(), "leads.csv")
	code, stdout, stderr := runCmd(t, "export", "--out", out, "--status", "client", "--from", "2026-04-15", "--to", "2026-05-04")
	if code != 0 || stdout != "" || stderr != "" {
		t.Fatalf("exit %d, stdout %q, stderr %q; want 0 and silence off a terminal", code, stdout, stderr)
	}
	f, err := os.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 2 || recs[0][0] != "id" || recs[1][2] != "Lovelace, Ada" || recs[1][1] != "2026-05-01T12:00:00Z" {
		t.Fatalf("CSV = %q", recs)
	}
	var ev models.Event
	if err := s.DB().Where("type = ?", "lead.exported").Take(&ev).Error; err != nil {
		t.Fatalf("no lead.exported event: %v", err)
	}
	if !strings.Contains(ev.Data, `"rows":1`) || !strings.Contains(ev.Data, `"status":"client"`) {
		t.Errorf("event data = %s", ev.Data)
	}
}

func TestExportCommand_StandardOutputNeutralizesFormulas(t *testing.T) {
	mustDataDB(t)
	code, stdout, stderr := runCmd(t, "export", "--target-title", "Backend Engineer")
	if code != 0 || stderr != "" {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
	recs, err := csv.NewReader(strings.NewReader(stdout)).ReadAll()
	if err != nil || len(recs) != 3 || recs[1][2] != "'=cmd()" {
		t.Fatalf("CSV = %q (%v)", recs, err)
	}
}

func TestExportCommand_BadUsageExitsTwo(t *testing.T) {
	mustDataDB(t)
	for _, args := range [][]string{
		{"export", "--status", "vip"}, {"export", "--from", "May 1"}, {"export", "--nope"},
		{"export", "--from", "2026-05-02", "--to", "2026-05-01"}, {"backup"}, {"backup", "--out"},
	} {
		if code, _, stderr := runCmd(t, args...); code != 2 || strings.Count(stderr, "\n") != 1 {
			t.Errorf("%q: exit %d, stderr %q; want 2 and one line", args, code, stderr)
		}
	}
}

func TestBackupCommand_CopiesAndRefusesToOverwrite(t *testing.T) {
	mustDataDB(t)
	out := filepath.Join(t.TempDir(), "copy.db")
	if code, _, stderr := runCmd(t, "backup", "--out", out); code != 0 {
		t.Fatalf("backup: exit %d, %s", code, stderr)
	}
	cp, err := store.Open("sqlite:"+out, storetest.Options(storetest.NewClock(time.Now())))
	if err != nil {
		t.Fatal(err)
	}
	n, err := cp.CountLeads(context.Background(), store.LeadFilter{})
	cp.Close()
	if err != nil || n != 3 {
		t.Fatalf("copy has %d leads (%v), want 3", n, err)
	}
	code, _, stderr := runCmd(t, "backup", "--out", out)
	if code != 1 || !strings.Contains(stderr, "--force") {
		t.Errorf("second backup: exit %d, %q; want 1 and a hint to use --force", code, stderr)
	}
	if code, _, stderr := runCmd(t, "backup", "--out", out, "--force"); code != 0 {
		t.Errorf("forced backup: exit %d, %s", code, stderr)
	}
}

func TestBackupCommand_PostgresPointsToPgDump(t *testing.T) {
	t.Setenv("CALLBOOK_DATABASE_URL", "postgres://u:p@127.0.0.1:1/db?sslmode=disable")
	code, _, stderr := runCmd(t, "backup", "--out", filepath.Join(t.TempDir(), "x.db"))
	if code != 1 || !strings.Contains(stderr, "pg_dump") || strings.Count(stderr, "\n") != 1 {
		t.Errorf("exit %d, stderr %q; want 1 and one line naming pg_dump", code, stderr)
	}
}

func TestDataCommands_MissingDatabaseIsNotCreated(t *testing.T) {
	path := filepath.Join(t.TempDir(), "none", "callbook.db")
	t.Setenv("CALLBOOK_DATABASE_URL", "sqlite:"+path)
	t.Setenv("CALLBOOK_SECRET", "test-secret-test-secret-test-secret")
	if code, _, stderr := runCmd(t, "export"); code != 1 || !strings.Contains(stderr, "CALLBOOK_DATABASE_URL") {
		t.Errorf("export: exit %d, %q", code, stderr)
	}
	if _, err := os.Stat(path); err == nil {
		t.Error("export created a database")
	}
}
