package store

import (
	"context"
	"errors"
	"time"

	"gorm.io/gorm"

	"github.com/callbook/callbook/models"
)

// QueueDigest queues the daily digest for the business date of date (in
// Location()): today's confirmed calls, yesterday's new leads and each
// reader's own open tasks due that day or overdue, one email
// to each active sales or admin user who can sign in. It queues nothing when
// there is nothing to tell, and at most one digest per business date however
// many processes or runs ask (the date is recorded in the same transaction
// as the emails). It returns the number of emails queued.
func (s *Store) QueueDigest(ctx context.Context, date time.Time) (int, error) {
	day := date.In(s.loc)
	start := time.Date(day.Year(), day.Month(), day.Day(), 0, 0, 0, 0, s.loc)
	dd := &models.DigestData{Date: start.Format(time.DateOnly)}
	queued := 0
	err := s.tx(ctx, func(tx *gorm.DB) error {
		var err error
		if dd.TodayCalls, err = digestCalls(tx, start.UTC(), start.AddDate(0, 0, 1).UTC()); err != nil {
			return err
		}
		if dd.NewLeads, err = digestLeads(tx, start.AddDate(0, 0, -1).UTC(), start.UTC()); err != nil {
			return err
		}
		tasks, err := digestTasks(tx, dd.Date)
		if err != nil {
			return err
		}
		if len(dd.TodayCalls) == 0 && len(dd.NewLeads) == 0 && len(tasks) == 0 {
			return nil
		}
		var staff []models.User
		if err := tx.Where("disabled = ? AND role IN ? AND password_hash <> ?", false, []string{models.RoleSales, models.RoleAdmin}, "").
			Order("id").Find(&staff).Error; err != nil {
			return err
		}
		if len(staff) == 0 {
			return nil
		}
		if err := s.markDigest(tx, dd.Date); err != nil {
			return err
		}
		for _, u := range staff {
			own := *dd
			own.Tasks = tasks[u.ID]
			if len(dd.TodayCalls) == 0 && len(dd.NewLeads) == 0 && len(own.Tasks) == 0 {
				continue
			}
			d := models.MailData{Kind: models.MailDigest, Name: u.Name, Email: u.Email, Digest: &own}
			if err := s.queueMail(tx, u.Email, u.Name, d); err != nil {
				return err
			}
			queued++
		}
		return nil
	})
	if errors.Is(err, errDigestDone) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	if queued > 0 {
		s.signalOutbox()
	}
	return queued, nil
}

// markDigest records that date's digest, or returns errDigestDone when a
// run committed it first (a concurrent one waits on the key, then sees it).
func (s *Store) markDigest(tx *gorm.DB, date string) error {
	res := tx.Exec("INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO NOTHING",
		digestKeyPrefix+date, s.txNow(tx).Format(time.RFC3339))
	if res.Error != nil {
		return res.Error
	}
	if res.RowsAffected == 0 {
		return errDigestDone
	}
	return nil
}

// digestCalls lists the confirmed calls starting in [from, to), by time.
func digestCalls(tx *gorm.DB, from, to time.Time) ([]models.DigestCall, error) {
	calls := []models.DigestCall{}
	err := tx.Table("bookings").
		Select("bookings.start_at AS start, bookings.lead_id, leads.name, bookings.target_title, users.name AS host_name").
		Joins("JOIN leads ON leads.id = bookings.lead_id").
		Joins("JOIN users ON users.id = bookings.host_id").
		Where("bookings.status = ? AND bookings.start_at >= ? AND bookings.start_at < ?", models.BookingConfirmed, from, to).
		Order("bookings.start_at, bookings.id").Scan(&calls).Error
	for i := range calls {
		calls[i].Start = calls[i].Start.UTC()
	}
	return calls, err
}

// digestLeads lists the leads created in [from, to) and not erased.
func digestLeads(tx *gorm.DB, from, to time.Time) ([]models.DigestLead, error) {
	leads := []models.DigestLead{}
	err := tx.Table("leads").Select("id AS lead_id, name, target_title, role_slug").
		Where("created_at >= ? AND created_at < ? AND erased_at IS NULL", from, to).
		Order("created_at, id").Scan(&leads).Error
	return leads, err
}

// CleanUp removes what has outlived its use: idempotency keys past their 24
// hours, expired sessions, failed sign-ins older than a day, old digest and
// lead-retention records, and audit entries older than the store's audit
// retention (Options.AuditRetention); flags every confirmed call that has ended without an outcome
// (outcome_missing), for the staff area; and, on PostgreSQL, folds the
// dashboard's roll-up parts into their rows. It is idempotent and runs in one
// transaction.
func (s *Store) CleanUp(ctx context.Context) (models.CleanupResult, error) {
	ctx, now := s.withTxNow(ctx)
	var r models.CleanupResult
	err := s.tx(ctx, func(tx *gorm.DB) error {
		dayAgo := now.Add(-24 * time.Hour)
		monthAgo := now.In(s.loc).AddDate(0, 0, -30).Format(time.DateOnly)
		oldDigest := digestKeyPrefix + monthAgo
		steps := []struct {
			n   *int64
			run func() *gorm.DB
		}{
			{&r.IdempotencyKeys, func() *gorm.DB { return tx.Where("created_at < ?", dayAgo).Delete(&models.IdempotencyKey{}) }},
			{&r.OutcomesMissing, func() *gorm.DB {
				return tx.Model(&models.Booking{}).Where("status = ? AND end_at < ? AND outcome_missing = ?", models.BookingConfirmed, now, false).
					UpdateColumn("outcome_missing", true)
			}},
			{&r.Sessions, func() *gorm.DB { return tx.Where("expires_at < ?", now).Delete(&models.Session{}) }},
			{&r.LoginAttempts, func() *gorm.DB { return tx.Where("created_at < ?", dayAgo).Delete(&models.LoginAttempt{}) }},
			{&r.DigestMarks, func() *gorm.DB {
				return tx.Where("key LIKE ? AND key < ?", digestKeyPrefix+"%", oldDigest).Delete(&models.Setting{})
			}},
			{&r.RetentionMarks, func() *gorm.DB {
				return tx.Where("key LIKE ? AND key < ?", retentionKeyPrefix+"%", retentionKeyPrefix+monthAgo).Delete(&models.Setting{})
			}},
			{&r.AuditEntries, func() *gorm.DB {
				return tx.Where("at < ?", now.Add(-s.auditRetention)).Delete(&models.AuditEntry{})
			}},
		}
		for _, st := range steps {
			res := st.run()
			if res.Error != nil {
				return res.Error
			}
			*st.n = res.RowsAffected
		}
		if s.dialect != DialectPostgres {
			return nil
		}
		var err error
		r.StatsFolded, err = foldStatsParts(tx)
		return err
	})
	if err != nil {
		return models.CleanupResult{}, err
	}
	return r, nil
}
