package mailer

import (
	"strings"

	"github.com/callbook/callbook/models"
)

// meetingText says where and how the call happens, for the visitor or, with
// staff, for the host: "Video call: https://…", "Phone: Ana calls you on
// +1 555 0100", "In person: 1 Main St".
func meetingText(m models.Meeting, d models.MailData, staff bool) string {
	switch m.Kind {
	case models.MeetingVideo:
		return "Video call: " + m.URL
	case models.MeetingInPerson:
		return "In person: " + strings.Join(strings.Fields(m.Address), " ")
	}
	switch {
	case staff && d.Phone != "":
		return "Phone: call " + d.Name + " on " + d.Phone
	case staff:
		return "Phone: call " + d.Name + " (no number given; write to " + d.Email + ")"
	case d.Phone != "":
		return "Phone: " + orDefault(d.HostName, "your coach") + " calls you on " + d.Phone
	}
	return "Phone: " + orDefault(d.HostName, "your coach") + " calls you"
}

// meetingView fills the view's meeting lines from d's meeting place.
func (v *view) meetingView() {
	if v.Meeting == nil || v.Meeting.Kind == "" {
		return
	}
	v.Where = meetingText(*v.Meeting, v.MailData, v.Staff)
	if v.Meeting.Kind == models.MeetingVideo {
		v.JoinURL = v.Meeting.URL
	}
}
