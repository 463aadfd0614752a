package mailer

import (
	"strings"

	"github.com/callbook/callbook/locale"
	"github.com/callbook/callbook/models"
)

// meetingText says where and how the call happens, for the visitor or, with
// staff, for the host: "Video call: https://…", "Phone: Ana calls you on
// +1 555 0100", "In person: 1 Main St".
// The visitor reads it in l, staff in English.
func meetingText(l *locale.Lang, m models.Meeting, d models.MailData, staff bool) string {
	switch m.Kind {
	case models.MeetingVideo:
		return l.T("mail_where_video", "URL", m.URL)
	case models.MeetingInPerson:
		return l.T("mail_where_in_person", "Address", strings.Join(strings.Fields(m.Address), " "))
	}
	host := orDefault(d.HostName, l.T("your_coach"))
	switch {
	case staff && d.Phone != "":
		return "Phone: call " + d.Name + " on " + d.Phone
	case staff:
		return "Phone: call " + d.Name + " (no number given; write to " + d.Email + ")"
	case d.Phone != "":
		return l.T("mail_where_phone_number", "Host", host, "Phone", d.Phone)
	}
	return l.T("mail_where_phone", "Host", host)
}

// meetingView fills the view's meeting lines from d's meeting place.
func (v *view) meetingView() {
	if v.Meeting == nil || v.Meeting.Kind == "" {
		return
	}
	v.Where = meetingText(v.lang, *v.Meeting, v.MailData, v.Staff)
	if v.Meeting.Kind == models.MeetingVideo {
		v.JoinURL = v.Meeting.URL
	}
}
