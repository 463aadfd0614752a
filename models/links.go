package models

import "time"

// DefaultLinkLife is how long a private booking link works when its maker
// gives no expiry.
const DefaultLinkLife = 14 * 24 * time.Hour

// LinkSpec is what a new private booking link offers: one kind of call of
// one role, a number of uses, an expiry, and optionally the lead it is for
// (whose details the form is then filled with).
type LinkSpec struct {
	RoleSlug  string
	CallID    string
	LeadID    *uint
	Uses      int
	ExpiresAt time.Time
	CreatedBy uint
}

// Usable reports whether link l can still book a call at now.
func (l *BookingLink) Usable(now time.Time) bool {
	return l.DeletedAt == nil && l.UsesLeft > 0 && now.Before(l.ExpiresAt)
}
