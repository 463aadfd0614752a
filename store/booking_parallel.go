package store

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"gorm.io/gorm"

	"github.com/callbook/callbook/models"
)

// On SQLite one connection writes and bookings take turns by design (see
// groupCommit). On PostgreSQL they run side by side, and what used to make
// them take turns there is replaced by narrower guards:
//
//   - No host row is locked. The claims' primary key (host, unit) refuses a
//     second call on a host's time, whatever the interleaving.
//   - A daily cap is counted under a lock on that host and business date
//     only, so calls on other days, or for uncapped hosts, do not wait for
//     it; and a host's busy times and hours change under a lock bookings
//     share (lockForPick).
//   - A booking that picked a host whose time a racing booking then claimed
//     picks again without that host (placeOnAHost), so two racing bookings
//     with two free hosts both get one.
//   - The two rows every booking used to update, the day's roll-up row for
//     the title and the availability version, are written without a shared
//     row: roll-up deltas go to per-connection rows (addStats) and the
//     version is a sequence raised after the commit (availabilityChanged).
//     A row every booking updates makes bookings wait for each other's
//     commit, and a commit waits for the disk: one at a time, a few
//     hundred a second at best.

// The store's advisory locks for bookings: the top 16 bits of the lock's
// key name the kind, which no other advisory lock of the store uses.
const (
	// hostLockSpace: a host's lock, shared by the bookings that consider
	// the host and taken alone by what changes the host's busy times or
	// hours (lockHost).
	hostLockSpace = 0x4348
	// capLockSpace: a host's daily cap on one business date.
	capLockSpace = 0x4342
	// weekLockSpace: a host's weekly cap on one business week.
	weekLockSpace = 0x4357
)

// hostLockKey is the advisory lock key of host hostID.
func hostLockKey(hostID uint) int64 {
	return hostLockSpace<<48 | int64(hostID&(1<<48-1))
}

// capLockKey is the advisory lock key for host hostID's business date of
// local: the space, then the host id (28 bits), then the date as days
// since 1970 (20 bits, enough for 2,800 years).
func capLockKey(hostID uint, local time.Time) int64 {
	y, m, d := local.Date()
	day := time.Date(y, m, d, 0, 0, 0, 0, time.UTC).Unix() / 86400
	return capLockSpace<<48 | int64(hostID&(1<<28-1))<<20 | day&(1<<20-1)
}

// weekLockKey is capLockKey for the host's business week of local, named
// by its Monday.
func weekLockKey(hostID uint, local time.Time) int64 {
	monday, _ := time.Parse(time.DateOnly, models.WeekOf(local))
	return weekLockSpace<<48 | int64(hostID&(1<<28-1))<<20 | (monday.Unix()/86400)&(1<<20-1)
}

// lockForPick takes, on PostgreSQL and in one statement (lockStatement),
// what a booking needs before it reads whether hosts are free at a start,
// in id order:
//
//   - each host's lock, shared: bookings do not wait for each other, but a
//     calendar read storing the host's busy times, or a change to its
//     hours, waits for them and they for it (lockHost), so a booking
//     either commits first or sees the change;
//   - each capped host's lock for that date: two bookings that could both
//     be the cap's last call of the day count one after the other, and
//     the second sees the first; likewise, when the kind of call has a
//     daily cap (kindCapped), every host's date; then each host with a
//     weekly cap, its week.
//
// The locks last until the transaction ends. SQLite's writer already runs
// one booking at a time.
func (s *Store) lockForPick(tx *gorm.DB, lock statement) error {
	if lock.q == "" {
		return nil
	}
	u := configToCheck(tx)
	if u == nil {
		_, err := s.exec(tx, lock.q, lock.args...)
		return err
	}
	// The version, then a column for each lock: one per argument.
	dest := make([]any, len(lock.args))
	var version string
	dest[0] = &version
	for i := 1; i < len(dest); i++ {
		dest[i] = new(any)
	}
	if err := s.queryRow(tx, lock.q, lock.args, dest...); err != nil {
		return err
	}
	return s.checkConfig(tx, u, version)
}

// lockStatement is lockForPick's statement for the hosts ids at local's
// business date; none on SQLite. With a cached configuration to check, it
// reads the configuration's version too: a round trip fewer than a
// statement of its own.
func (s *Store) lockStatement(tx *gorm.DB, byID map[uint]*models.HostSchedule, ids []uint, local time.Time, kindCapped bool) statement {
	if s.dialect != DialectPostgres || len(ids) == 0 {
		return statement{}
	}
	calls := make([]string, 0, 2*len(ids))
	args := make([]any, 0, 2*len(ids))
	for _, id := range ids { // in id order: enabledHosts reads them so
		calls = append(calls, "pg_advisory_xact_lock_shared(?)")
		args = append(args, hostLockKey(id))
	}
	for _, id := range ids {
		if byID[id].MaxPerDay > 0 || kindCapped {
			calls = append(calls, "pg_advisory_xact_lock(?)")
			args = append(args, capLockKey(id, local))
		}
	}
	for _, id := range ids {
		if byID[id].MaxPerWeek > 0 {
			calls = append(calls, "pg_advisory_xact_lock(?)")
			args = append(args, weekLockKey(id, local))
		}
	}
	// A SELECT list is evaluated left to right.
	if configToCheck(tx) == nil {
		return statement{"SELECT " + strings.Join(calls, ", "), args}
	}
	return statement{configVersionSQL + ", " + strings.Join(calls, ", "), append([]any{configVersionKey}, args...)}
}

// lockHost takes host hostID's lock alone, on PostgreSQL, until the
// transaction ends: for a change to the host's busy times or hours, which
// then waits for the bookings considering the host, and they for it.
func (s *Store) lockHost(tx *gorm.DB, hostID uint) error {
	if s.dialect != DialectPostgres {
		return nil
	}
	_, err := s.exec(tx, "SELECT pg_advisory_xact_lock(?)", hostLockKey(hostID))
	return err
}

// placeOnAHost picks a host among hosts with pick and books the call on it
// with place, which returns models.ErrSlotTaken when the claims' key refuses the
// host's time. On PostgreSQL a racing booking can claim that time between
// the pick and the claim; when another host could take the call, a lost
// race picks again without that host. place has to leave nothing behind
// then: it does so itself when undoes says so (insertClaimed), else its
// attempt runs in a savepoint that a lost race rolls back to. On SQLite
// nothing races the writer.
func (s *Store) placeOnAHost(tx *gorm.DB, hosts []models.User, pick func([]models.User) (*models.User, error), place func(*models.User) error, undoes bool) (*models.User, error) {
	for {
		host, err := pick(hosts)
		if err != nil {
			return nil, err
		}
		if s.dialect != DialectPostgres || len(hosts) < 2 {
			return host, place(host)
		}
		if !undoes {
			if err := tx.SavePoint("place_call").Error; err != nil {
				return nil, err
			}
		}
		err = place(host)
		if !errors.Is(err, models.ErrSlotTaken) {
			return host, err
		}
		if !undoes {
			if err := tx.RollbackTo("place_call").Error; err != nil {
				return nil, err
			}
		}
		lost := host.ID
		hosts = slices.DeleteFunc(slices.Clone(hosts), func(u models.User) bool { return u.ID == lost })
		s.lostClaimRaces.Add(1)
	}
}

// availabilityChanged is set, through the context of a PostgreSQL
// transaction, by a change to what slots are free (bumpAvailability).
//
// The availability version that slot caches compare against is, on
// PostgreSQL, the settings row (which binaries before this one raise) and
// the sequence availability_changes, raised after the transaction
// commits. Raised inside it, as a row, every booking would wait for the
// commit of the one before. Raised after, a replica that reads the new
// value reads the committed change with it; one that read the old value
// before the commit reloads at its next request. Should the process die
// between the commit and the raise, caches notice the change when their
// minute is up (cacheMaxAge), and until then a taken slot still offered
// is refused by its claims when booked.
type availabilityChanged struct{ atomic.Bool }

type availabilityChangedKey struct{}

// raiseAvailabilityVersion raises the availability sequence after a
// committed change that is not a booking (a booking raises it in its
// commit's pipeline, pipelineTx). A failure is logged: the caches' age
// bounds it.
func (s *Store) raiseAvailabilityVersion(ctx context.Context) {
	s.avail.invalidate()
	if err := s.write.WithContext(context.WithoutCancel(ctx)).Exec("SELECT nextval('availability_changes')").Error; err != nil {
		s.log.Warn("raising the availability version", "err", err)
	}
}

// availabilityVersionSQL reads the availability version: on PostgreSQL the
// settings row and the sequence together.
func (s *Store) availabilityVersionSQL() string {
	if s.dialect == DialectPostgres {
		return "SELECT COALESCE((SELECT value FROM settings WHERE key = ?), '') || '/' || " +
			"(SELECT last_value || CAST(is_called AS text) FROM availability_changes)"
	}
	return "SELECT value FROM settings WHERE key = ?"
}
