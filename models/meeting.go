package models

import (
	"context"
	"errors"
	"net/url"
	"slices"
	"strings"
	"unicode"

	"gorm.io/gorm"
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

// checkMeeting validates a host's meeting place, recording problems under
// "meeting.kind", "meeting.url" and "meeting.address", and returns it
// trimmed, with only the fields its kind uses. An empty kind gives the
// host the default place again.
func checkMeeting(verr *ValidationError, m Meeting) Meeting {
	out := Meeting{Kind: strings.TrimSpace(m.Kind)}
	switch out.Kind {
	case "":
	case MeetingVideo:
		out.URL = strings.TrimSpace(m.URL)
		if err := CheckMeetingURL(out.URL); err != nil {
			verr.Add("meeting.url", err.Error())
		}
	case MeetingPhone:
	case MeetingInPerson:
		out.Address = CheckMultiline(verr, "meeting.address", m.Address, 500)
		if out.Address == "" {
			verr.Add("meeting.address", "is required for a call in person")
		}
	default:
		verr.Add("meeting.kind", "must be video, phone or in_person")
	}
	return out
}

// DefaultMeeting is the meeting place of a host without one of its own:
// the configured video URL, or else the host phones the visitor.
func (s *Store) DefaultMeeting() Meeting {
	if s.meetingURL != "" {
		return Meeting{Kind: MeetingVideo, URL: s.meetingURL}
	}
	return Meeting{Kind: MeetingPhone}
}

// HostMeeting is the meeting place host u offers: its own, or the default.
func (s *Store) HostMeeting(u *User) Meeting {
	if u.MeetingKind == "" {
		return s.DefaultMeeting()
	}
	return Meeting{Kind: u.MeetingKind, URL: u.MeetingURL, Address: u.MeetingAddress}
}

// BookingMeeting is where booking b happens: the place fixed when it was
// booked (or moved to another host). Calls booked before meeting places
// existed get the default place.
func (s *Store) BookingMeeting(b *Booking) Meeting {
	if b.MeetingKind == "" {
		return s.DefaultMeeting().ForBooking(b.UID)
	}
	return Meeting{Kind: b.MeetingKind, URL: b.MeetingURL, Address: b.MeetingAddress}
}

// setBookingMeeting fixes b's meeting place as host's, for b's uid.
func (s *Store) setBookingMeeting(b *Booking, host *User) {
	m := s.HostMeeting(host).ForBooking(b.UID)
	b.MeetingKind, b.MeetingURL, b.MeetingAddress = m.Kind, m.URL, m.Address
}

// MeetingKinds lists the kinds of meeting place the enabled hosts offer, in
// the order video, phone, in person; with no enabled host, the default's.
// Public pages promise only these.
func (s *Store) MeetingKinds(ctx context.Context) ([]string, error) {
	var own []string
	err := s.read.WithContext(ctx).Model(&User{}).Where("host = ? AND disabled = ?", true, false).
		Distinct("meeting_kind").Pluck("meeting_kind", &own).Error
	if err != nil {
		return nil, err
	}
	if len(own) == 0 {
		own = []string{""}
	}
	var kinds []string
	for _, k := range []string{MeetingVideo, MeetingPhone, MeetingInPerson} {
		for _, o := range own {
			if o == k || (o == "" && s.DefaultMeeting().Kind == k) {
				kinds = append(kinds, k)
				break
			}
		}
	}
	return kinds, nil
}

// takesVisitor is the phone rule, the one every booking path applies: a
// host who phones visitors can take only a visitor who left a number.
func (s *Store) takesVisitor(h *User, phone string) bool {
	return strings.TrimSpace(phone) != "" || s.HostMeeting(h).Kind != MeetingPhone
}

// hostsTaking splits hosts into those who can take a visitor with phone
// and those who cannot (they phone, and there is no number).
func (s *Store) hostsTaking(hosts []User, phone string) (takes, phoning []User) {
	for _, h := range hosts {
		if s.takesVisitor(&h, phone) {
			takes = append(takes, h)
		} else {
			phoning = append(phoning, h)
		}
	}
	return takes, phoning
}

// pickHostFor is pickHost for a visitor's request among the hosts who can
// take them. When only hosts who phone are free at that time, the number
// is required: a ValidationError on "phone".
func (s *Store) pickHostFor(tx *gorm.DB, hosts []User, req BookingRequest, bs BookingSettings) (*User, error) {
	now := s.Now()
	takes, phoning := s.hostsTaking(hosts, req.Phone)
	host, err := s.pickHost(tx, takes, req.Start, bs, now, 0)
	if !errors.Is(err, ErrSlotTaken) || len(phoning) == 0 {
		return host, err
	}
	if _, err := s.pickHost(tx, phoning, req.Start, bs, now, 0); err != nil {
		return nil, err
	}
	return nil, PhoneRequired()
}

// PhoneNeeded reports whether a visitor who leaves no phone number cannot
// be booked at all: every enabled host that routedHosts (a route's host
// emails; none: every host) may give them phones. The booking form asks for
// the number up front then, with its other problems.
func (s *Store) PhoneNeeded(ctx context.Context, routedHosts []string) (bool, error) {
	var hosts []User
	if err := s.read.WithContext(ctx).Where("host = ? AND disabled = ?", true, false).Order("id").Find(&hosts).Error; err != nil {
		return false, err
	}
	hosts = routeHosts(hosts, normalizeEmails(routedHosts), func(u *User) string { return u.Email })
	takes, _ := s.hostsTaking(hosts, "")
	return len(hosts) > 0 && len(takes) == 0, nil
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
