package store

import (
	"time"

	"gorm.io/gorm"

	"github.com/callbook/callbook/models"
)

// DueRemindersSQL is the sweep's select with its arguments inlined, for
// tests that EXPLAIN it.
func (s *Store) DueRemindersSQL(now time.Time, limit int) string {
	return s.write.ToSQL(func(tx *gorm.DB) *gorm.DB {
		var rs []models.Reminder
		return s.dueReminders(tx, now, limit).Find(&rs)
	})
}
