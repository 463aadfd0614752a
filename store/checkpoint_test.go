package store

import (
	"bytes"
	"context"
	"database/sql"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/callbook/callbook/models"
)

// TestCheckpointer_CopiesCommitsIntoTheDatabaseFile commits one small row
// and waits for it to reach the database file itself, read without the
// log. The writer alone would leave it in the log until the log is
// thousands of pages long, so only the background checkpointer puts it
// there.
func TestCheckpointer_CopiesCommitsIntoTheDatabaseFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "c.db")
	s := openInternalStoreAt(t, path)
	ctx := context.Background()
	var pages int
	if err := s.write.Raw("PRAGMA wal_autocheckpoint").Scan(&pages).Error; err != nil || pages != writerCheckpointPages {
		t.Fatalf("writer checkpoints at %d pages (%v), want %d", pages, err, writerCheckpointPages)
	}
	marker := "ckpt-" + RandomToken(6)
	if err := s.tx(ctx, func(tx *gorm.DB) error { return tx.Create(&models.Setting{Key: marker, Value: "1"}).Error }); err != nil {
		t.Fatal(err)
	}

	copyPath := filepath.Join(dir, "copy.db")
	inFile := func() bool {
		b, err := os.ReadFile(path)
		if err != nil || os.WriteFile(copyPath, b, 0o600) != nil {
			return false
		}
		db, err := sql.Open("sqlite3", "file:"+copyPath+"?mode=ro&immutable=1")
		if err != nil {
			return false
		}
		defer db.Close()
		var n int
		return db.QueryRow("SELECT COUNT(*) FROM settings WHERE key = ?", marker).Scan(&n) == nil && n == 1
	}
	deadline := time.Now().Add(15 * time.Second)
	for !inFile() {
		if time.Now().After(deadline) {
			t.Fatal("the committed row never reached the database file: nothing checkpointed the log")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestCheckpointer_SaysAFailureOncePerStreak runs checkpoints on a
// connection that cannot work, then on one that does: the failure is
// logged once however often it repeats, and the recovery once.
func TestCheckpointer_SaysAFailureOncePerStreak(t *testing.T) {
	path := filepath.Join(t.TempDir(), "c.db")
	gone, err := sql.Open(sqliteWriterDriver, "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	gone.Close() // every checkpoint on it fails: the pool is closed
	var logs bytes.Buffer
	c := &checkpointer{db: gone, log: slog.New(slog.NewTextHandler(&logs, nil))}
	for range 5 {
		c.checkpoint()
	}
	works, err := sql.Open(sqliteWriterDriver, "file:"+path+"?_journal_mode=WAL")
	if err != nil {
		t.Fatal(err)
	}
	defer works.Close()
	c.db = works
	for range 3 {
		c.checkpoint()
	}
	failed, again := strings.Count(logs.String(), "background checkpoint failed"), strings.Count(logs.String(), "background checkpoint works again")
	if failed != 1 || again != 1 {
		t.Fatalf("logged the failure %d times and the recovery %d times, want once each:\n%s", failed, again, logs.String())
	}
}
