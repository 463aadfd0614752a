package models

// LeadDetail is everything the lead page and GET /api/v1/admin/leads/{id}
// show about one lead: bookings newest first, notes newest first, and the
// timeline newest first.
type LeadDetail struct {
	Lead     LeadRow
	Bookings []StaffBooking
	Notes    []NoteRow
	Events   []Event
}

// NoteRow is a note with its author's name.
type NoteRow struct {
	Note
	AuthorName string
}

// LeadChange is a staff change to a lead. Nil fields stay as they are; with
// SetOwner, OwnerID nil clears the owner.
type LeadChange struct {
	Status           *string
	SetOwner         bool
	OwnerID          *uint
	RecommendedTitle *string
}
