package models

import (
	"bytes"
	"context"
	"database/sql"
	"log/slog"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"gorm.io/gorm"
)

// TestCheckpointer_CopiesCommitsIntoTheDatabaseFile commits one small row
// and waits for it to reach the database file itself, read without the
// log. The writer alone would leave it in the log until the log is
// thousands of pages long, so only the background checkpointer puts it
// there.
func TestCheckpointer_CopiesCommitsIntoTheDatabaseFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "c.db")
	s, err := Open("sqlite:"+path, Options{Secret: []byte("x")})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	if err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	var pages int
	if err := s.write.Raw("PRAGMA wal_autocheckpoint").Scan(&pages).Error; err != nil || pages != writerCheckpointPages {
		t.Fatalf("writer checkpoints at %d pages (%v), want %d", pages, err, writerCheckpointPages)
	}
	marker := "ckpt-" + RandomToken(6)
	if err := s.tx(ctx, func(tx *gorm.DB) error { return tx.Create(&Setting{Key: marker, Value: "1"}).Error }); err != nil {
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

// TestCheckpointer_SaysAFailureOncePerStreak pokes a checkpointer whose
// connection cannot work: however many commits poke it, the warning is
// logged once.
func TestCheckpointer_SaysAFailureOncePerStreak(t *testing.T) {
	db, err := sql.Open(sqliteWriterDriver, "file:"+filepath.Join(t.TempDir(), "gone.db"))
	if err != nil {
		t.Fatal(err)
	}
	db.Close() // every checkpoint now fails: the pool is closed
	var failures failureCount
	c := newCheckpointer(db, time.Millisecond, slog.New(slog.NewTextHandler(&failures, nil)))
	for range 5 {
		c.committed()
		time.Sleep(20 * time.Millisecond)
	}
	c.close()
	if n := failures.n.Load(); n != 1 {
		t.Fatalf("the failure was logged %d times, want once", n)
	}
}

// failureCount counts the log lines that say a background checkpoint
// failed. The checkpointer's goroutine writes them.
type failureCount struct{ n atomic.Int32 }

func (w *failureCount) Write(p []byte) (int, error) {
	if bytes.Contains(p, []byte("background checkpoint failed")) {
		w.n.Add(1)
	}
	return len(p), nil
}
