package store

import (
	"context"
	"errors"

	"gorm.io/gorm"
)

// Every booking reads the booking settings, the enabled hosts, the admins
// (for the notices of a host without an address) and the live webhooks,
// and staff change them a few times a day. On SQLite the bookings of a
// group commit share one read of each (batchReads). On PostgreSQL, where
// bookings run side by side, each replica keeps the last set it read, as a
// bookingConfig, and a booking checks it against the database in a
// statement it sends anyway: the one that takes its host locks reads the
// configuration version too (lockForPick). Triggers raise that version in
// the transaction of every change to those rows (migration 24), so a
// booking that reads the version it holds reads the configuration it
// holds. When the version moved, the booking reads the set again and picks
// its host anew (errConfigChanged): a change staff committed before the
// booking's host locks is never missed, as when each booking read them.

// configVersionKey is the settings row the triggers raise.
const configVersionKey = "config_version"

// bookingConfig is the configuration a booking reads, as of version: all
// of reads' entries are filled, and it is never changed once published.
type bookingConfig struct {
	version string
	reads   batchReads
}

// configUse is a booking transaction's use of the cached configuration:
// the set it reads through readOnce, and whether a statement of the
// transaction has seen that its version is current.
type configUse struct {
	cfg     *bookingConfig
	checked bool
}

type configUseKey struct{}

// errConfigChanged reports that the configuration a booking had picked
// its host with was stale. The booking holds the current one now and
// starts its choice again (placeBooking).
var errConfigChanged = errors.New("the booking configuration changed; choosing again")

// withBookingConfig marks ctx, on PostgreSQL, as a booking transaction's
// that reads its configuration from the replica's cache.
func (s *Store) withBookingConfig(ctx context.Context) context.Context {
	if s.dialect != DialectPostgres {
		return ctx
	}
	cfg := s.config.Load()
	if cfg == nil {
		// None read yet: the entries fill from the transaction as it
		// reads them, and the version, which matches none, makes the
		// booking load a whole set at its first check.
		cfg = &bookingConfig{}
	}
	return context.WithValue(ctx, configUseKey{}, &configUse{cfg: cfg})
}

// configReads returns the cached reads tx's booking uses, or nil.
func configReads(tx *gorm.DB) *batchReads {
	if u, ok := txContext(tx).Value(configUseKey{}).(*configUse); ok {
		return &u.cfg.reads
	}
	return nil
}

// configToCheck returns the configuration use of tx when its version has
// not been checked yet, else nil.
func configToCheck(tx *gorm.DB) *configUse {
	u, ok := txContext(tx).Value(configUseKey{}).(*configUse)
	if !ok || u.checked {
		return nil
	}
	return u
}

// checkConfig compares the version a statement of tx read with the one u
// holds. A stale set is replaced, in u and in the replica's cache, by one
// read now, and the answer is errConfigChanged.
func (s *Store) checkConfig(tx *gorm.DB, u *configUse, version string) error {
	u.checked = true
	if version == u.cfg.version {
		return nil
	}
	cfg, err := s.loadBookingConfig(tx)
	if err != nil {
		return err
	}
	u.cfg = cfg
	if cfg.version != "" {
		s.config.Store(cfg)
	} else {
		// A database without the version row (deleted by hand) cannot
		// vouch for a cache: each booking reads its own.
		s.config.Store(nil)
	}
	return errConfigChanged
}

// loadBookingConfig reads the whole configuration in tx. Each statement
// sees the commits before it, so the set is read between two reads of
// the version, and again until both agree: no change committed in
// between, and the set is the one of that version.
func (s *Store) loadBookingConfig(tx *gorm.DB) (*bookingConfig, error) {
	for {
		before, err := s.configVersion(tx)
		if err != nil {
			return nil, err
		}
		cfg := &bookingConfig{version: before}
		// readOnce fills cfg's entries through a use that is not checked.
		ltx := tx.WithContext(context.WithValue(txContext(tx), configUseKey{}, &configUse{cfg: cfg, checked: true}))
		if _, err := s.bookingSettings(ltx); err != nil {
			return nil, err
		}
		if _, err := s.enabledHosts(ltx); err != nil {
			return nil, err
		}
		if _, err := activeAdmins(ltx); err != nil {
			return nil, err
		}
		if _, err := s.liveWebhooks(ltx); err != nil {
			return nil, err
		}
		after, err := s.configVersion(tx)
		if err != nil {
			return nil, err
		}
		if before == after {
			return cfg, nil
		}
	}
}

// configVersion reads the configuration version: empty when the row is
// missing.
func (s *Store) configVersion(tx *gorm.DB) (string, error) {
	var v string
	err := s.queryRow(tx, configVersionSQL, []any{configVersionKey}, &v)
	return v, err
}

// configVersionSQL reads the configuration version, empty when its row is
// missing, as a value of a SELECT list.
const configVersionSQL = "SELECT COALESCE((SELECT value FROM settings WHERE key = ?), '')"
