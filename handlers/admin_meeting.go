package handlers

import (
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/callbook/callbook/models"
)

// availMeeting is the meeting-place part of the availability form, each
// error beside its input. Kind "" is the default place.
type availMeeting struct {
	Kind, URL, Address             string
	KindError, URLError, AddrError string
	Default                        string // the default place in words
}

// meetingKindChoices are the form's choices, the default first.
var meetingKindChoices = []struct{ Value, Label string }{
	{"", "The default"},
	{models.MeetingVideo, "Video call"},
	{models.MeetingPhone, "Phone: the host calls the visitor"},
	{models.MeetingInPerson, "In person"},
}

func meetingFromConfig(cfg models.AvailabilityConfig) availMeeting {
	if cfg.Meeting == nil || cfg.MeetingIsDefault {
		return availMeeting{}
	}
	return availMeeting{Kind: cfg.Meeting.Kind, URL: cfg.Meeting.URL, Address: cfg.Meeting.Address}
}

// readMeetingForm reads the posted meeting place, as shown and as saved.
func readMeetingForm(c *gin.Context) (availMeeting, *models.Meeting) {
	f := availMeeting{Kind: strings.TrimSpace(c.PostForm("meeting_kind")),
		URL: strings.TrimSpace(c.PostForm("meeting_url")), Address: c.PostForm("meeting_address")}
	return f, &models.Meeting{Kind: f.Kind, URL: f.URL, Address: f.Address}
}

// place puts a store error about the meeting place beside its input.
func (m *availMeeting) place(field, msg string) bool {
	switch field {
	case "meeting.kind":
		m.KindError = msg
	case "meeting.url":
		m.URLError = msg
	case "meeting.address":
		m.AddrError = msg
	default:
		return false
	}
	return true
}

// meetingWords describes a meeting place for staff: "video call at
// https://…", "the host phones the visitor", "in person at …".
func meetingWords(m models.Meeting) string {
	switch m.Kind {
	case models.MeetingVideo:
		return "video call at " + m.URL
	case models.MeetingInPerson:
		return "in person at " + m.Address
	}
	return "the host phones the visitor"
}
