package store

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm"

	"github.com/callbook/callbook/models"
)

// migration is one versioned schema step. Steps only ever add: a column is
// never dropped by a migration.
type migration struct {
	Version int
	Name    string
	Up      func(tx *gorm.DB, dialect string) error
}

// migrations are applied in order; append, never edit one that has shipped.
var migrations = []migration{
	{1, "initial schema", func(tx *gorm.DB, _ string) error {
		return tx.Migrator().AutoMigrate(allModels()...)
	}},
	{2, "indexes for the export and the dashboard", func(tx *gorm.DB, _ string) error {
		return execAll(tx,
			// Booking figures per lead (export, funnel) read from the index alone.
			"CREATE INDEX IF NOT EXISTS ix_bookings_lead_status_start ON bookings (lead_id, status, start_at)",
			// Calls booked per week by title.
			"CREATE INDEX IF NOT EXISTS ix_bookings_created_title ON bookings (created_at, target_title)",
			// The period's leads by title, status and recommendation.
			"CREATE INDEX IF NOT EXISTS ix_leads_created_title ON leads (created_at, target_title, status, erased_at, recommended_title)",
		)
	}},
	{3, "partial indexes for the lead list's filters", func(tx *gorm.DB, _ string) error {
		// Live (not erased) leads by each list filter, in id order, so a
		// filtered page newest first reads only the index entries it shows
		// and a filter that matches nothing costs one seek, not a scan.
		return execAll(tx,
			"CREATE INDEX IF NOT EXISTS ix_leads_live_status_title ON leads (status, target_title, id) WHERE erased_at IS NULL",
			"CREATE INDEX IF NOT EXISTS ix_leads_live_title ON leads (target_title, id) WHERE erased_at IS NULL",
			"CREATE INDEX IF NOT EXISTS ix_leads_live_owner ON leads (owner_id, id) WHERE erased_at IS NULL",
			"CREATE INDEX IF NOT EXISTS ix_leads_live_role ON leads (role_slug, id) WHERE erased_at IS NULL",
		)
	}},
	{4, "drop lead indexes the partial ones replace", func(tx *gorm.DB, _ string) error {
		// Every lead query that filters on these columns also requires
		// erased_at IS NULL, so migration 3's indexes serve them; the plain
		// ones only cost each booking's insert.
		return execAll(tx,
			"DROP INDEX IF EXISTS idx_leads_status",
			"DROP INDEX IF EXISTS idx_leads_target_title",
			"DROP INDEX IF EXISTS idx_leads_role_slug",
			"DROP INDEX IF EXISTS idx_leads_owner_id",
		)
	}},
	{5, "meeting places of hosts and calls", func(tx *gorm.DB, _ string) error {
		return addColumns(tx, map[any][]string{
			&models.User{}:    {"MeetingKind", "MeetingURL", "MeetingAddress"},
			&models.Booking{}: {"MeetingKind", "MeetingURL", "MeetingAddress"},
		})
	}},
	{6, "hosts' own calendars and private feeds", func(tx *gorm.DB, _ string) error {
		return tx.Migrator().AutoMigrate(calendarModels()...)
	}},
	{7, "webhooks and their deliveries", func(tx *gorm.DB, _ string) error {
		if err := tx.Migrator().AutoMigrate(&models.Webhook{}, &models.WebhookDelivery{}); err != nil {
			return err
		}
		// A lead's later delivery waits while an earlier one to the same
		// webhook is unsent: the claim looks that up here.
		return execAll(tx, "CREATE INDEX IF NOT EXISTS ix_webhook_deliveries_open ON webhook_deliveries (webhook_id, lead_id, id) "+
			"WHERE status IN ('pending', 'sending')")
	}},
	{8, "answers to role-page questions and the hosts they route to", func(tx *gorm.DB, _ string) error {
		if err := addColumns(tx, map[any][]string{&models.Lead{}: {"AnswersJSON"}, &models.Booking{}: {"AnswersJSON", "RouteHosts"}}); err != nil {
			return err
		}
		return tx.Migrator().AutoMigrate(&models.LeadAnswer{})
	}},
	{9, "first-touch source on leads", addFirstTouch},
	{12, "leads record the embedded form and its page", func(tx *gorm.DB, _ string) error {
		return addColumns(tx, map[any][]string{&models.Lead{}: {"Source", "PageURL"}})
	}},
	{13, "trigram indexes for lead search (PostgreSQL)", func(tx *gorm.DB, dialect string) error {
		if dialect != DialectPostgres {
			return nil // SQLite's FTS5 index depends on the binary: see ensureSearchIndex
		}
		return execAll(tx, postgresSearchIndexes...)
	}},
	{14, "daily roll-up of the dashboard's figures", func(tx *gorm.DB, _ string) error {
		// Filled by ensureStats right after the migrations, in the business
		// zone, which migrations do not know.
		return tx.Migrator().AutoMigrate(&models.StatsDaily{})
	}},
	{15, "drop the unique index on email Message-IDs", func(tx *gorm.DB, _ string) error {
		// Nothing looks an email up by its Message-ID, and 128 random bits
		// do not collide; the index only cost every booking two writes to
		// random pages of it.
		return execAll(tx, "DROP INDEX IF EXISTS idx_outbox_message_id")
	}},
	{16, "lighter booking writes: drop unused indexes, claims keyed by host and time", lighterBookingWrites},
	{17, "bookings side by side on PostgreSQL: roll-up parts, availability sequence", func(tx *gorm.DB, dialect string) error {
		// See booking_parallel.go. SQLite gets the (unused) table too, so
		// the dashboard's query is the same on both.
		if err := tx.Migrator().AutoMigrate(&models.StatsDailyPart{}); err != nil {
			return err
		}
		if dialect != DialectPostgres {
			return nil
		}
		return execAll(tx, "CREATE SEQUENCE IF NOT EXISTS availability_changes")
	}},
}

// lighterBookingWrites takes out of every booking's transaction what no
// query needs. Each index below is written by each booking (on SQLite a page
// of it at every commit) and is read by nothing that another index does not
// serve as well:
//   - leads(created_at): ix_leads_created_title starts with created_at;
//   - bookings(lead_id, start_at): ix_bookings_lead_status_start answers
//     every lookup by lead, a lead having a handful of calls;
//   - events(type) and events(booking_id): timelines are read by lead;
//   - outbox(created_at): the mail queue lists by id, the order of queueing;
//   - booking_claims(booking_id): a booking's claims are a range of the
//     claims' own key, its host's units from its start.
//
// On SQLite the claims table becomes one B-tree keyed by (host, unit)
// (WITHOUT ROWID), where it was a table plus a unique index on that key: with
// the booking_id index gone, a call's six or more claim rows cost a third of
// the B-tree inserts, and the busy check and the release read the claims'
// key alone.
func lighterBookingWrites(tx *gorm.DB, dialect string) error {
	if err := execAll(tx,
		"DROP INDEX IF EXISTS idx_leads_created_at",
		"DROP INDEX IF EXISTS ix_bookings_lead_start",
		"DROP INDEX IF EXISTS idx_events_type",
		"DROP INDEX IF EXISTS idx_events_booking_id",
		"DROP INDEX IF EXISTS idx_outbox_created_at",
		"DROP INDEX IF EXISTS idx_booking_claims_booking_id",
	); err != nil {
		return err
	}
	if dialect != DialectSQLite {
		return nil
	}
	return execAll(tx,
		"CREATE TABLE booking_claims_keyed (host_id integer NOT NULL, unit integer NOT NULL, booking_id integer NOT NULL, "+
			"PRIMARY KEY (host_id, unit)) WITHOUT ROWID",
		"INSERT INTO booking_claims_keyed (host_id, unit, booking_id) SELECT host_id, unit, booking_id FROM booking_claims",
		"DROP TABLE booking_claims",
		"ALTER TABLE booking_claims_keyed RENAME TO booking_claims",
	)
}

// addColumns adds each named field's column that the table lacks (a fresh
// database got them from the initial schema).
func addColumns(tx *gorm.DB, cols map[any][]string) error {
	m := tx.Migrator()
	for model, fields := range cols {
		for _, f := range fields {
			if m.HasColumn(model, f) {
				continue
			}
			if err := m.AddColumn(model, f); err != nil {
				return err
			}
		}
	}
	return nil
}

// execAll runs each statement in order, stopping at the first error.
func execAll(tx *gorm.DB, stmts ...string) error {
	for _, q := range stmts {
		if err := tx.Exec(q).Error; err != nil {
			return err
		}
	}
	return nil
}

type schemaMigration struct {
	Version   int `gorm:"primaryKey;autoIncrement:false"`
	Name      string
	AppliedAt time.Time
}

// Migrate applies every pending migration, each in its own transaction, and
// records it. Concurrent starts on PostgreSQL serialize on an advisory lock.
func (s *Store) Migrate(ctx context.Context) error {
	db := s.write.WithContext(ctx)
	ran := false
	defer func() {
		if ran {
			s.refreshReaders()
		}
	}()
	return db.Connection(func(conn *gorm.DB) error {
		if s.dialect == DialectPostgres {
			if err := conn.Exec("SELECT pg_advisory_lock(4242001)").Error; err != nil {
				return fmt.Errorf("migration lock: %w", err)
			}
			defer conn.Exec("SELECT pg_advisory_unlock(4242001)")
		}
		if err := conn.AutoMigrate(&schemaMigration{}); err != nil {
			return fmt.Errorf("create schema_migrations: %w", err)
		}
		var done []int
		if err := conn.Model(&schemaMigration{}).Pluck("version", &done).Error; err != nil {
			return err
		}
		applied := map[int]bool{}
		for _, v := range done {
			applied[v] = true
		}
		for _, m := range migrations {
			if applied[m.Version] {
				continue
			}
			err := conn.Transaction(func(tx *gorm.DB) error {
				tx = tx.Session(&gorm.Session{NewDB: true})
				if err := m.Up(tx, s.dialect); err != nil {
					return err
				}
				return tx.Create(&schemaMigration{Version: m.Version, Name: m.Name, AppliedAt: s.txNow(tx)}).Error
			})
			if err != nil {
				return fmt.Errorf("migration %d (%s): %w", m.Version, m.Name, err)
			}
			s.log.Info("applied migration", "version", m.Version, "name", m.Name)
			ran = true
		}
		if err := s.ensureSearchIndex(conn); err != nil {
			return err
		}
		return s.ensureStats(conn)
	})
}

// refreshReaders closes the idle SQLite reader connections when a
// migration ran, since each was opened before it: SQLite names the columns
// of a query such as "SELECT leads.*" from a connection's cached schema
// before it notices the change, so a first read after new columns would
// scan values under the wrong names.
func (s *Store) refreshReaders() {
	if s.dialect != DialectSQLite {
		return
	}
	if db, err := s.read.DB(); err == nil {
		db.SetMaxIdleConns(0)
		db.SetMaxIdleConns(sqliteReaders)
	}
}

// MigrationsPending reports whether any migration has not been applied; it
// backs /readyz.
func (s *Store) MigrationsPending(ctx context.Context) (bool, error) {
	var n int64
	if err := s.read.WithContext(ctx).Model(&schemaMigration{}).Count(&n).Error; err != nil {
		return true, err
	}
	return int(n) < len(migrations), nil
}
