package handlers

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/callbook/callbook/models"
)

// discoverInput is the body of POST /api/v1/admin/hosts/{id}/calendars/discover.
type discoverInput struct {
	URL      string `json:"url"`
	Username string `json:"username"`
	Password string `json:"password"`
}

// discover lists the calendars of the CalDAV account at in's address, for
// host hostID (ErrNotFound when it is not a host).
func (s *Server) discover(c *gin.Context, hostID uint, in models.CalendarSourceInput) ([]models.FoundCalendar, error) {
	if _, err := s.store.HostCalendars(c.Request.Context(), hostID); err != nil {
		return nil, err
	}
	if strings.TrimSpace(in.URL) == "" {
		return nil, models.Invalid("url", "is required: the CalDAV server's or the account's address")
	}
	if s.calendars == nil {
		return nil, models.Invalid("url", "this server does not read calendars")
	}
	rctx, cancel := context.WithTimeout(c.Request.Context(), calendarSyncWait)
	defer cancel()
	return s.calendars.Discover(rctx, in)
}

// apiDiscoverCalendars lists the calendars a CalDAV account holds, given
// the server's or the account's address and its credentials, for an
// admin to choose the one to add
// (POST /api/v1/admin/hosts/{id}/calendars/discover, admin).
func (s *Server) apiDiscoverCalendars(c *gin.Context) {
	id, err := pathID(c, "id")
	if err != nil {
		s.fail(c, err)
		return
	}
	var in discoverInput
	if _, err := readJSON(c, &in); err != nil {
		s.fail(c, err)
		return
	}
	found, err := s.discover(c, id, models.CalendarSourceInput{Kind: models.CalendarCalDAV, URL: in.URL,
		Username: strings.TrimSpace(in.Username), Password: in.Password})
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"calendars": found})
}

// adminDiscoverCalendars is the staff page's "Find calendars": it lists the
// account's calendars on the availability page for the admin to pick one
// (POST /admin/hosts/{id}/calendars/discover, admin). It works as a plain
// form post; a problem comes back beside its field (422).
func (s *Server) adminDiscoverCalendars(c *gin.Context) {
	id, err := pathID(c, "id")
	if err != nil {
		s.fail(c, err)
		return
	}
	form := models.CalendarSourceInput{Kind: models.CalendarCalDAV, URL: strings.TrimSpace(c.PostForm("url")),
		Username: strings.TrimSpace(c.PostForm("username")), Password: c.PostForm("password")}
	found, err := s.discover(c, id, form)
	var verr *models.ValidationError
	status := http.StatusOK
	posted := &calendarPanel{Form: form, Found: found}
	switch {
	case errors.As(err, &verr):
		status, posted.Errors, posted.Form.Password = http.StatusUnprocessableEntity, fieldErrors(verr), ""
	case err != nil:
		s.fail(c, err)
		return
	}
	// The list carries the password the admin just typed, so the chosen
	// calendar is added without typing it again: never keep this page.
	c.Header("Cache-Control", "no-store")
	c.Set(ctxCalendarForm, posted)
	c.Request.URL.RawQuery = fmt.Sprintf("host_id=%d", id)
	cfg, err := s.store.Availability(c.Request.Context(), id)
	if err != nil {
		s.fail(c, err)
		return
	}
	s.renderAvailability(c, status, formFromConfig(cfg), false)
}

// fieldErrors keys a ValidationError's messages by their last name part
// ("calendars[0].url" → "url"), as the calendars form names its fields.
func fieldErrors(verr *models.ValidationError) map[string]string {
	errs := map[string]string{}
	for k, msg := range verr.Fields {
		errs[k[strings.LastIndex(k, ".")+1:]] = msg
	}
	return errs
}
