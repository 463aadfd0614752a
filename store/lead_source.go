package store

import (
	"net/url"
	"time"

	"gorm.io/gorm"

	"github.com/callbook/callbook/models"
)

// markLeadSource records on the lead that req came through the embedded
// form, and the page of the other site it was on. Each such booking
// updates both, so the lead shows the latest page that brought it; a
// booking through Callbook's own pages changes neither.
func (s *Store) markLeadSource(tx *gorm.DB, l *models.Lead, req models.BookingRequest) error {
	if req.Source == "" {
		return nil
	}
	if err := tx.Model(&models.Lead{}).Where("id = ?", l.ID).
		Updates(map[string]any{"source": req.Source, "page_url": req.PageURL}).Error; err != nil {
		return err
	}
	l.Source, l.PageURL = req.Source, req.PageURL
	return nil
}

// scrubPageURL keeps only the site of an erased lead's embedding page: its
// path and query may carry the person's data.
func scrubPageURL(tx *gorm.DB, l *models.Lead, _ time.Time) error {
	if l.PageURL == "" {
		return nil
	}
	site := ""
	if u, err := url.Parse(l.PageURL); err == nil && u.Host != "" {
		site = u.Scheme + "://" + u.Host
	}
	l.PageURL = site
	return tx.Model(&models.Lead{}).Where("id = ?", l.ID).Update("page_url", site).Error
}
