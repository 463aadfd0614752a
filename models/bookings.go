package models

import (
	"time"
)

// BookingRequest is a visitor's validated request for a call.
type BookingRequest struct {
	Name, Email, Phone        string
	CurrentTitle, TargetTitle string
	RoleSlug                  string
	Start                     time.Time
	Timezone                  string
	Message                   string
	UTMSource, UTMMedium      string
	UTMCampaign, UTMTerm      string
	UTMContent                string
	Referrer                  string
	Source, PageURL           string // SourceEmbed and the embedding page, for the embedded form
	// Answers to the role page's questions, kept with the booking and the lead.
	Answers Answers
	// Language is the visitor's language (en, de, es): every email about
	// the booking is written in it.
	Language string
	// Hosts are the host emails the answers route the call to (see
	// routeHosts); empty: any host.
	Hosts []string
	// Disqualified is set when the answers turn the visitor away: such a
	// request books nothing (see DisqualifyLead).
	Disqualified *Disqualification
}

// Idempotency ties a request to its Idempotency-Key. Render builds the
// response stored for replays, inside the booking's transaction.
type Idempotency struct {
	Key      string
	BodyHash string
	Render   func(b *Booking, l *Lead, host *User) (status int, body string, err error)
}

// Replay is the stored answer to a repeated idempotent request.
type Replay struct {
	Status int
	Body   string
}

// Error lets a Replay travel as an error out of BookSlot.
func (r *Replay) Error() string { return "idempotent replay" }

// BookingResult is what BookSlot made.
type BookingResult struct {
	Booking *Booking
	Lead    *Lead
	Host    *User
	Token   string
	// NewLead is true when this booking created the lead.
	NewLead bool
}
