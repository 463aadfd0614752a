package mailer

import (
	"bytes"
	"encoding/json"
	"fmt"
	netmail "net/mail"
	"strconv"
	"strings"

	"github.com/wneessen/go-mail"

	"github.com/callbook/callbook/models"
)

// Headers Callbook sets on every email (docs/API.md, Emails).
const (
	HeaderKind    = "X-Callbook-Kind"
	HeaderBooking = "X-Callbook-Booking"
)

// Render renders an outbox row exactly as it is (or was) sent: the admin
// mail viewer shows this.
func (o *Outbox) Render(row models.OutboxMessage) (Rendered, error) {
	var d models.MailData
	if err := json.Unmarshal([]byte(row.Payload), &d); err != nil {
		return Rendered{}, fmt.Errorf("outbox row %d: payload is not mail data: %w", row.ID, err)
	}
	if d.Kind == "" {
		d.Kind = row.Kind
	}
	return o.renderer.Render(d, row.CreatedAt)
}

// compose builds the message for row: the row's stable Message-ID, the
// Callbook headers, text and HTML as alternatives, and invite.ics attached
// when the kind carries one. An error here is permanent: the same row will
// never compose.
func (o *Outbox) compose(row models.OutboxMessage) (*mail.Msg, error) {
	r, err := o.Render(row)
	if err != nil {
		return nil, err
	}
	m := mail.NewMsg(mail.WithNoDefaultUserAgent())
	if err := m.From(o.from); err != nil {
		return nil, fmt.Errorf("sender %q: %w", o.from, err)
	}
	// net/mail quotes or encodes the display name as it needs, so names
	// with quotes, commas, colons or backslashes still make an address.
	to := &netmail.Address{Name: row.ToName, Address: row.ToAddr}
	if _, err := netmail.ParseAddress(to.String()); err != nil {
		return nil, fmt.Errorf("recipient %q: %w", row.ToAddr, err)
	}
	m.ToMailAddress(to)
	m.Subject(r.Subject)
	m.SetMessageIDWithValue(strings.TrimSuffix(strings.TrimPrefix(row.MessageID, "<"), ">"))
	m.SetDateWithValue(row.CreatedAt)
	m.SetGenHeader(HeaderKind, row.Kind)
	if row.BookingID != nil {
		m.SetGenHeader(HeaderBooking, strconv.FormatUint(uint64(*row.BookingID), 10))
	}
	m.SetGenHeader("Auto-Submitted", "auto-generated")
	if r.UnsubscribeURL != "" {
		// One-click unsubscribe (RFC 8058): a mail client's button posts
		// List-Unsubscribe=One-Click to the link, no page in between.
		m.SetGenHeader("List-Unsubscribe", "<"+r.UnsubscribeURL+">")
		m.SetGenHeader("List-Unsubscribe-Post", "List-Unsubscribe=One-Click")
	}
	if rt := replyToAddrs(r.ReplyTo); len(rt) > 0 {
		// A reply or an RSVP reaches a person, not the sender: the host for
		// the visitor's emails, the visitor for a host notice.
		m.ReplyToMailAddress(rt...)
	}
	m.SetBodyString(mail.TypeTextPlain, r.Text)
	m.AddAlternativeString(mail.TypeTextHTML, r.HTML)
	if r.ICS != nil {
		ct := mail.ContentType("text/calendar; method=" + r.ICSMethod + "; charset=utf-8")
		if err := m.AttachReader("invite.ics", bytes.NewReader(r.ICS), mail.WithFileContentType(ct)); err != nil {
			return nil, fmt.Errorf("attach invite.ics: %w", err)
		}
	}
	return m, nil
}

// replyToAddrs parses the Reply-To addresses ("Name <addr>" as net/mail
// writes them), leaving out any that does not parse.
func replyToAddrs(list []string) []*netmail.Address {
	var out []*netmail.Address
	for _, a := range list {
		if addr, err := netmail.ParseAddress(a); err == nil {
			out = append(out, addr)
		}
	}
	return out
}
