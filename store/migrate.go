package store

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm"
)

// migration is one versioned schema step: the SQL in
// migrations/<File>.<dialect>.sql (see migrationSQL).
type migration struct {
	Version int
	Name    string
	File    string
}

// migrations are applied in order. Each is plain SQL per dialect, frozen
// when it was released: a database that ran a migration never runs it
// again, so its SQL never changes, and a change to the schema is a new
// migration with the next number. Migration 1 is the schema the first
// release created; versions 10 and 11 were never released.
var migrations = []migration{
	{1, "initial schema", "0001_initial_schema"},
	{2, "indexes for the export and the dashboard", "0002_export_dashboard_indexes"},
	{3, "partial indexes for the lead list's filters", "0003_lead_list_partial_indexes"},
	{4, "drop lead indexes the partial ones replace", "0004_drop_replaced_lead_indexes"},
	{5, "meeting places of hosts and calls", "0005_meeting_places"},
	{6, "hosts' own calendars and private feeds", "0006_host_calendars"},
	{7, "webhooks and their deliveries", "0007_webhooks"},
	{8, "answers to role-page questions and the hosts they route to", "0008_answers"},
	{9, "first-touch source on leads", "0009_first_touch"},
	{12, "leads record the embedded form and its page", "0012_lead_source"},
	{13, "trigram indexes for lead search (PostgreSQL)", "0013_lead_search_trigram"},
	{14, "daily roll-up of the dashboard's figures", "0014_stats_daily"},
	{15, "drop the unique index on email Message-IDs", "0015_drop_outbox_message_id_index"},
	{16, "lighter booking writes: drop unused indexes, claims keyed by host and time", "0016_lighter_booking_writes"},
	{17, "bookings side by side on PostgreSQL: roll-up parts, availability sequence", "0017_bookings_side_by_side"},
	{18, "the visitor's language on bookings and leads", "0018_languages"},
	{19, "second factors: authenticator apps, recovery codes, passkeys, sign-in steps", "0019_second_factors"},
	{20, "the audit log", "0020_audit_log"},
	{22, "kinds of call: collective hosts, private links, host weights and caps", "0022_kinds_of_call"},
	{23, "after the call: tasks, unsubscribing from follow-ups, why a follow-up was skipped", "0023_after_the_call"},
	{24, "the configuration version bookings check their cached settings and hosts against (PostgreSQL)", "0024_booking_config_version"},
	{25, "indexes for choosing among several hosts (PostgreSQL)", "0025_host_turn_indexes"},
}

// latestMigration is the newest schema version this binary knows.
func latestMigration() int { return migrations[len(migrations)-1].Version }

// NewerSchemaError says the database holds migrations this binary does not
// know: a newer version of Callbook wrote it, and running an older one on it
// could lose or corrupt what that version keeps.
type NewerSchemaError struct {
	Database, Binary int // the newest version in the database, and known here
}

func (e *NewerSchemaError) Error() string {
	return fmt.Sprintf("the database was written by a newer version of Callbook (schema %d, this binary knows up to %d); upgrade the binary",
		e.Database, e.Binary)
}

// checkNotNewer returns a NewerSchemaError when applied holds a version
// this binary does not know.
func checkNotNewer(applied []int) error {
	known := map[int]bool{}
	for _, m := range migrations {
		known[m.Version] = true
	}
	newest, unknown := 0, false
	for _, v := range applied {
		newest = max(newest, v)
		unknown = unknown || !known[v]
	}
	if unknown {
		return &NewerSchemaError{Database: newest, Binary: latestMigration()}
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
// A database holding a migration this binary does not know is refused with
// a NewerSchemaError, before anything changes.
func (s *Store) Migrate(ctx context.Context) error { return s.migrateTo(ctx, latestMigration()) }

// migrateTo applies the pending migrations up to version last; on a
// database brought to the latest version it then brings the search index
// and the daily roll-up in step (tests stop at earlier versions to compare
// with what released versions left).
func (s *Store) migrateTo(ctx context.Context, last int) error {
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
		applied, err := appliedMigrations(conn)
		if err != nil {
			return err
		}
		for _, m := range migrations {
			if applied[m.Version] || m.Version > last {
				continue
			}
			if err := s.apply(conn, m); err != nil {
				return fmt.Errorf("migration %d (%s): %w", m.Version, m.Name, err)
			}
			s.log.Info("applied migration", "version", m.Version, "name", m.Name)
			ran = true
		}
		if last < latestMigration() {
			return nil
		}
		if err := s.ensureSearchIndex(conn); err != nil {
			return err
		}
		return s.ensureStats(conn)
	})
}

// appliedMigrations reads which migrations the database has run, creating
// their record on a new database, and refuses a database of a newer version.
func appliedMigrations(conn *gorm.DB) (map[int]bool, error) {
	if err := conn.AutoMigrate(&schemaMigration{}); err != nil {
		return nil, fmt.Errorf("create schema_migrations: %w", err)
	}
	var done []int
	if err := conn.Model(&schemaMigration{}).Pluck("version", &done).Error; err != nil {
		return nil, err
	}
	if err := checkNotNewer(done); err != nil {
		return nil, err
	}
	applied := map[int]bool{}
	for _, v := range done {
		applied[v] = true
	}
	return applied, nil
}

// apply runs migration m and records it, in one transaction.
func (s *Store) apply(conn *gorm.DB, m migration) error {
	return conn.Transaction(func(tx *gorm.DB) error {
		tx = tx.Session(&gorm.Session{NewDB: true})
		stmts, err := migrationSQL(m.File, s.dialect)
		if err != nil {
			return err
		}
		if err := execAll(tx, stmts...); err != nil {
			return err
		}
		return tx.Create(&schemaMigration{Version: m.Version, Name: m.Name, AppliedAt: s.txNow(tx)}).Error
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

// CheckNotNewer returns a NewerSchemaError when the database holds a
// migration this binary does not know, for commands that read the database
// without migrating it.
func (s *Store) CheckNotNewer(ctx context.Context) error {
	var done []int
	if err := s.read.WithContext(ctx).Model(&schemaMigration{}).Pluck("version", &done).Error; err != nil {
		return err
	}
	return checkNotNewer(done)
}

// MigrationsPending reports whether any migration this binary knows has not
// been applied; it backs /readyz. (Versions a newer replica applied do not
// count: this one keeps serving what it knows until it is replaced.)
func (s *Store) MigrationsPending(ctx context.Context) (bool, error) {
	versions := make([]int, len(migrations))
	for i, m := range migrations {
		versions[i] = m.Version
	}
	var n int64
	if err := s.read.WithContext(ctx).Model(&schemaMigration{}).Where("version IN ?", versions).Count(&n).Error; err != nil {
		return true, err
	}
	return int(n) < len(migrations), nil
}
