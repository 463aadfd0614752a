package main

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/callbook/callbook/store"
)

// TestCommands_StopOnADatabaseOfANewerVersion: a database holding a
// migration this binary does not know stops serve, migrate and the commands
// that use the database with one line saying what to do, exit 1, and
// nothing written.
func TestCommands_StopOnADatabaseOfANewerVersion(t *testing.T) {
	clearEnv(t)
	dbPath := filepath.Join(t.TempDir(), "callbook.db")
	t.Setenv("CALLBOOK_DATABASE_URL", "sqlite:"+dbPath)
	t.Setenv("CALLBOOK_ADDR", "127.0.0.1:0")
	if code, _, stderr := runCmd(t, "migrate"); code != 0 {
		t.Fatalf("migrate a fresh database: exit %d: %s", code, stderr)
	}
	s, err := store.Open("sqlite:"+dbPath, store.Options{Secret: []byte("only-marking-the-database-here")})
	if err != nil {
		t.Fatal(err)
	}
	var known int
	if err := s.DB().Raw("SELECT MAX(version) FROM schema_migrations").Scan(&known).Error; err != nil {
		t.Fatal(err)
	}
	// Two versions ahead, as after an upgrade and a rollback of the binary.
	if err := s.DB().Exec("INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
		known+2, "written by a newer version", time.Now()).Error; err != nil {
		t.Fatal(err)
	}
	s.Close()

	want := fmt.Sprintf("the database was written by a newer version of Callbook (schema %d, this binary knows up to %d); upgrade the binary\n",
		known+2, known)
	for _, args := range [][]string{{"serve"}, {"migrate"}, {"export"}} {
		code, stdout, stderr := runCmd(t, args...)
		if code != 1 || stdout != "" || stderr != "callbook "+args[0]+": "+want {
			t.Errorf("callbook %s: exit %d, stdout %q, stderr %q; want exit 1 and one line:\ncallbook %s: %s",
				strings.Join(args, " "), code, stdout, stderr, args[0], want)
		}
	}
}
