package store

import (
	"context"
	"errors"
	"time"

	"gorm.io/gorm"

	"github.com/callbook/callbook/models"
)

// errLeadKept says a lead chosen for erasure turned out, under its lock,
// to be in use again, and was left as it is.
var errLeadKept = errors.New("store: the lead is in use again and was kept")

// erasePolicyKey carries, in an erasure's context, the retention policy
// that erases the lead, for its audit entry.
type erasePolicyKey struct{}

// retentionKeyPrefix starts the settings key that claims one night's
// lead-retention run ("retention:leads:2026-12-07").
const retentionKeyPrefix = "retention:leads:"

// retentionLease is how long a claimed run holds its night before another
// replica may take over a run that stopped half-way.
const retentionLease = 30 * time.Minute

// retentionBatch is how many leads one query of a retention run picks.
const retentionBatch = 200

// EraseInactiveLeads erases, as EraseLead does, every lead with no call,
// note or change for inactiveFor and no call to come, each in its own
// transaction with a lead.erased audit entry of ctx's actor (the system
// unless ctx names one). One run per business date does the work, whatever
// the number of replicas or runs: the first claims the date (a settings
// row holding a lease, taken over only when it lapses with the run
// unfinished) and the others return 0. Each lead is checked again under its
// lock, so a lead booked while the run goes is kept. It returns how many
// leads it erased; with inactiveFor <= 0 it does nothing.
func (s *Store) EraseInactiveLeads(ctx context.Context, inactiveFor time.Duration) (int, error) {
	if inactiveFor <= 0 {
		return 0, nil
	}
	if _, ok := ActorFrom(ctx); !ok {
		ctx = WithActor(ctx, models.SystemActor())
	}
	ctx = context.WithValue(ctx, erasePolicyKey{}, "CALLBOOK_RETENTION_LEADS="+inactiveFor.String())
	now := s.Now()
	key := retentionKeyPrefix + now.In(s.loc).Format(time.DateOnly)
	claimed, err := s.claimNight(ctx, key, now)
	if err != nil || !claimed {
		return 0, err
	}
	cutoff := now.Add(-inactiveFor)
	keep := func(tx *gorm.DB, l *models.Lead) (bool, error) {
		var n int64
		err := inactiveLeads(tx, cutoff).Where("leads.id = ?", l.ID).Count(&n).Error
		return n == 0, err
	}
	erased := 0
	var after uint
	for {
		var ids []uint
		if err := inactiveLeads(s.read.WithContext(ctx), cutoff).Where("leads.id > ?", after).
			Order("leads.id").Limit(retentionBatch).Pluck("leads.id", &ids).Error; err != nil {
			return erased, err
		}
		for _, id := range ids {
			err := s.eraseLead(ctx, id, nil, keep)
			switch {
			case errors.Is(err, errLeadKept), errors.Is(err, models.ErrNotFound):
			case err != nil:
				return erased, err
			default:
				erased++
			}
			after = id
		}
		if len(ids) < retentionBatch {
			break
		}
	}
	if erased > 0 {
		s.signalOutbox()
	}
	return erased, s.tx(ctx, func(tx *gorm.DB) error {
		return tx.Model(&models.Setting{}).Where("key = ?", key).Update("value", "done").Error
	})
}

// inactiveLeads selects the live leads created before cutoff with no change,
// call, booking change or note since: a call still to come starts after
// cutoff, so it keeps its lead too.
func inactiveLeads(db *gorm.DB, cutoff time.Time) *gorm.DB {
	return db.Table("leads").
		Where("leads.erased_at IS NULL AND leads.created_at < ? AND leads.updated_at < ?", cutoff, cutoff).
		Where("NOT EXISTS (SELECT 1 FROM bookings b WHERE b.lead_id = leads.id AND (b.start_at >= ? OR b.updated_at >= ? OR b.created_at >= ?))",
			cutoff, cutoff, cutoff).
		Where("NOT EXISTS (SELECT 1 FROM notes n WHERE n.lead_id = leads.id AND n.created_at >= ?)", cutoff)
}

// claimNight claims the nightly run named by key for this process: it
// records a lease in settings unless a run holds one that has not lapsed
// or the night's run is done ("done" sorts after every time), and reports
// whether it got it. Concurrent claims take turns on the key, so exactly
// one wins.
func (s *Store) claimNight(ctx context.Context, key string, now time.Time) (bool, error) {
	var claimed bool
	err := s.tx(ctx, func(tx *gorm.DB) error {
		res := tx.Exec("INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value WHERE settings.value < ?",
			key, now.Add(retentionLease).UTC().Format(time.RFC3339), now.UTC().Format(time.RFC3339))
		claimed = res.RowsAffected == 1
		return res.Error
	})
	return claimed, err
}
