package handlers

import (
	"encoding/json"
	"time"

	"github.com/callbook/callbook/models"
)

// leadJSON is the API's Lead object (docs/openapi.yaml).
type leadJSON struct {
	ID               uint     `json:"id"`
	Name             string   `json:"name"`
	Email            string   `json:"email"`
	Phone            string   `json:"phone"`
	CurrentTitle     string   `json:"current_title"`
	TargetTitle      string   `json:"target_title"`
	RecommendedTitle string   `json:"recommended_title"`
	RoleSlug         string   `json:"role_slug"`
	Status           string   `json:"status"`
	OwnerID          *uint    `json:"owner_id"`
	UTM              utmInput `json:"utm"`
	Referrer         string   `json:"referrer"`
	Source           string   `json:"source"`   // "embed": booked through the form on another site
	PageURL          string   `json:"page_url"` // that site's page
	CreatedAt        string   `json:"created_at"`
	UpdatedAt        string   `json:"updated_at"`
	BookingsCount    int64    `json:"bookings_count"`
	NextCallAt       *string  `json:"next_call_at"`
	OpenTasks        int64    `json:"open_tasks"`
	// UnsubscribedAt is when the visitor stopped follow-up emails.
	UnsubscribedAt *string `json:"unsubscribed_at"`
	// FirstTouch is the source of the lead's first booking; UTM and
	// Referrer above are its latest.
	FirstTouch touchJSON `json:"first_touch"`
	// Answers is the latest answer to each role-page question.
	Answers models.Answers `json:"answers"`
	// Language is the language of the lead's latest booking.
	Language string `json:"language"`
}

// touchJSON is where a visitor came from on one visit.
type touchJSON struct {
	UTM      utmInput `json:"utm"`
	Referrer string   `json:"referrer"`
}

func rfc3339(t time.Time) string { return t.UTC().Format(time.RFC3339) }

func optRFC3339(t *time.Time) *string {
	if t == nil {
		return nil
	}
	s := rfc3339(*t)
	return &s
}

// each maps rows to their API shapes; never nil, so an empty list is [] in
// JSON rather than null.
func each[T, J any](rows []T, shape func(*T) J) []J {
	out := make([]J, len(rows))
	for i := range rows {
		out[i] = shape(&rows[i])
	}
	return out
}

func toLeadJSON(r *models.LeadRow) leadJSON {
	l := r.Lead
	return leadJSON{
		ID: l.ID, Name: l.Name, Email: l.Email, Phone: l.Phone, CurrentTitle: l.CurrentTitle,
		TargetTitle: l.TargetTitle, RecommendedTitle: l.RecommendedTitle, RoleSlug: l.RoleSlug, Status: l.Status,
		OwnerID: l.OwnerID, Referrer: l.Referrer, Source: l.Source, PageURL: l.PageURL, CreatedAt: rfc3339(l.CreatedAt), UpdatedAt: rfc3339(l.UpdatedAt),
		UTM:           utmInput{Source: l.UTMSource, Medium: l.UTMMedium, Campaign: l.UTMCampaign, Term: l.UTMTerm, Content: l.UTMContent},
		BookingsCount: r.BookingsCount, NextCallAt: optRFC3339(r.NextCallAt),
		OpenTasks: r.OpenTasks, UnsubscribedAt: optRFC3339(l.UnsubscribedAt),
		FirstTouch: touchJSON{Referrer: l.FirstReferrer, UTM: utmInput{Source: l.FirstUTMSource, Medium: l.FirstUTMMedium,
			Campaign: l.FirstUTMCampaign, Term: l.FirstUTMTerm, Content: l.FirstUTMContent}},
		Answers: models.DecodeAnswers(l.AnswersJSON), Language: l.Language,
	}
}

// noteJSON is the contract's Note object.
type noteJSON struct {
	ID        uint       `json:"id"`
	Body      string     `json:"body"`
	Author    authorJSON `json:"author"`
	CreatedAt string     `json:"created_at"`
}

type authorJSON struct {
	ID   uint   `json:"id"`
	Name string `json:"name"`
}

func toNoteJSON(n *models.NoteRow) noteJSON {
	return noteJSON{ID: n.ID, Body: n.Body, Author: authorJSON{n.AuthorID, n.AuthorName}, CreatedAt: rfc3339(n.CreatedAt)}
}

// eventJSON is the contract's Event object; data is always a JSON object.
type eventJSON struct {
	ID        uint            `json:"id"`
	Type      string          `json:"type"`
	Actor     string          `json:"actor"`
	Data      json.RawMessage `json:"data"`
	CreatedAt string          `json:"created_at"`
}

func toEventJSON(e *models.Event) eventJSON {
	data := json.RawMessage(e.Data)
	var probe map[string]any
	if json.Unmarshal(data, &probe) != nil {
		data = json.RawMessage("{}")
	}
	return eventJSON{ID: e.ID, Type: e.Type, Actor: e.Actor, Data: data, CreatedAt: rfc3339(e.CreatedAt)}
}

// staffBookingJSON is a Booking with its lead's id, for staff.
func (s *Server) staffBookingJSON(b *models.StaffBooking) bookingJSON {
	out := s.toBookingJSON(&b.Booking, b.HostName)
	id := b.LeadID
	out.LeadID = &id
	return out
}

// userJSON is one staff user in GET /api/v1/admin/users.
type userJSON struct {
	ID       uint   `json:"id"`
	Email    string `json:"email"`
	Name     string `json:"name"`
	Role     string `json:"role"`
	Host     bool   `json:"host"`
	Disabled bool   `json:"disabled"`
}

// outboxJSON is one email and its delivery state.
type outboxJSON struct {
	ID            uint    `json:"id"`
	Kind          string  `json:"kind"`
	To            string  `json:"to"`
	Status        string  `json:"status"`
	Attempts      int     `json:"attempts"`
	LastError     string  `json:"last_error"`
	BookingID     *uint   `json:"booking_id"`
	LeadID        *uint   `json:"lead_id"`
	MessageID     string  `json:"message_id"`
	CreatedAt     string  `json:"created_at"`
	NextAttemptAt string  `json:"next_attempt_at"`
	SentAt        *string `json:"sent_at"`
	// SkipReason says why a follow-up email was skipped: rebooked,
	// outcome_changed, unsubscribed or erased; "" otherwise.
	SkipReason string `json:"skip_reason"`
}

func toOutboxJSON(m *models.OutboxMessage) outboxJSON {
	return outboxJSON{
		ID: m.ID, Kind: m.Kind, To: m.ToAddr, Status: m.Status, Attempts: m.Attempts, LastError: m.LastError,
		BookingID: m.BookingID, LeadID: m.LeadID, MessageID: m.MessageID, CreatedAt: rfc3339(m.CreatedAt),
		NextAttemptAt: rfc3339(m.NextAttemptAt), SentAt: optRFC3339(m.SentAt), SkipReason: m.SkipReason,
	}
}
