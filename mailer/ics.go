package mailer

import (
	"fmt"
	"net/mail"
	"strings"
	"time"

	ics "github.com/arran4/golang-ical"

	"github.com/callbook/callbook/locale"
	"github.com/callbook/callbook/models"
)

// iCalendar methods of the invites Callbook sends (RFC 5546).
const (
	MethodRequest = "REQUEST"
	MethodCancel  = "CANCEL"
)

// inviteMethod is the calendar method email d carries, or "" for kinds
// without an invite. A host notice carries the host's copy of the event,
// so the call appears, moves and disappears in the host's calendar too.
func inviteMethod(d models.MailData) string {
	switch d.Kind {
	case models.MailConfirmation, models.MailReschedule:
		return MethodRequest
	case models.MailCancellation:
		return MethodCancel
	case models.MailHostNotice:
		if d.Change == "canceled" {
			return MethodCancel
		}
		return MethodRequest
	}
	return ""
}

// InviteICS builds the calendar file for the booking in d, as served at
// /bookings/{token}/invite.ics: method MethodRequest for a confirmed call,
// MethodCancel for a canceled one. The file follows RFC 5545 (CRLF line
// ends, lines folded at 75 octets, text escaped); its UID is stable per
// booking and its SEQUENCE is the booking's, so calendars update the one
// event instead of adding another.
func (r *Renderer) InviteICS(d models.MailData, method string) ([]byte, error) {
	return r.invite(d, method, r.now())
}

func (r *Renderer) invite(d models.MailData, method string, stamp time.Time) ([]byte, error) {
	if method != MethodRequest && method != MethodCancel {
		return nil, fmt.Errorf("calendar method %q: want %s or %s", method, MethodRequest, MethodCancel)
	}
	if d.BookingUID == "" || d.Start.IsZero() || !d.End.After(d.Start) {
		return nil, fmt.Errorf("calendar file needs a booking with a start and end (booking %d)", d.BookingID)
	}
	cal := ics.NewCalendarFor("Callbook")
	cal.SetMethod(ics.Method(method))
	ev := cal.AddEvent(r.InviteUID(d.BookingUID))
	ev.SetSequence(d.Sequence)
	ev.SetDtStampTime(stamp)
	ev.SetStartAt(d.Start)
	ev.SetEndAt(d.End)
	l := r.langOf(d)
	ev.SetSummary(icsText(inviteSummary(l, d)))
	ev.SetDescription(icsText(r.inviteDescription(l, d, method)))
	ev.SetURL(r.ManageURL(d.BookingUID))
	if m := d.Meeting; m != nil {
		ev.SetLocation(icsText(inviteLocation(l, *m, d.Phone)))
		if m.Kind == models.MeetingVideo && m.URL != "" {
			ev.SetURL(m.URL)
		}
	}
	org, orgName := r.organizer(d)
	addCalAddress(ev, ics.ComponentPropertyOrganizer, org, orgName, nil)
	addCalAddress(ev, ics.ComponentPropertyAttendee, d.Email, d.Name, map[string][]string{
		string(ics.ParameterRole):   {string(ics.ParticipationRoleReqParticipant)},
		string(ics.ParameterCutype): {string(ics.CalendarUserTypeIndividual)},
		string(ics.ParameterRsvp):   {"FALSE"},
	})
	if method == MethodCancel {
		ev.SetStatus(ics.ObjectStatusCancelled)
	} else {
		ev.SetStatus(ics.ObjectStatusConfirmed)
	}
	var b strings.Builder
	if err := cal.SerializeTo(&b, ics.WithNewLineWindows); err != nil {
		return nil, fmt.Errorf("calendar file: %w", err)
	}
	return []byte(b.String()), nil
}

// InviteUID is the iCalendar UID of a booking: its UID at the base URL's
// host, the same in every invite about that booking.
func (r *Renderer) InviteUID(bookingUID string) string { return bookingUID + "@" + r.uidHost }

// inviteSummary is the event's title: the visitor's in their language, the
// host's in English.
func inviteSummary(l *locale.Lang, d models.MailData) string {
	if d.Kind == models.MailHostNotice {
		s := "Discovery call: " + d.Name
		if d.TargetTitle != "" {
			s += " (" + d.TargetTitle + ")"
		}
		return s
	}
	if d.TargetTitle != "" {
		return l.T("invite_summary", "Title", d.TargetTitle)
	}
	return l.T("invite_summary_plain")
}

// inviteLocation is the event's LOCATION: the room's link, the address, or
// the phone call in the reader's language.
func inviteLocation(l *locale.Lang, m models.Meeting, phone string) string {
	if m.Kind == models.MeetingVideo || m.Kind == models.MeetingInPerson {
		return m.Location(phone)
	}
	if phone != "" {
		return l.T("invite_phone_to", "Phone", phone)
	}
	return l.T("invite_phone")
}

// organizer is who the call's event is organized by: the host, or the
// sender (named as the host) for a host without an address of its own.
func (r *Renderer) organizer(d models.MailData) (addr, name string) {
	if d.HostEmail != "" && !d.HostTeam {
		return d.HostEmail, orDefault(d.HostName, d.HostEmail)
	}
	if d.HostName != "" {
		return r.from.Address, d.HostName
	}
	return r.from.Address, organizerName(r.from)
}

// inviteDescription is the event's text: the visitor's in l, the host's
// (l is then English) about the lead.
func (r *Renderer) inviteDescription(l *locale.Lang, d models.MailData, method string) string {
	var b strings.Builder
	if method == MethodCancel {
		b.WriteString(l.T("invite_canceled"))
		if d.Reason != "" {
			b.WriteString(" " + l.T("invite_reason", "Reason", d.Reason))
		}
		b.WriteString("\n\n")
	}
	switch {
	case d.Kind == models.MailHostNotice && d.TargetTitle != "":
		fmt.Fprintf(&b, "Discovery call with %s <%s> about %s.", d.Name, d.Email, d.TargetTitle)
	case d.Kind == models.MailHostNotice:
		fmt.Fprintf(&b, "Discovery call with %s <%s>.", d.Name, d.Email)
	case d.TargetTitle != "":
		b.WriteString(l.T("invite_your_call_about", "Host", d.HostName, "Title", d.TargetTitle))
	default:
		b.WriteString(l.T("invite_your_call", "Host", d.HostName))
	}
	b.WriteString("\n\n")
	if d.Meeting != nil {
		b.WriteString(meetingText(l, *d.Meeting, d, d.Kind == models.MailHostNotice) + "\n\n")
	}
	switch {
	case d.Kind == models.MailHostNotice && d.LeadID != 0:
		b.WriteString("The lead: " + r.leadURL(d.LeadID))
	case method == MethodCancel:
		b.WriteString(l.T("invite_your_booking", "URL", r.ManageURL(d.BookingUID)))
	default:
		b.WriteString(l.T("invite_manage", "URL", r.ManageURL(d.BookingUID)))
	}
	return b.String()
}

// organizerName is the sender's display name, or "Callbook".
func organizerName(from *mail.Address) string {
	if strings.TrimSpace(from.Name) != "" {
		return from.Name
	}
	return "Callbook"
}

// icsText drops the control characters TEXT values may not hold; line
// breaks become the "\n" escape, and commas, semicolons and backslashes are
// escaped, by the library.
func icsText(s string) string {
	s = strings.ReplaceAll(s, "\r\n", "\n")
	return strings.Map(func(r rune) rune {
		if r == '\n' || r == '\t' {
			return r
		}
		if r < 0x20 || r == 0x7f {
			return -1
		}
		return r
	}, s)
}

// addCalAddress adds an ORGANIZER or ATTENDEE with its common name as a
// quoted parameter value (RFC 5545 §3.1: DQUOTE, then anything but
// control characters and DQUOTE), so a name such as
// `Robert "Bob" Jr., Smith` keeps its comma and reads
// CN="Robert 'Bob' Jr., Smith". golang-ical v0.3.4 quotes no CN itself: it
// writes a backslash before , ; : ' and ", which RFC 5545 does not allow
// in parameters and calendars show as typed. So the quoted CN is written
// as part of the property's name, which the library writes as it is;
// the other parameters are plain words.
func addCalAddress(ev *ics.VEvent, prop ics.ComponentProperty, email, name string, params map[string][]string) {
	if params == nil {
		params = map[string][]string{}
	}
	ev.Properties = append(ev.Properties, ics.IANAProperty{BaseProperty: ics.BaseProperty{
		IANAToken:      string(prop) + ";" + string(ics.ParameterCn) + "=" + quoteParam(name),
		ICalParameters: params,
		Value:          "mailto:" + email,
	}})
}

// quoteParam is s as a quoted parameter value: a DQUOTE inside, which no
// quoting can carry, becomes a single quote, and line breaks, tabs and
// other control characters become spaces.
func quoteParam(s string) string {
	s = strings.Map(func(r rune) rune {
		switch {
		case r == '"':
			return '\''
		case r < 0x20 || r == 0x7f:
			return ' '
		}
		return r
	}, s)
	return `"` + strings.Join(strings.Fields(s), " ") + `"`
}
