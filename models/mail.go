package models

import (
	"strings"
	"time"

	"gorm.io/gorm"
)

// Email kinds (docs/API.md, Emails). Reminder kinds are "reminder-" plus the offset
// as written in configuration.
const (
	MailConfirmation   = "confirmation"
	MailHostNotice     = "host-notice"
	MailReschedule     = "reschedule"
	MailCancellation   = "cancellation"
	MailDigest         = "digest"
	MailReminderPrefix = "reminder-"
)

// MailData is the snapshot an email is rendered from. It is stored as the
// outbox row's payload when the causing change commits, so the email tells
// what was true then, whenever it is delivered.
type MailData struct {
	Kind string `json:"kind"`
	// Change is what a host-notice reports: "booked", "rescheduled" or "canceled".
	Change string `json:"change,omitempty"`

	BookingID  uint      `json:"booking_id,omitempty"`
	BookingUID string    `json:"booking_uid,omitempty"`
	Sequence   int       `json:"sequence,omitempty"`
	Start      time.Time `json:"start,omitempty"`
	End        time.Time `json:"end,omitempty"`
	Timezone   string    `json:"timezone,omitempty"` // the visitor's zone
	// PreviousStart is the old time of a moved call.
	PreviousStart *time.Time `json:"previous_start,omitempty"`
	Reason        string     `json:"reason,omitempty"` // of a cancellation
	Offset        string     `json:"offset,omitempty"` // of a reminder, as written

	LeadID       uint   `json:"lead_id,omitempty"`
	Name         string `json:"name,omitempty"`
	Email        string `json:"email,omitempty"`
	Phone        string `json:"phone,omitempty"`
	CurrentTitle string `json:"current_title,omitempty"`
	TargetTitle  string `json:"target_title,omitempty"`
	RoleSlug     string `json:"role_slug,omitempty"`
	Message      string `json:"message,omitempty"`

	HostName  string `json:"host_name,omitempty"`
	HostEmail string `json:"host_email,omitempty"`
	// HostTeam marks a host without an address of its own (the default
	// team host, which borrows the sender's): calendars then show the
	// sender as the call's organizer.
	HostTeam bool `json:"host_team,omitempty"`
	// Meeting is where the call happens.
	Meeting *Meeting `json:"meeting,omitempty"`
	// ReplyTo are the people a visitor's reply reaches: the host, or for
	// the team host the admins.
	ReplyTo []string `json:"reply_to,omitempty"`

	Digest *DigestData `json:"digest,omitempty"`

	// OwnerName and AssignedBy are a lead-assigned email's new owner and
	// the staff member who assigned the lead ("" when its first call did).
	OwnerName  string `json:"owner_name,omitempty"`
	AssignedBy string `json:"assigned_by,omitempty"`
}

// DigestData is the content of a daily digest.
type DigestData struct {
	Date       string       `json:"date"` // business date, YYYY-MM-DD
	TodayCalls []DigestCall `json:"today_calls"`
	NewLeads   []DigestLead `json:"new_leads"`
}

// DigestCall is one of today's calls in a digest.
type DigestCall struct {
	Start       time.Time `json:"start"`
	LeadID      uint      `json:"lead_id"`
	Name        string    `json:"name"`
	TargetTitle string    `json:"target_title"`
	HostName    string    `json:"host_name"`
}

// DigestLead is one of yesterday's new leads in a digest.
type DigestLead struct {
	LeadID      uint   `json:"lead_id"`
	Name        string `json:"name"`
	TargetTitle string `json:"target_title"`
	RoleSlug    string `json:"role_slug"`
}

// bookingMail builds the snapshot for an email about booking b.
func (s *Store) bookingMail(kind string, b *Booking, l *Lead, host *User) MailData {
	m := s.BookingMeeting(b)
	return MailData{
		Meeting: &m, HostTeam: s.borrowsAddress(host),
		Kind: kind, BookingID: b.ID, BookingUID: b.UID, Sequence: b.Sequence,
		Start: b.StartAt.UTC(), End: b.EndAt.UTC(), Timezone: b.Timezone,
		LeadID: l.ID, Name: l.Name, Email: l.Email, Phone: l.Phone, CurrentTitle: l.CurrentTitle,
		TargetTitle: b.TargetTitle, RoleSlug: b.RoleSlug, Message: b.Message,
		HostName: host.Name, HostEmail: host.Email,
	}
}

// queueMail writes one email into the outbox inside tx. The caller's
// transaction commits it with the change that caused it.
func (s *Store) queueMail(tx *gorm.DB, to, toName string, d MailData) error {
	if strings.TrimSpace(to) == "" {
		return nil
	}
	return s.insertOutbox(tx, s.outboxRow(to, toName, d))
}

// insertOutbox writes pending emails in one statement.
func (s *Store) insertOutbox(tx *gorm.DB, rows ...OutboxMessage) error {
	if len(rows) == 0 {
		return nil
	}
	args := make([]any, 0, 11*len(rows))
	for _, r := range rows {
		args = append(args, r.Kind, nullID(r.BookingID), nullID(r.LeadID), r.ToAddr, r.ToName, r.MessageID, r.Payload,
			r.Status, r.NextAttemptAt, r.CreatedAt, r.UpdatedAt)
	}
	_, err := s.exec(tx, "INSERT INTO outbox (kind, booking_id, lead_id, to_addr, to_name, message_id, payload, status, "+
		"next_attempt_at, created_at, updated_at) VALUES "+placeholders(len(rows), 11), args...)
	return err
}

// outboxRow builds one pending email.
func (s *Store) outboxRow(to, toName string, d MailData) OutboxMessage {
	now := s.Now()
	row := OutboxMessage{
		Kind: d.Kind, ToAddr: to, ToName: toName, MessageID: s.newMessageID(),
		Payload: encodeJSON(d), Status: OutboxPending, NextAttemptAt: now, CreatedAt: now, UpdatedAt: now,
	}
	if d.BookingID != 0 {
		id := d.BookingID
		row.BookingID = &id
	}
	if d.LeadID != 0 {
		id := d.LeadID
		row.LeadID = &id
	}
	return row
}

// newMessageID returns a unique RFC 5322 Message-ID on the sender's domain.
func (s *Store) newMessageID() string {
	domain := "callbook.localhost"
	if a := s.mailFrom; a != "" {
		domain = a[strings.LastIndexByte(a, '@')+1:]
	}
	return "<" + RandomToken(16) + "@" + domain + ">"
}

// queueBookingMails queues the visitor's email of kind and the host notice
// for a change to booking b.
func (s *Store) queueBookingMails(tx *gorm.DB, kind, change string, b *Booking, l *Lead, host *User, mod func(*MailData)) error {
	visitor := s.bookingMail(kind, b, l, host)
	if mod != nil {
		mod(&visitor)
	}
	notice := visitor
	notice.Kind, notice.Change = MailHostNotice, change
	notice.ReplyTo = visitorReplyTo(l)
	to, err := s.noticeRecipients(tx, host)
	if err != nil {
		return err
	}
	visitor.ReplyTo = replyTo(to)
	rows := make([]OutboxMessage, 0, 1+len(to))
	if strings.TrimSpace(l.Email) != "" {
		rows = append(rows, s.outboxRow(l.Email, l.Name, visitor))
	}
	for _, r := range to {
		rows = append(rows, s.outboxRow(r.Email, r.Name, notice))
	}
	return s.insertOutbox(tx, rows...)
}
