package handlers

import (
	"slices"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/callbook/callbook/locale"
	"github.com/callbook/callbook/models"
)

// callHow says how calls happen, from what the enabled hosts offer: "by
// video", "by phone", "in person", or a choice of them ("by video or
// phone"), in the visitor's language.
func callHow(l *locale.Lang, kinds []string) string {
	words := map[string]string{models.MeetingVideo: l.T("how_video"), models.MeetingPhone: l.T("how_phone"),
		models.MeetingInPerson: l.T("how_in_person")}
	var ws []string
	for _, k := range kinds {
		ws = append(ws, words[k])
	}
	by := func(s string) string { return l.T("how_by", "Means", s) }
	switch len(ws) {
	case 0:
		return by(words[models.MeetingPhone])
	case 1:
		if kinds[0] == models.MeetingInPerson {
			return ws[0]
		}
		return by(ws[0])
	}
	last := ws[len(ws)-1]
	text := l.T("how_choice", "List", strings.Join(ws[:len(ws)-1], ", "), "Last", last)
	if kinds[0] == models.MeetingInPerson {
		return text
	}
	return by(text)
}

// addMeetingData gives public pages how calls happen and, on a booking's
// pages, where this call happens.
func (s *Server) addMeetingData(c *gin.Context, data gin.H) {
	if b, ok := data["Booking"].(*models.Booking); ok && b != nil {
		data["Meeting"] = s.store.BookingMeeting(b)
	}
	kinds, err := s.store.MeetingKinds(c.Request.Context())
	if err != nil {
		s.log.Warn("meeting kinds", "err", err)
	}
	l := s.lang(c)
	data["CallHow"] = callHow(l, kinds)
	data["PhoneRequired"] = models.PhoneOnly(kinds)
	data["PhoneHint"] = phoneHint(l, kinds, models.PhoneOnly(kinds))
}

// phoneHint says why the booking form asks for a phone number, when it
// matters: always for calls by phone, sometimes when some hosts phone.
func phoneHint(l *locale.Lang, kinds []string, required bool) string {
	switch {
	case required:
		return l.T("phone_hint_always")
	case slices.Contains(kinds, models.MeetingPhone) || len(kinds) == 0:
		return l.T("phone_hint_sometimes")
	}
	return ""
}
