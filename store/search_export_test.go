package store

import (
	"github.com/callbook/callbook/models"
	"gorm.io/gorm"
)

// LeadSearchCountSQL counts, with its arguments inlined, the leads the lead
// list's search finds for frag, erased ones too: it leaves out the list's
// erased filter, so a test sees what the search index itself still holds.
func (s *Store) LeadSearchCountSQL(frag string) string {
	return s.write.ToSQL(func(tx *gorm.DB) *gorm.DB {
		var n int64
		return searchLeads(tx.Model(&models.Lead{}), frag).Count(&n)
	})
}
