package store

import (
	"time"

	"gorm.io/gorm"

	"github.com/callbook/callbook/models"
)

// addEvent writes one timeline entry inside tx.
func (s *Store) addEvent(tx *gorm.DB, leadID, bookingID uint, typ, actor string, data any) error {
	return s.insertEvents(tx, s.newEvent(s.txNow(tx), leadID, bookingID, typ, actor, data))
}

// insertEvents writes timeline entries in one statement.
func (s *Store) insertEvents(tx *gorm.DB, events ...models.Event) error {
	if len(events) == 0 {
		return nil
	}
	args := make([]any, 0, 6*len(events))
	for _, e := range events {
		args = append(args, nullID(e.LeadID), nullID(e.BookingID), e.Type, e.Actor, e.Data, e.CreatedAt)
	}
	return s.execLater(tx, "INSERT INTO events (lead_id, booking_id, type, actor, data, created_at) VALUES "+
		placeholders(len(events), 6), args...)
}

// newEvent builds a timeline entry, for callers that insert several at once.
// data is a map or a struct whose JSON is the entry's data.
func (s *Store) newEvent(now time.Time, leadID, bookingID uint, typ, actor string, data any) models.Event {
	e := models.Event{Type: typ, Actor: actor, Data: "{}", CreatedAt: now}
	if data != nil {
		e.Data = encodeJSON(data)
	}
	if leadID != 0 {
		e.LeadID = &leadID
	}
	if bookingID != 0 {
		e.BookingID = &bookingID
	}
	return e
}

// AddEvent records an event outside any other change (for example an export).
func (s *Store) AddEvent(leadID uint, typ, actor string, data map[string]any) error {
	return s.write.Transaction(func(tx *gorm.DB) error { return s.addEvent(tx, leadID, 0, typ, actor, data) })
}

// timePtr returns a pointer to t in UTC.
func timePtr(t time.Time) *time.Time { t = t.UTC(); return &t }
