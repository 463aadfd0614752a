package handlers

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/callbook/callbook/models"
	"github.com/callbook/callbook/store"
)

// Calls page windows: how far back calls wait for an outcome, and how many
// days ahead the page shows by default and at most.
const (
	outcomeLookback  = 30 * 24 * time.Hour
	callsDaysDefault = 14
	callsDaysMax     = 62
)

// adminCalls shows the calls (GET /admin/calls?days=): past calls still
// waiting for an outcome first, then the coming days' calls grouped by
// day in the business time zone.
func (s *Server) adminCalls(c *gin.Context) {
	days, err := queryLimit(c.Query("days"), callsDaysDefault, callsDaysMax)
	if err != nil {
		s.fail(c, models.Invalid("days", "must be a whole number from 1 to "+strconv.Itoa(callsDaysMax)))
		return
	}
	now := s.now()
	ctx := c.Request.Context()
	waiting, err := s.store.StaffBookings(ctx, store.BookingFilter{
		Status: models.BookingConfirmed, Begun: true, From: now.Add(-outcomeLookback)})
	if err != nil {
		s.fail(c, err)
		return
	}
	upcoming, err := s.store.StaffBookings(ctx, store.BookingFilter{
		Status: models.BookingConfirmed, Upcoming: true, To: now.AddDate(0, 0, days)})
	if err != nil {
		s.fail(c, err)
		return
	}
	feed, err := s.ownFeedURL(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	hosts, err := s.store.Hosts(ctx)
	if err != nil {
		s.fail(c, err)
		return
	}
	loc := s.store.Location()
	s.render(c, http.StatusOK, "admin/calls.html", gin.H{"Hosts": hosts, "FeedURL": feed, "FeedReplaced": c.Query("feed") != "",
		"Title": "Calls", "Nav": "calls", "Waiting": waiting, "Days": groupByDay(upcoming, loc, &s.zones), "DayCount": days,
		"Now": now, "Back": c.Request.URL.RequestURI(), "Upcoming": len(upcoming),
	})
}

// adminSetOutcome records a call's outcome from a button
// (POST /admin/bookings/:id/outcome) and returns to the page it came from.
func (s *Server) adminSetOutcome(c *gin.Context) {
	id, err := pathID(c, "id")
	if err != nil {
		s.fail(c, err)
		return
	}
	if _, err := s.store.SetOutcome(c.Request.Context(), id, c.PostForm("outcome"), staffUser(c)); err != nil {
		s.fail(c, err)
		return
	}
	back := c.PostForm("back")
	if !strings.HasPrefix(back, "/admin/") || safeNext(back) != back {
		back = "/admin/calls"
	}
	c.Redirect(http.StatusSeeOther, back)
}
