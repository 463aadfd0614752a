package store_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/callbook/callbook/models"
	"github.com/callbook/callbook/store"
	"github.com/callbook/callbook/store/storetest"
)

// writeLeadsWithBookings inserts a lead and its booking in one transaction,
// over and over until stop closes, so a consistent copy always holds as
// many bookings as leads.
func writeLeadsWithBookings(s *store.Store, stop <-chan struct{}, written *atomic.Int64) error {
	var host models.User
	if err := s.DB().Where("host = ?", true).Take(&host).Error; err != nil {
		return err
	}
	for i := 0; ; i++ {
		select {
		case <-stop:
			return nil
		default:
		}
		err := s.DB().Transaction(func(tx *gorm.DB) error {
			e := fmt.Sprintf("w%d@example.com", i)
			l := models.Lead{EmailKey: e, Email: e, Name: "Writer", TargetTitle: "QA", Status: models.LeadNew,
				CreatedAt: exportT0, UpdatedAt: exportT0}
			if err := tx.Create(&l).Error; err != nil {
				return err
			}
			uid := store.RandomToken(16)
			return tx.Create(&models.Booking{UID: uid, TokenHash: uid, LeadID: l.ID, HostID: host.ID,
				Status: models.BookingConfirmed, StartAt: exportT0.Add(time.Duration(i) * time.Hour),
				EndAt: exportT0.Add(time.Duration(i)*time.Hour + 30*time.Minute), Timezone: "UTC",
				TargetTitle: "QA", CreatedAt: exportT0, UpdatedAt: exportT0}).Error
		})
		if err != nil {
			return err
		}
		written.Add(1)
	}
}

func TestBackup_ConsistentCopyWhileBookingsAreWritten(t *testing.T) {
	s := openExportStore(t, store.DialectSQLite)
	stop := make(chan struct{})
	var written atomic.Int64
	var wg sync.WaitGroup
	var writeErr error
	wg.Add(1)
	go func() { defer wg.Done(); writeErr = writeLeadsWithBookings(s, stop, &written) }()
	for written.Load() < 200 {
		time.Sleep(5 * time.Millisecond)
	}
	before := written.Load()
	out := filepath.Join(t.TempDir(), "copy.db")
	err := s.Backup(context.Background(), out, false)
	after := written.Load()
	for written.Load() < after+50 { // bookings went on after the copy
		time.Sleep(5 * time.Millisecond)
	}
	close(stop)
	wg.Wait()
	if err != nil || writeErr != nil {
		t.Fatalf("backup: %v; writer: %v", err, writeErr)
	}

	cp, err := store.Open("sqlite:"+out, storetest.Options(storetest.NewClock(exportT0)))
	if err != nil {
		t.Fatal(err)
	}
	defer cp.Close()
	var check string
	if err := cp.ReadDB().Raw("PRAGMA integrity_check").Scan(&check).Error; err != nil || check != "ok" {
		t.Fatalf("integrity_check = %q, %v", check, err)
	}
	var leads, bookings int64
	cp.ReadDB().Table("leads").Count(&leads)
	cp.ReadDB().Table("bookings").Count(&bookings)
	if leads < before || leads > after+1 || leads != bookings {
		t.Errorf("copy has %d leads and %d bookings; %d were written before the backup, %d after", leads, bookings, before, after)
	}
}

func TestBackup_RefusesToOverwriteUnlessForced(t *testing.T) {
	s := openExportStore(t, store.DialectSQLite)
	mustInsertLead(t, s, models.Lead{Email: "a@example.com", Name: "A", TargetTitle: "X", CreatedAt: exportT0})
	out := filepath.Join(t.TempDir(), "copy.db")
	if err := os.WriteFile(out, []byte("keep me"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := s.Backup(context.Background(), out, false); !errors.Is(err, store.ErrBackupExists) {
		t.Fatalf("backup over an existing file = %v, want ErrBackupExists", err)
	}
	if b, _ := os.ReadFile(out); string(b) != "keep me" {
		t.Fatal("existing file was changed")
	}
	if err := s.Backup(context.Background(), out, true); err != nil {
		t.Fatalf("forced backup: %v", err)
	}
	cp, err := store.Open("sqlite:"+out, storetest.Options(storetest.NewClock(exportT0)))
	if err != nil {
		t.Fatal(err)
	}
	defer cp.Close()
	if n, err := cp.CountLeads(context.Background(), store.LeadFilter{}); err != nil || n != 1 {
		t.Errorf("forced copy has %d leads (%v), want 1", n, err)
	}
	left, _ := filepath.Glob(filepath.Join(filepath.Dir(out), ".copy.db.*"))
	if len(left) != 0 {
		t.Errorf("temporary files left: %v", left)
	}
}

func TestBackup_PostgresSaysUsePgDump(t *testing.T) {
	s := openExportStore(t, store.DialectPostgres)
	err := s.Backup(context.Background(), filepath.Join(t.TempDir(), "x.db"), false)
	if !errors.Is(err, store.ErrBackupPostgres) {
		t.Fatalf("backup on PostgreSQL = %v, want ErrBackupPostgres", err)
	}
}
