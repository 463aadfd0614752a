package store

import (
	"errors"
	"time"

	"gorm.io/gorm"

	"github.com/callbook/callbook/models"
)

// claimLeased is the claim step shared by the mail outbox and webhook
// deliveries: inside tx it locks up to limit rows of T that due selects, in
// order (SKIP LOCKED on PostgreSQL, so concurrent claimers pass each other
// by), and marks them "sending", one more attempt, held until until. The
// update repeats still's conditions, so a row that changed under the lock
// fails the claim instead of being taken twice. The rows come back as they
// now are.
func claimLeased[T any](s *Store, tx *gorm.DB, due, still func(*gorm.DB) *gorm.DB, order string, limit int,
	now, until time.Time, id func(*T) uint, mark func(*T)) ([]T, error) {
	var rows []T
	if err := s.skipLocked(due(tx.Model(new(T))).Order(order).Limit(limit)).Find(&rows).Error; err != nil {
		return nil, err
	}
	if len(rows) == 0 {
		return nil, nil
	}
	ids := make([]uint, len(rows))
	for i := range rows {
		ids[i] = id(&rows[i])
	}
	res := still(tx.Model(new(T)).Where("id IN ?", ids)).Updates(map[string]any{
		"status": models.OutboxSending, "claimed_until": until, "attempts": gorm.Expr("attempts + 1"), "updated_at": now,
	})
	if res.Error != nil {
		return nil, res.Error
	}
	if res.RowsAffected != int64(len(rows)) {
		return nil, errors.New("claimed rows changed under a lock")
	}
	for i := range rows {
		mark(&rows[i])
	}
	return rows, nil
}
