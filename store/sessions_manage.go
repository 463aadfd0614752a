package store

import (
	"context"

	"gorm.io/gorm"

	"github.com/callbook/callbook/models"
)

// LiveSessions returns user userID's sessions that still sign in (neither
// idle past SessionIdle nor older than SessionAbsolute), the most recently
// used first, for the Security page's list of signed-in devices.
func (s *Store) LiveSessions(ctx context.Context, userID uint) ([]models.Session, error) {
	now := s.Now()
	var rows []models.Session
	err := s.read.WithContext(ctx).Where("user_id = ? AND expires_at > ? AND created_at > ?", userID, now, now.Add(-SessionAbsolute)).
		Order("last_seen_at DESC, created_at DESC").Find(&rows).Error
	return rows, err
}

// EndSession signs user userID out of their session id (a session's
// stored id, never its cookie). It reports whether there was one: another
// user's session is not theirs to end, and is left alone.
func (s *Store) EndSession(ctx context.Context, userID uint, id string) (bool, error) {
	var ended bool
	err := s.tx(ctx, func(tx *gorm.DB) error {
		res := tx.Where("id = ? AND user_id = ?", id, userID).Delete(&models.Session{})
		ended = res.RowsAffected > 0
		if res.Error != nil || !ended {
			return res.Error
		}
		return s.auditSessionsEnded(tx, userID, 1, "one")
	})
	return ended, err
}

// EndOtherSessions signs user userID out everywhere but the session keep
// (empty: everywhere), and returns how many sessions it ended. API tokens
// are separate credentials and stay.
func (s *Store) EndOtherSessions(ctx context.Context, userID uint, keep string) (int, error) {
	var n int
	err := s.tx(ctx, func(tx *gorm.DB) error {
		res := tx.Where("user_id = ? AND id <> ?", userID, keep).Delete(&models.Session{})
		n = int(res.RowsAffected)
		if res.Error != nil {
			return res.Error
		}
		which := "all"
		if keep != "" {
			which = "others"
		}
		return s.auditSessionsEnded(tx, userID, n, which)
	})
	return n, err
}

// auditSessionsEnded records that n sessions of userID were ended: "one",
// every one but the actor's own ("others"), or "all".
func (s *Store) auditSessionsEnded(tx *gorm.DB, userID uint, n int, which string) error {
	return s.audit(tx, models.AuditSessionsEnded, models.AuditTarget{Type: models.AuditTargetUser, ID: userID},
		map[string]any{"sessions": n, "which": which})
}
