package handlers

import (
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/callbook/callbook/models"
)

// callHow says how calls happen, from what the enabled hosts offer: "by
// video", "by phone", "in person", or a choice of them.
func callHow(kinds []string) string {
	words := map[string]string{models.MeetingVideo: "video", models.MeetingPhone: "phone", models.MeetingInPerson: "in person"}
	var ws []string
	for _, k := range kinds {
		ws = append(ws, words[k])
	}
	switch len(ws) {
	case 0:
		return "by phone"
	case 1:
		if ws[0] == "in person" {
			return ws[0]
		}
		return "by " + ws[0]
	}
	last := ws[len(ws)-1]
	text := strings.Join(ws[:len(ws)-1], ", ") + " or " + last
	if ws[0] == "in person" {
		return text
	}
	return "by " + text
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
	data["CallHow"] = callHow(kinds)
	data["PhoneRequired"] = models.PhoneOnly(kinds)
}

// phoneHint says why the booking form asks for a phone number, when it
// matters: always for calls by phone, sometimes when some hosts phone.
func phoneHint(how string, required bool) string {
	switch {
	case required:
		return "Your coach calls you on this number."
	case strings.Contains(how, "phone"):
		return "Needed when your coach is to call you by phone."
	}
	return ""
}
