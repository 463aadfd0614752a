package handlers

import (
	"context"
	"errors"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/callbook/callbook/models"
)

// requirePhone adds a "phone" problem to err when the visitor left no
// number and every host phones its visitors, so the form shows it with
// the other problems at once. The store checks again for the host it
// picks.
func (s *Server) requirePhone(ctx context.Context, phone string, err error) error {
	var ve *models.ValidationError
	if strings.TrimSpace(phone) != "" || (err != nil && !errors.As(err, &ve)) {
		return err
	}
	kinds, kerr := s.store.MeetingKinds(ctx)
	if kerr != nil || !models.PhoneOnly(kinds) {
		return err
	}
	if ve == nil {
		ve = &models.ValidationError{}
	}
	ve.Add("phone", models.PhoneRequired().Fields["phone"])
	return ve
}

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
