package store_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/callbook/callbook/models"
	"github.com/callbook/callbook/store"
	"github.com/callbook/callbook/store/storetest"
	"gorm.io/gorm"
)

// droppedIndexes are the indexes every booking used to write that no query
// reads.
var droppedIndexes = map[string]string{
	"idx_leads_created_at":          "leads (created_at)",
	"ix_bookings_lead_start":        "bookings (lead_id, start_at)",
	"idx_events_type":               "events (type)",
	"idx_events_booking_id":         "events (booking_id)",
	"idx_outbox_created_at":         "outbox (created_at)",
	"idx_booking_claims_booking_id": "booking_claims (booking_id)",
}

// TestMigrate_LightensAnExistingDatabasesBookingWrites takes a database as
// it was before, with a booked call, and migrates it: the unused indexes
// are gone, and on SQLite the claims keep every row in their new shape and
// still refuse a second claim on the same host and time.
func TestMigrate_LightensAnExistingDatabasesBookingWrites(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, dialect string) {
		s, _ := mustOpen(t, dialect)
		ctx := context.Background()
		booked := storetest.MustBookAt(t, s, firstSlot(t, s), "ada@example.com")
		db := s.DB()
		var claims int64
		if err := db.Model(&models.BookingClaim{}).Count(&claims).Error; err != nil || claims == 0 {
			t.Fatalf("claims before: %d (%v)", claims, err)
		}
		undo := []string{"DELETE FROM schema_migrations WHERE version = 16"}
		for name, on := range droppedIndexes {
			undo = append(undo, "CREATE INDEX "+name+" ON "+on)
		}
		if dialect == store.DialectSQLite {
			undo = append(undo,
				"CREATE TABLE claims_before (host_id integer, unit integer, booking_id integer NOT NULL, PRIMARY KEY (host_id, unit))",
				"INSERT INTO claims_before SELECT host_id, unit, booking_id FROM booking_claims",
				"DROP TABLE booking_claims",
				"ALTER TABLE claims_before RENAME TO booking_claims",
				"CREATE INDEX idx_booking_claims_booking_id ON booking_claims (booking_id)")
		}
		for _, q := range undo {
			if err := db.Exec(q).Error; err != nil {
				t.Fatalf("%s: %v", q, err)
			}
		}
		if err := s.Migrate(ctx); err != nil {
			t.Fatalf("migrate: %v", err)
		}

		for name, on := range droppedIndexes {
			if db.Migrator().HasIndex(strings.Fields(on)[0], name) {
				t.Errorf("index %s on %s is still there", name, on)
			}
		}
		var after int64
		if err := db.Model(&models.BookingClaim{}).Count(&after).Error; err != nil || after != claims {
			t.Errorf("claims after: %d (%v), want %d", after, err, claims)
		}
		if dialect == store.DialectSQLite {
			var ddl string
			if err := db.Raw("SELECT sql FROM sqlite_master WHERE name = 'booking_claims'").Scan(&ddl).Error; err != nil ||
				!strings.Contains(ddl, "WITHOUT ROWID") {
				t.Errorf("claims table: %q (%v)", ddl, err)
			}
		}
		// The key still holds: the same host and time cannot be claimed twice.
		var c models.BookingClaim
		if err := db.Where("booking_id = ?", booked.Booking.ID).Take(&c).Error; err != nil {
			t.Fatal(err)
		}
		err := db.Exec("INSERT INTO booking_claims (host_id, unit, booking_id) VALUES (?, ?, ?)", c.HostID, c.Unit, c.BookingID+1).Error
		if !errors.Is(err, gorm.ErrDuplicatedKey) {
			t.Errorf("a second claim on host %d at %d: %v", c.HostID, c.Unit, err)
		}
		if _, err := s.BookSlot(ctx, storetest.Visitor("bob@example.com", booked.Booking.StartAt), nil); !errors.Is(err, models.ErrSlotTaken) {
			t.Errorf("booking the taken time again: %v", err)
		}
	})
}
