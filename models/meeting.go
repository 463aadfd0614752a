package models

import (
	"errors"
	"net/url"
	"slices"
	"strings"
	"unicode"
)

// Kinds of meeting place: where a call happens.
const (
	MeetingVideo    = "video"     // a video-call URL
	MeetingPhone    = "phone"     // the host phones the visitor
	MeetingInPerson = "in_person" // at an address
)

// MeetingRoomPlaceholder in a video URL becomes the booking's uid, so each
// call gets its own room.
const MeetingRoomPlaceholder = "{booking}"

// Meeting is where a call happens. For a host it is the place it offers
// (a video URL may hold MeetingRoomPlaceholder); for a booking it is the
// place of that call, the placeholder already replaced.
type Meeting struct {
	Kind    string `json:"kind"`
	URL     string `json:"url,omitempty"`
	Address string `json:"address,omitempty"`
}

// Location is where a call at m happens, in one line, as calendars show it
// (an invite's LOCATION, a host's feed): the video URL, the address, or for
// a phone call the number the host rings, phone ("" when unknown).
func (m Meeting) Location(phone string) string {
	switch m.Kind {
	case MeetingVideo:
		return m.URL
	case MeetingInPerson:
		return strings.Join(strings.Fields(m.Address), " ")
	}
	if phone != "" {
		return "Phone call to " + phone
	}
	return "Phone call"
}

// ForBooking is the meeting place of the call with uid: the same uid always
// gives the same room, so a call that keeps its host keeps its room.
func (m Meeting) ForBooking(uid string) Meeting {
	if m.Kind == MeetingVideo {
		m.URL = strings.ReplaceAll(m.URL, MeetingRoomPlaceholder, uid)
	}
	return m
}

// CheckMeetingURL says why raw cannot be a video-call URL: it must be an
// absolute http or https URL without spaces or control characters.
func CheckMeetingURL(raw string) error {
	u, err := url.Parse(raw)
	switch {
	case raw == "":
		return errors.New("is required for a video call")
	case len(raw) > 2000:
		return errors.New("must be at most 2000 characters")
	case strings.IndexFunc(raw, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }) >= 0:
		return errors.New("must not contain spaces or control characters")
	case err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "":
		return errors.New("must be an https:// address, as in https://meet.jit.si/acme-{booking}")
	}
	return nil
}

// PhoneRequired is the error of a booking that needs a phone number
// because the host phones the visitor.
func PhoneRequired() *ValidationError {
	return Invalid("phone", "is required: your coach will phone you at the time of the call")
}

// PhoneOnly reports whether every kind in kinds is a phone call, so a
// booking form must ask for the number.
func PhoneOnly(kinds []string) bool {
	return len(kinds) > 0 && !slices.ContainsFunc(kinds, func(k string) bool { return k != MeetingPhone })
}
