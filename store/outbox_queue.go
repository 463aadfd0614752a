package store

import (
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/callbook/callbook/models"
)

// bookingMail builds the snapshot for an email about booking b.
func (s *Store) bookingMail(kind string, b *models.Booking, l *models.Lead, host *models.User) models.MailData {
	m := s.BookingMeeting(b)
	return models.MailData{
		Meeting: &m, HostTeam: s.borrowsAddress(host),
		Kind: kind, BookingID: b.ID, BookingUID: b.UID, Sequence: b.Sequence,
		Start: b.StartAt.UTC(), End: b.EndAt.UTC(), Timezone: b.Timezone,
		LeadID: l.ID, Name: l.Name, Email: l.Email, Phone: l.Phone, CurrentTitle: l.CurrentTitle,
		TargetTitle: b.TargetTitle, RoleSlug: b.RoleSlug, Message: b.Message,
		HostName: host.Name, HostEmail: host.Email, CallTitle: b.CallTitle, Language: b.Language,
	}
}

// queueMail writes one email into the outbox inside tx. The caller's
// transaction commits it with the change that caused it.
func (s *Store) queueMail(tx *gorm.DB, to, toName string, d models.MailData) error {
	if strings.TrimSpace(to) == "" {
		return nil
	}
	return s.insertOutbox(tx, s.outboxRow(s.txNow(tx), to, toName, d))
}

// insertOutbox writes pending emails in one statement.
func (s *Store) insertOutbox(tx *gorm.DB, rows ...models.OutboxMessage) error {
	if len(rows) == 0 {
		return nil
	}
	args := make([]any, 0, 12*len(rows))
	for _, r := range rows {
		args = append(args, r.Kind, nullID(r.BookingID), nullID(r.LeadID), r.ToAddr, r.ToName, r.MessageID, r.Payload,
			r.Status, r.NextAttemptAt, r.TriggerStatus, r.CreatedAt, r.UpdatedAt)
	}
	return s.execLater(tx, "INSERT INTO outbox (kind, booking_id, lead_id, to_addr, to_name, message_id, payload, status, "+
		"next_attempt_at, trigger_status, created_at, updated_at) VALUES "+placeholders(len(rows), 12), args...)
}

// outboxRow builds one pending email.
func (s *Store) outboxRow(now time.Time, to, toName string, d models.MailData) models.OutboxMessage {
	row := models.OutboxMessage{
		Kind: d.Kind, ToAddr: to, ToName: toName, MessageID: s.newMessageID(),
		Payload: encodeJSON(d), Status: models.OutboxPending, NextAttemptAt: now, CreatedAt: now, UpdatedAt: now,
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
// for a change to booking b: to its host, or to every host of a collective
// call, each with the invite naming them all.
func (s *Store) queueBookingMails(tx *gorm.DB, kind, change string, b *models.Booking, l *models.Lead, host *models.User, mod func(*models.MailData)) error {
	visitor := s.bookingMail(kind, b, l, host)
	hosts := []models.User{*host}
	if b.Collective {
		var err error
		if hosts, err = bookingHosts(tx, b); err != nil {
			return err
		}
		for _, h := range hosts {
			visitor.Hosts = append(visitor.Hosts, models.MailHost{Name: h.Name, Email: h.Email})
		}
	}
	if mod != nil {
		mod(&visitor)
	}
	notice := visitor
	notice.Kind, notice.Change = models.MailHostNotice, change
	notice.ReplyTo = visitorReplyTo(l)
	var to []recipient
	for i := range hosts {
		rs, err := s.noticeRecipients(tx, &hosts[i])
		if err != nil {
			return err
		}
		to = append(to, rs...)
	}
	visitor.ReplyTo = replyTo(to)
	rows := make([]models.OutboxMessage, 0, 1+len(to))
	if strings.TrimSpace(l.Email) != "" {
		rows = append(rows, s.outboxRow(s.txNow(tx), l.Email, l.Name, visitor))
	}
	for _, r := range to {
		rows = append(rows, s.outboxRow(s.txNow(tx), r.Email, r.Name, notice))
	}
	return s.insertOutbox(tx, rows...)
}
