// Package store is Callbook's data layer: the Store through which every
// query and transaction runs, on SQLite (one writer with group commit) or
// PostgreSQL (several replicas), with the migrations, the lead search index,
// leases for background work, backups and sealed credentials. It maps the
// types of package models to rows and imports no other Callbook package.
package store

import (
	"cmp"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/mail"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mattn/go-sqlite3"
	"gorm.io/driver/postgres"
	"gorm.io/driver/sqlite"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"

	"github.com/callbook/callbook/models"
)

// Dialects a Store can run on.
const (
	DialectSQLite   = "sqlite"
	DialectPostgres = "postgres"
)

// Options configure a Store beyond its database URL.
type Options struct {
	// Secret signs visitor tokens; see BookingToken. Required.
	Secret []byte
	// Location is the business time zone in which availability is written.
	Location *time.Location
	// Reminders are the offsets before a call at which reminders are due,
	// keyed by the label as written in CALLBOOK_REMINDERS ("24h").
	Reminders []models.ReminderOffset
	// Now is the clock; time.Now when nil.
	Now func() time.Time
	// Log receives slow or failed query reports; slog.Default when nil.
	Log *slog.Logger
	// MailFrom is the team address the default host is created with.
	MailFrom string
	// MeetingURL is the video-call URL of hosts without a meeting place of
	// their own; empty: such hosts phone the visitor.
	MeetingURL string
	// PasswordChecks bounds the staff password checks (bcrypt) running at
	// once; half the CPUs when zero.
	PasswordChecks int
	// AuditRetention is how long audit entries are kept (CleanUp removes
	// older ones); models.DefaultAuditRetention when zero.
	AuditRetention time.Duration
}

// Store is the only way into the database. It is safe for concurrent use.
//
// On SQLite it keeps two pools on one file: a single-connection writer whose
// transactions begin IMMEDIATE, so concurrent writers queue instead of failing
// with "database is locked", and a reader pool for everything else. On
// PostgreSQL both are the same pool.
type Store struct {
	write   *gorm.DB
	read    *gorm.DB
	dialect string
	path    string // SQLite file, empty for PostgreSQL

	secret     []byte
	loc        *time.Location
	reminders  []models.ReminderOffset
	now        func() time.Time
	log        *slog.Logger
	mailFrom   string // the team address alone, without a display name
	meetingURL string
	// followups are the roles' follow-up emails by role slug (SetFollowups).
	followups atomic.Pointer[map[string][]models.Followup]
	// auditRetention is how long audit entries are kept.
	auditRetention time.Duration

	outboxSignal  chan struct{}
	passwords     passwordGate
	avail         availabilityCache
	config        atomic.Pointer[bookingConfig] // PostgreSQL only: the replica's last configuration
	group         *groupCommit                  // SQLite only
	ckpt          *checkpointer                 // SQLite only
	closeOnce     sync.Once
	webhookSignal chan struct{}
	webhookRender models.WebhookRenderer
	callKinds     func(roleSlug, callID string) *models.CallKind // see SetCallKinds

	weeklyMu sync.Mutex
	weeklies map[string]models.Weekly // see weekly

	// lostClaimRaces counts bookings that lost a host's time to a racing
	// booking and picked again (PostgreSQL; see placeOnAHost).
	lostClaimRaces atomic.Int64
	// pipelines counts the pipelines pipelined transactions sent: their
	// round trips to PostgreSQL.
	pipelines atomic.Int64
}

// ParseDatabaseURL splits a CALLBOOK_DATABASE_URL into its dialect and the
// driver's DSN (a file path for SQLite).
func ParseDatabaseURL(raw string) (dialect, dsn string, err error) {
	switch {
	case strings.HasPrefix(raw, "sqlite:"):
		p := strings.TrimPrefix(raw, "sqlite:")
		p = strings.TrimPrefix(p, "//")
		if p == "" {
			return "", "", errors.New("sqlite URL needs a path, as in sqlite:data/callbook.db")
		}
		return DialectSQLite, p, nil
	case strings.HasPrefix(raw, "postgres://"), strings.HasPrefix(raw, "postgresql://"):
		if _, err := url.Parse(raw); err != nil {
			return "", "", fmt.Errorf("not a valid postgres URL: %w", err)
		}
		return DialectPostgres, raw, nil
	default:
		return "", "", errors.New("must start with sqlite: or postgres://")
	}
}

// Open connects to the database named by rawURL (see ParseDatabaseURL),
// creating the SQLite folder when needed. It does not migrate: call Migrate.
func Open(rawURL string, opts Options) (*Store, error) {
	dialect, dsn, err := ParseDatabaseURL(rawURL)
	if err != nil {
		return nil, err
	}
	if len(opts.Secret) == 0 {
		return nil, errors.New("models: a secret is required")
	}
	s := &Store{
		dialect:        dialect,
		secret:         opts.Secret,
		loc:            opts.Location,
		reminders:      opts.Reminders,
		now:            opts.Now,
		log:            opts.Log,
		mailFrom:       addressOf(opts.MailFrom),
		meetingURL:     opts.MeetingURL,
		auditRetention: cmp.Or(opts.AuditRetention, models.DefaultAuditRetention),
		outboxSignal:   make(chan struct{}, 1),
		passwords:      newPasswordGate(opts.PasswordChecks),
		webhookSignal:  make(chan struct{}, 1),
	}
	if s.loc == nil {
		s.loc = time.UTC
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	cfg := func() *gorm.Config {
		return &gorm.Config{
			Logger:                                   logger.Discard,
			NowFunc:                                  func() time.Time { return s.now().UTC().Round(time.Microsecond) },
			SkipDefaultTransaction:                   true,
			DisableForeignKeyConstraintWhenMigrating: true,
			TranslateError:                           true,
		}
	}
	switch dialect {
	case DialectSQLite:
		s.path = dsn
		if dir := filepath.Dir(dsn); dir != "" && dir != "." {
			if err := os.MkdirAll(dir, 0o750); err != nil {
				return nil, fmt.Errorf("create database folder: %w", err)
			}
		}
		// Page caches are per connection: 4 MB for the writer, 2 MB per
		// reader, and the OS caches the file too. A booking touches the
		// right-hand edge of most indexes and one random leaf of a few
		// (uid, token hash, email): 4 MB keeps those edges and the random
		// indexes' interior pages even at a million leads, and the leaves
		// would miss at any size we could afford.
		params := "_journal_mode=WAL&_foreign_keys=on&_busy_timeout=10000&_synchronous=FULL"
		s.write, err = gorm.Open(sqlite.New(sqlite.Config{DriverName: sqliteWriterDriver,
			DSN: "file:" + dsn + "?" + params + "&_cache_size=-4000&_txlock=immediate"}), cfg())
		if err != nil {
			return nil, fmt.Errorf("open %s: %w", dsn, err)
		}
		s.read, err = gorm.Open(sqlite.Open("file:"+dsn+"?"+params+"&_cache_size=-2000&_query_only=true"), cfg())
		if err != nil {
			return nil, fmt.Errorf("open %s: %w", dsn, err)
		}
		// The group committer keeps one writer connection for its batches
		// (see groupCommit); the second serves the rare write outside the
		// group, which then waits its turn on SQLite's lock.
		wdb, _ := s.write.DB()
		wdb.SetMaxOpenConns(2)
		wdb.SetMaxIdleConns(2)
		wdb.SetConnMaxIdleTime(0)
		rdb, _ := s.read.DB()
		rdb.SetMaxOpenConns(sqliteReaders)
		rdb.SetMaxIdleConns(sqliteReaders)
		ckdb, err := sql.Open(sqliteWriterDriver, "file:"+dsn+"?"+params)
		if err != nil {
			return nil, fmt.Errorf("open %s: %w", dsn, err)
		}
		ckdb.SetMaxOpenConns(1)
		s.ckpt = newCheckpointer(ckdb, s.log)
		s.group = newGroupCommit(s.write, 64, s.indexDeferredLeads, s.finishBatch, s.ckpt.committed)
	case DialectPostgres:
		s.write, err = gorm.Open(postgres.Open(dsn), cfg())
		if err != nil {
			return nil, fmt.Errorf("open postgres: %w", err)
		}
		db, _ := s.write.DB()
		db.SetMaxOpenConns(postgresPoolSize)
		db.SetMaxIdleConns(postgresPoolSize)
		db.SetConnMaxLifetime(30 * time.Minute)
		s.read = s.write
	}
	return s, nil
}

// sqliteWriterDriver is mattn's SQLite driver with the writer's
// per-connection settings, which the DSN cannot carry: statement journals
// (the undo record of each statement that may fail half-way, in a batch of
// bookings nearly every statement) stay in memory instead of spilling to a
// temporary file once a batch's transaction has grown past 64 KB; and the
// writer leaves checkpoints to the background checkpointer until the log
// is writerCheckpointPages long (see checkpointer).
const sqliteWriterDriver = "sqlite3_callbook_writer"

func init() {
	sql.Register(sqliteWriterDriver, &sqlite3.SQLiteDriver{ConnectHook: func(c *sqlite3.SQLiteConn) error {
		_, err := c.Exec("PRAGMA temp_store = MEMORY; PRAGMA wal_autocheckpoint = "+strconv.Itoa(writerCheckpointPages), nil)
		return err
	}})
}

// sqliteReaders is the size of the SQLite reader pool.
const sqliteReaders = 6

// postgresPoolSize is the most connections a replica holds to PostgreSQL.
const postgresPoolSize = 20

// WarmConnections opens, on PostgreSQL, every connection of the pool
// before the replica takes requests. Each new connection is a new server
// process, which the database starts one at a time (17 ms apiece on a
// 2-core machine, measured): opened on demand, by the first burst of
// bookings after a start or a deploy, they would make those bookings wait
// a third of a second. Idle connections stay open. It then rehearses a
// booking on each (rehearseBookings). SQLite opens its few connections to
// a local file at no such cost.
func (s *Store) WarmConnections(ctx context.Context) error {
	if s.dialect != DialectPostgres {
		return nil
	}
	if err := s.openPool(ctx); err != nil {
		return err
	}
	return s.rehearseBookings(ctx)
}

// openPool opens every connection of the PostgreSQL pool and leaves them
// idle in it.
func (s *Store) openPool(ctx context.Context) error {
	db, err := s.write.DB()
	if err != nil {
		return err
	}
	// Holding each connection until all are open makes the pool open a
	// new one every time; closing them hands them back, idle.
	conns := make([]*sql.Conn, 0, postgresPoolSize)
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	for range postgresPoolSize {
		c, err := db.Conn(ctx)
		if err != nil {
			return err
		}
		conns = append(conns, c)
		// A server process reads a table's and its indexes' definitions
		// from the catalogs the first time it plans a statement on it:
		// planning a query of each table a booking writes or reads does
		// that now, for the requests that are not bookings too.
		for _, t := range bookingTables {
			if _, err := c.ExecContext(ctx, "SELECT 1 FROM "+t+" LIMIT 0"); err != nil {
				return err
			}
		}
	}
	return nil
}

// rehearseBookings books, on as many connections as the pool holds at
// once, a call at a different offered time each, and rolls every one of
// them back: each connection has then prepared the statements a booking
// sends and its server process has planned them, and the replica has
// read its configuration, so the first visitors after a start do not pay
// for that (a few tens of milliseconds each, measured, all at once).
// Nothing stays but the ids the rolled-back rows took, which PostgreSQL
// does not hand out again. No offered time, no rehearsal.
func (s *Store) rehearseBookings(ctx context.Context) error {
	now := s.Now()
	slots, _, err := s.Slots(ctx, now, now.AddDate(0, 0, models.MaxHorizonDays))
	if err != nil {
		return err
	}
	slots = slots[:min(len(slots), postgresPoolSize)]
	ctx = context.WithValue(ctx, rehearsalKey{}, true)
	errs := make(chan error, len(slots))
	for i, sl := range slots {
		go func() {
			_, err := s.BookSlot(ctx, models.BookingRequest{Name: "Rehearsal", Email: "rehearsal-" + strconv.Itoa(i) + "@callbook.invalid",
				Phone: "+1 555 0100", Start: sl.Start, Timezone: "UTC", Answers: models.Answers{"rehearsal": "yes"}}, nil)
			errs <- err
		}()
	}
	var first error
	for range slots {
		if err := <-errs; !errors.Is(err, errRehearsal) && !errors.Is(err, models.ErrSlotTaken) && first == nil {
			first = err
		}
	}
	return first
}

// rehearsalKey marks a booking that rehearseBookings rolls back.
type rehearsalKey struct{}

// errRehearsal rolls a rehearsed booking back.
var errRehearsal = errors.New("a rehearsal, rolled back")

// bookingTables are the tables a booking reads or writes.
var bookingTables = []string{"leads", "bookings", "booking_claims", "booking_hosts", "lead_answers", "stats_daily_parts",
	"events", "outbox", "reminders", "webhooks", "webhook_deliveries", "settings", "users", "availability_overrides",
	"calendar_busy", "idempotency_keys"}

// Close closes both pools. It is safe to call more than once.
func (s *Store) Close() error {
	var err error
	s.closeOnce.Do(func() {
		if s.group != nil {
			s.group.close()
		}
		if s.ckpt != nil {
			s.ckpt.close()
		}
		for _, g := range []*gorm.DB{s.read, s.write} {
			if db, e := g.DB(); e == nil {
				if e := db.Close(); e != nil && err == nil {
					err = e
				}
			}
		}
	})
	return err
}

// Dialect reports DialectSQLite or DialectPostgres.
func (s *Store) Dialect() string { return s.dialect }

// Path is the SQLite file, or "" on PostgreSQL.
func (s *Store) Path() string { return s.path }

// Now is the store's clock, in UTC.
func (s *Store) Now() time.Time { return s.now().UTC() }

// Location is the business time zone.
func (s *Store) Location() *time.Location { return s.loc }

// Reminders are the configured reminder offsets.
func (s *Store) Reminders() []models.ReminderOffset { return s.reminders }

// DB is the write handle, for tests and tools that need raw access.
func (s *Store) DB() *gorm.DB { return s.write }

// ReadDB is the read handle.
func (s *Store) ReadDB() *gorm.DB { return s.read }

// Ping checks that the database answers.
func (s *Store) Ping(ctx context.Context) error {
	db, err := s.read.DB()
	if err != nil {
		return err
	}
	return db.PingContext(ctx)
}

// OutboxSignal receives a value after a transaction that queued email
// commits, so a sender can deliver at once instead of at the next tick.
func (s *Store) OutboxSignal() <-chan struct{} { return s.outboxSignal }

func (s *Store) signalOutbox() {
	select {
	case s.outboxSignal <- struct{}{}:
	default:
	}
}

// tx runs fn in one write transaction. On SQLite, transactions waiting at
// the same moment share one commit (see groupCommit); fn must therefore only
// touch the database through tx and return its error unwrapped or wrapped.
//
// A transaction that queued webhook deliveries wakes the webhook sender
// once it has committed.
func (s *Store) tx(ctx context.Context, fn func(tx *gorm.DB) error) error {
	return s.runTx(ctx, false, fn)
}

// bookingTx is tx for a transaction that books: it writes leads, bookings
// and what they cause, but no settings, users or webhooks, so on SQLite the
// bookings of one batch share their reads of those (see batchReads).
//
// On PostgreSQL it is pipelined (pipelineTx), and the inserts its
// statements defer (execLater) go in one statement with the commit.
func (s *Store) bookingTx(ctx context.Context, fn func(tx *gorm.DB) error) error {
	if s.dialect != DialectPostgres {
		return s.runTx(ctx, true, fn)
	}
	return s.runTx(context.WithValue(ctx, pipelinedKey{}, true), true, func(tx *gorm.DB) error {
		if err := fn(tx); err != nil {
			return err
		}
		if ctx.Value(rehearsalKey{}) != nil {
			// The deferred writes get prepared too, then all is undone.
			if err := s.flushDeferredOf(tx); err != nil {
				return err
			}
			return errRehearsal
		}
		return nil
	})
}

func (s *Store) runTx(ctx context.Context, keepsReads bool, fn func(tx *gorm.DB) error) error {
	queued := &webhooksQueued{}
	ctx, _ = s.withTxNow(ctx)
	ctx = context.WithValue(ctx, webhooksQueuedKey{}, queued)
	var err error
	if s.group != nil {
		err = s.group.do(ctx, keepsReads, fn)
	} else {
		changed := &availabilityChanged{}
		ctx := context.WithValue(ctx, availabilityChangedKey{}, changed)
		if ctx.Value(pipelinedKey{}) != nil {
			// It raises the availability version itself, with its COMMIT.
			err = s.pipelineTx(ctx, fn)
		} else {
			err = s.write.WithContext(ctx).Transaction(fn)
			if err == nil && changed.Load() {
				s.raiseAvailabilityVersion(ctx)
			}
		}
	}
	if err == nil && queued.Load() {
		s.signalWebhooks()
	}
	return err
}

// lockRows adds FOR UPDATE on PostgreSQL. SQLite needs nothing: its write
// transactions are IMMEDIATE and run one at a time.
func (s *Store) lockRows(q *gorm.DB) *gorm.DB {
	if s.dialect == DialectPostgres {
		return q.Clauses(forUpdate())
	}
	return q
}

// skipLocked adds FOR UPDATE SKIP LOCKED on PostgreSQL, so several workers
// can claim rows without waiting on each other.
func (s *Store) skipLocked(q *gorm.DB) *gorm.DB {
	if s.dialect == DialectPostgres {
		return q.Clauses(forUpdateSkipLocked())
	}
	return q
}

// RandomToken returns n random bytes, hex encoded.
func RandomToken(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	return hex.EncodeToString(b)
}

// addressOf returns the bare address of "Name <addr>", or "" when unparsable.
func addressOf(s string) string {
	a, err := mail.ParseAddress(s)
	if err != nil {
		return ""
	}
	return a.Address
}
