package models

import (
	"time"

	"gorm.io/gorm"
)

// Actors that are not staff users.
const (
	ActorVisitor = "visitor"
	ActorSystem  = "system"
)

// ActorUser names a staff user as an event's actor.
func ActorUser(u *User) string { return u.Name + " <" + u.Email + ">" }

// addEvent writes one timeline entry inside tx.
func (s *Store) addEvent(tx *gorm.DB, leadID, bookingID uint, typ, actor string, data map[string]any) error {
	e := s.newEvent(leadID, bookingID, typ, actor, data)
	return tx.Create(&e).Error
}

// newEvent builds a timeline entry, for callers that insert several at once.
func (s *Store) newEvent(leadID, bookingID uint, typ, actor string, data map[string]any) Event {
	e := Event{Type: typ, Actor: actor, Data: "{}", CreatedAt: s.Now()}
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
