package store

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/callbook/callbook/models"
)

// TestLeadIndex_BatchedBookingsKeepTheSearchIndexInStep puts into one batch
// of the group committer bookings that create leads (whose index entries
// the batch writes at its end), a returning visitor who renames a lead
// created earlier in the same batch, a returning visitor of an older lead,
// a job of another kind that renames a lead of the batch, and an erasure.
// Whatever order they run in, FTS5's own integrity check must pass and a
// search must find what a scan of the table finds.
func TestLeadIndex_BatchedBookingsKeepTheSearchIndexInStep(t *testing.T) {
	if !sqliteFTS5 {
		t.Skip("built without the sqlite_fts5 tag: lead search scans and there is no index to keep in step")
	}
	s := openInternalStore(t)
	ctx := context.Background()
	if err := s.EnsureDefaultHost(ctx); err != nil {
		t.Fatal(err)
	}
	slots, _, err := s.Slots(ctx, s.Now(), s.Now().Add(28*24*time.Hour))
	if err != nil || len(slots) < 40 {
		t.Fatalf("%d slots (%v)", len(slots), err)
	}
	var next atomic.Int64 // each booking takes the next slot
	book := func(email, name string) (*models.BookingResult, error) {
		return s.BookSlot(ctx, models.BookingRequest{Name: name, Email: email, TargetTitle: "Backend Engineer",
			RoleSlug: "backend-engineer", Phone: "+1 555 0100", Start: slots[next.Add(1)-1].Start, Timezone: "Europe/Berlin"}, nil)
	}
	sizes := make(chan int, 64)
	s.group.observe = func(n int) { sizes <- n }
	admin := &models.User{Email: "admin@example.com", Name: "Admin", Role: models.RoleAdmin}

	for round := range 4 {
		old, err := book(fmt.Sprintf("olga.%d@example.com", round), fmt.Sprintf("Olga Older%d", round))
		if err != nil {
			t.Fatal(err)
		}
		<-sizes
		nadia, nils := fmt.Sprintf("nadia.%d@example.com", round), fmt.Sprintf("nils.%d@example.com", round)
		jobs := []func() error{
			func() error { _, err := book(nadia, fmt.Sprintf("Nadia Newcomer%d", round)); return err },
			func() error { _, err := book(nils, fmt.Sprintf("Nils Novel%d", round)); return err },
			func() error { _, err := book(nadia, fmt.Sprintf("Nadia Renamed%d", round)); return err },
			func() error { _, err := book(old.Lead.Email, fmt.Sprintf("Olga Returned%d", round)); return err },
			func() error {
				return s.tx(ctx, func(tx *gorm.DB) error {
					return tx.Model(&models.Lead{}).Where("email_key = ?", nils).Update("name", fmt.Sprintf("Nils Edited%d", round)).Error
				})
			},
			func() error {
				if err := s.EraseLead(ctx, old.Lead.ID, admin); err != nil && !errors.Is(err, models.ErrNotFound) {
					return err
				}
				return nil
			},
		}
		// Hold the writer in a batch of its own while the jobs queue up
		// behind it, so that they all join that batch when it lets go.
		// (A batch that fails runs its jobs again, this one included.)
		running, release := make(chan struct{}), make(chan struct{})
		var started sync.Once
		held := make(chan error, 1)
		go func() {
			held <- s.group.do(ctx, true, func(*gorm.DB) error { started.Do(func() { close(running) }); <-release; return nil })
		}()
		<-running
		var wg sync.WaitGroup
		errs := make([]error, len(jobs))
		for i, job := range jobs {
			wg.Add(1)
			go func() { defer wg.Done(); errs[i] = job() }()
		}
		// Release the writer once every job waits for it.
		for deadline := time.Now().Add(30 * time.Second); s.group.queued.Load() < int32(len(jobs)); time.Sleep(time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("round %d: only %d of %d jobs reached the writer", round, s.group.queued.Load(), len(jobs))
			}
		}
		close(release)
		wg.Wait()
		if err := <-held; err != nil {
			t.Fatal(err)
		}
		for i, err := range errs {
			if err != nil {
				t.Fatalf("round %d, job %d: %v", round, i, err)
			}
		}
		if n := <-sizes; n != 1+len(jobs) {
			t.Fatalf("round %d: the jobs ran in a batch of %d, not all together with the held one (%d)", round, n, 1+len(jobs))
		}

		if err := s.write.Exec("INSERT INTO leads_fts (leads_fts, rank) VALUES ('integrity-check', 1)").Error; err != nil {
			t.Fatalf("round %d: the search index disagrees with the leads: %v", round, err)
		}
		var flags int64
		if err := s.write.Model(&models.Setting{}).Where("key = ?", leadIndexDeferred).Count(&flags).Error; err != nil || flags != 0 {
			t.Fatalf("round %d: the batch left its deferral mark behind (%d, %v)", round, flags, err)
		}
		for _, frag := range []string{"nadia", "newcomer", "renamed", "nils", "novel", "edited", "olga", "older", "returned",
			fmt.Sprintf("%d@example", round), "example.com"} {
			CheckSearch(t, s, frag)
		}
	}
}

// CheckSearch compares the lead list's search (and its count) for frag with
// a scan of the live leads. It is exported for the package's external tests
// too; as a _test.go file's name, it is no part of the package.
func CheckSearch(t *testing.T, s *Store, frag string) {
	t.Helper()
	var all []models.Lead
	if err := s.write.Where("erased_at IS NULL").Find(&all).Error; err != nil {
		t.Fatal(err)
	}
	var want []uint
	f := strings.ToLower(frag)
	for _, l := range all {
		if strings.Contains(strings.ToLower(l.Name), f) || strings.Contains(l.EmailKey, f) {
			want = append(want, l.ID)
		}
	}
	rows, _, err := s.ListLeads(context.Background(), LeadFilter{Q: frag}, 200, "")
	if err != nil {
		t.Fatalf("search %q: %v", frag, err)
	}
	var got []uint
	for _, r := range rows {
		got = append(got, r.ID)
	}
	slices.Sort(want)
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Fatalf("search %q found %v, the table says %v", frag, got, want)
	}
	n, err := s.CountLeads(context.Background(), LeadFilter{Q: frag})
	if err != nil || n != int64(len(want)) {
		t.Fatalf("count %q = %d (%v), want %d", frag, n, err, len(want))
	}
}

// TestLeadIndex_UpgradesTheInsertTriggerOfEarlierVersions starts on a
// database whose index earlier versions kept ("built", with an insert
// trigger that always indexes): the trigger is replaced without a rebuild,
// and leads written outside any batch are still indexed at once.
func TestLeadIndex_UpgradesTheInsertTriggerOfEarlierVersions(t *testing.T) {
	if !sqliteFTS5 {
		t.Skip("built without the sqlite_fts5 tag: lead search scans and there is no index to keep in step")
	}
	path := filepath.Join(t.TempDir(), "u.db")
	s := openInternalStoreAt(t, path)
	for _, q := range []string{
		"DROP TRIGGER leads_fts_insert",
		`CREATE TRIGGER leads_fts_insert AFTER INSERT ON leads BEGIN
			INSERT INTO leads_fts (rowid, name, email_key) VALUES (new.id, new.name, new.email_key);
		END`,
		"UPDATE settings SET value = 'built' WHERE key = '" + leadSearchSetting + "'",
	} {
		if err := s.write.Exec(q).Error; err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	s.Close()

	s = openInternalStoreAt(t, path)
	var state, ddl string
	s.write.Raw("SELECT value FROM settings WHERE key = ?", leadSearchSetting).Scan(&state)
	s.write.Raw("SELECT sql FROM sqlite_master WHERE name = 'leads_fts_insert'").Scan(&ddl)
	if state != searchBuilt || !strings.Contains(ddl, leadIndexDeferred) {
		t.Fatalf("after the upgrade the index is %q with the trigger %s", state, ddl)
	}
	l := models.Lead{EmailKey: "quill@example.com", Email: "quill@example.com", Name: "Quentin Quill", TargetTitle: "Backend Engineer",
		Status: models.LeadNew, CreatedAt: s.Now(), UpdatedAt: s.Now()}
	if err := s.write.Create(&l).Error; err != nil {
		t.Fatal(err)
	}
	var n int64
	s.write.Raw(`SELECT count(*) FROM leads_fts WHERE leads_fts MATCH '"quentin"'`).Scan(&n)
	if n != 1 {
		t.Fatalf("a lead written outside a batch is in the index %d times, want 1", n)
	}
	if err := s.write.Exec("INSERT INTO leads_fts (leads_fts, rank) VALUES ('integrity-check', 1)").Error; err != nil {
		t.Fatal(err)
	}
}

// TestLeadIndex_AStrayDeferralMarkIsClearedAndTheIndexRebuilt finds the
// mark that holds the insert trigger back outside any batch, as no
// committed transaction should leave it, with a lead written meanwhile and
// so missing from the index: the next start drops the mark and rebuilds.
func TestLeadIndex_AStrayDeferralMarkIsClearedAndTheIndexRebuilt(t *testing.T) {
	if !sqliteFTS5 {
		t.Skip("built without the sqlite_fts5 tag: lead search scans and there is no index to keep in step")
	}
	path := filepath.Join(t.TempDir(), "m.db")
	s := openInternalStoreAt(t, path)
	if err := s.write.Create(&models.Setting{Key: leadIndexDeferred, Value: ""}).Error; err != nil {
		t.Fatal(err)
	}
	l := models.Lead{EmailKey: "stray@example.com", Email: "stray@example.com", Name: "Stella Stray", TargetTitle: "Backend Engineer",
		Status: models.LeadNew, CreatedAt: s.Now(), UpdatedAt: s.Now()}
	if err := s.write.Create(&l).Error; err != nil {
		t.Fatal(err)
	}
	indexed := func(s *Store) int64 {
		var n int64
		s.write.Raw(`SELECT count(*) FROM leads_fts WHERE leads_fts MATCH '"stella"'`).Scan(&n)
		return n
	}
	if n := indexed(s); n != 0 {
		t.Fatalf("with the mark in place the lead was indexed anyway (%d): the test shows nothing", n)
	}
	s.Close()

	s = openInternalStoreAt(t, path)
	var marks int64
	s.write.Model(&models.Setting{}).Where("key = ?", leadIndexDeferred).Count(&marks)
	if n := indexed(s); n != 1 || marks != 0 {
		t.Fatalf("after the restart: the lead is in the index %d times, %d marks left", n, marks)
	}
	if err := s.write.Exec("INSERT INTO leads_fts (leads_fts, rank) VALUES ('integrity-check', 1)").Error; err != nil {
		t.Fatal(err)
	}
}
