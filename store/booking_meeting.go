package store

import (
	"context"
	"strings"

	"github.com/callbook/callbook/models"
)

// checkMeeting validates a host's meeting place, recording problems under
// "meeting.kind", "meeting.url" and "meeting.address", and returns it
// trimmed, with only the fields its kind uses. An empty kind gives the
// host the default place again.
func checkMeeting(verr *models.ValidationError, m models.Meeting) models.Meeting {
	out := models.Meeting{Kind: strings.TrimSpace(m.Kind)}
	switch out.Kind {
	case "":
	case models.MeetingVideo:
		out.URL = strings.TrimSpace(m.URL)
		if err := models.CheckMeetingURL(out.URL); err != nil {
			verr.Add("meeting.url", err.Error())
		}
	case models.MeetingPhone:
	case models.MeetingInPerson:
		out.Address = models.CheckMultiline(verr, "meeting.address", m.Address, 500)
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
func (s *Store) DefaultMeeting() models.Meeting {
	if s.meetingURL != "" {
		return models.Meeting{Kind: models.MeetingVideo, URL: s.meetingURL}
	}
	return models.Meeting{Kind: models.MeetingPhone}
}

// HostMeeting is the meeting place host u offers: its own, or the default.
func (s *Store) HostMeeting(u *models.User) models.Meeting {
	if u.MeetingKind == "" {
		return s.DefaultMeeting()
	}
	return models.Meeting{Kind: u.MeetingKind, URL: u.MeetingURL, Address: u.MeetingAddress}
}

// BookingMeeting is where booking b happens: the place fixed when it was
// booked (or moved to another host). Calls booked before meeting places
// existed get the default place.
func (s *Store) BookingMeeting(b *models.Booking) models.Meeting {
	if b.MeetingKind == "" {
		return s.DefaultMeeting().ForBooking(b.UID)
	}
	return models.Meeting{Kind: b.MeetingKind, URL: b.MeetingURL, Address: b.MeetingAddress}
}

// setBookingMeeting fixes b's meeting place as host's, for b's uid.
func (s *Store) setBookingMeeting(b *models.Booking, host *models.User) {
	m := s.HostMeeting(host).ForBooking(b.UID)
	b.MeetingKind, b.MeetingURL, b.MeetingAddress = m.Kind, m.URL, m.Address
}

// MeetingKinds lists the kinds of meeting place the enabled hosts offer, in
// the order video, phone, in person; with no enabled host, the default's.
// Public pages promise only these.
func (s *Store) MeetingKinds(ctx context.Context) ([]string, error) {
	var own []string
	err := s.read.WithContext(ctx).Model(&models.User{}).Where("host = ? AND disabled = ?", true, false).
		Distinct("meeting_kind").Pluck("meeting_kind", &own).Error
	if err != nil {
		return nil, err
	}
	if len(own) == 0 {
		own = []string{""}
	}
	var kinds []string
	for _, k := range []string{models.MeetingVideo, models.MeetingPhone, models.MeetingInPerson} {
		for _, o := range own {
			if o == k || (o == "" && s.DefaultMeeting().Kind == k) {
				kinds = append(kinds, k)
				break
			}
		}
	}
	return kinds, nil
}
