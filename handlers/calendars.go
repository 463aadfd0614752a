package handlers

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/callbook/callbook/models"
)

// CalendarSync reads a host's own calendars at once, as after an admin
// saves them, holds their addresses to the address rule, and lists a
// CalDAV account's calendars; calendars.Syncer satisfies it.
type CalendarSync interface {
	SyncHost(ctx context.Context, hostID uint) error
	// CheckSource says whether a source may be at rawURL (public
	// addresses only, unless private ones are allowed); its error reads
	// after the field name.
	CheckSource(ctx context.Context, rawURL string) error
	// Discover lists the calendars of the CalDAV account at in.URL; its
	// errors are ValidationErrors on "url".
	Discover(ctx context.Context, in models.CalendarSourceInput) ([]models.FoundCalendar, error)
}

// calendarSyncWait bounds the read on save: a slow source shows its error
// on the next read instead of holding the admin's request.
const calendarSyncWait = 15 * time.Second

// calendarJSON is one source as GET /api/v1/admin/hosts/{id}/calendars
// shows it: never its credentials.
type calendarJSON struct {
	ID             uint    `json:"id"`
	Kind           string  `json:"kind"`
	URL            string  `json:"url"`
	LastSyncedAt   *string `json:"last_synced_at"`
	LastError      *string `json:"last_error"`
	BusyCount      int     `json:"busy_count"`
	HasCredentials bool    `json:"has_credentials"`
}

func toCalendarsJSON(vs []models.CalendarSourceView) []calendarJSON {
	out := make([]calendarJSON, len(vs))
	for i, v := range vs {
		out[i] = calendarJSON{ID: v.ID, Kind: v.Kind, URL: v.URL, LastSyncedAt: optRFC3339(v.LastSyncedAt),
			LastError: v.LastError, BusyCount: v.BusyCount, HasCredentials: v.HasCredentials}
	}
	return out
}

// calendarsInput is the body of PUT /api/v1/admin/hosts/{id}/calendars.
type calendarsInput struct {
	Calendars *[]models.CalendarSourceInput `json:"calendars"`
}

// apiHostCalendars lists a host's calendar sources with their state
// (GET /api/v1/admin/hosts/{id}/calendars, admin).
func (s *Server) apiHostCalendars(c *gin.Context) {
	id, err := pathID(c, "id")
	if err != nil {
		s.fail(c, err)
		return
	}
	list, err := s.store.HostCalendars(c.Request.Context(), id)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"calendars": toCalendarsJSON(list)})
}

// apiSetHostCalendars replaces a host's calendar sources, reads them at
// once and answers with their state after that read
// (PUT /api/v1/admin/hosts/{id}/calendars, admin).
func (s *Server) apiSetHostCalendars(c *gin.Context) {
	id, err := pathID(c, "id")
	if err != nil {
		s.fail(c, err)
		return
	}
	var in calendarsInput
	if _, err := readJSON(c, &in); err != nil {
		s.fail(c, err)
		return
	}
	if in.Calendars == nil {
		s.fail(c, models.Invalid("calendars", "is required (an empty list removes every calendar)"))
		return
	}
	if err := s.saveCalendars(c, id, *in.Calendars); err != nil {
		s.fail(c, err)
		return
	}
	s.apiHostCalendars(c)
}

// saveCalendars stores a host's sources, records who changed them and
// reads them, so their state afterwards shows that read's outcome.
func (s *Server) saveCalendars(c *gin.Context, hostID uint, in []models.CalendarSourceInput) error {
	ctx := c.Request.Context()
	if err := s.checkCalendarAddresses(ctx, hostID, in); err != nil {
		return err
	}
	if _, err := s.store.SetHostCalendars(ctx, hostID, in); err != nil {
		return err
	}
	if err := s.store.AddEvent(0, "calendars.updated", models.ActorUser(staffUser(c)), map[string]any{"host_id": hostID}); err != nil {
		return err
	}
	if s.calendars == nil {
		return nil
	}
	rctx, cancel := context.WithTimeout(ctx, calendarSyncWait)
	defer cancel()
	if err := s.calendars.SyncHost(rctx, hostID); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	return nil
}

// checkCalendarAddresses holds each new source's address to the address
// rule before anything is saved: 422 on calendars[i].url. The form and the
// API send a host's whole list; sources already saved are not looked up
// again (every connection to them is checked when they are read), so one
// whose name fails to resolve for a while cannot block changes to the
// others. Addresses the store will refuse anyway are left to it. Without a
// calendar reader nothing is ever fetched, so nothing is checked.
func (s *Server) checkCalendarAddresses(ctx context.Context, hostID uint, in []models.CalendarSourceInput) error {
	if s.calendars == nil {
		return nil
	}
	saved, err := s.store.HostCalendars(ctx, hostID)
	if err != nil {
		return err
	}
	known := make(map[string]bool, len(saved))
	for _, src := range saved {
		known[src.URL] = true
	}
	verr := &models.ValidationError{}
	for i, src := range in {
		u, err := models.NormalizeCalendarURL(src.URL)
		if err != nil || known[u] {
			continue
		}
		if err := s.calendars.CheckSource(ctx, u); err != nil {
			verr.Add(fmt.Sprintf("calendars[%d].url", i), err.Error())
		}
	}
	return verr.Err()
}

// hostFeed serves a host's private feed of its calls
// (GET /calendars/{token}.ics).
func (s *Server) hostFeed(c *gin.Context) {
	token, ok := strings.CutSuffix(c.Param("token"), ".ics")
	if !ok || s.mail == nil {
		s.fail(c, models.ErrNotFound)
		return
	}
	ctx := c.Request.Context()
	host, err := s.store.HostByFeedToken(ctx, token)
	if err != nil {
		s.fail(c, err)
		return
	}
	calls, err := s.store.HostFeedCalls(ctx, host.ID)
	if err != nil {
		s.fail(c, err)
		return
	}
	body, err := s.mail.HostFeedICS(host, calls)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.Header("Cache-Control", "private, max-age=300")
	c.Header("X-Robots-Tag", "noindex")
	c.Data(http.StatusOK, "text/calendar; charset=utf-8", body)
}

// feedURL is the subscription address for a feed token.
func (s *Server) feedURL(token string) string { return s.absURL("/calendars/" + token + ".ics") }

// calendarPanel is the staff availability page's calendars section: the
// host's sources with their state, the add form, and the host's feed.
type calendarPanel struct {
	HostID  uint
	Sources []models.CalendarSourceView
	FeedURL string
	CSRF    any
	Loc     *time.Location
	// Form is the add form as posted, with its errors, after a failure or
	// a discovery.
	Form   models.CalendarSourceInput
	Errors map[string]string
	Notice string
	// Found lists the calendars "Find calendars" found, to pick from.
	Found []models.FoundCalendar
}

const ctxCalendarForm = "calendar_form"

// hostCalendarPanel builds the calendars section for host hostID.
func (s *Server) hostCalendarPanel(c *gin.Context, hostID uint) (*calendarPanel, error) {
	ctx := c.Request.Context()
	srcs, err := s.store.HostCalendars(ctx, hostID)
	if err != nil {
		return nil, err
	}
	token, err := s.store.HostFeedToken(ctx, hostID)
	if err != nil {
		return nil, err
	}
	p := &calendarPanel{HostID: hostID, Sources: srcs, FeedURL: s.feedURL(token), Loc: s.store.Location(),
		Form: models.CalendarSourceInput{Kind: models.CalendarICS}, Notice: c.Query("calendars")}
	p.CSRF, _ = c.Get(ctxCSRF)
	if v, ok := c.Get(ctxCalendarForm); ok {
		posted := v.(*calendarPanel)
		p.Form, p.Errors, p.Found = posted.Form, posted.Errors, posted.Found
	}
	return p, nil
}

// adminHostCalendars adds or removes one of a host's calendars from the
// staff availability page (POST /admin/hosts/{id}/calendars, admin), then
// reads them and returns to the page; a bad address comes back beside its
// field (422).
func (s *Server) adminHostCalendars(c *gin.Context) {
	id, err := pathID(c, "id")
	if err != nil {
		s.fail(c, err)
		return
	}
	cur, err := s.store.HostCalendars(c.Request.Context(), id)
	if err != nil {
		s.fail(c, err)
		return
	}
	in := make([]models.CalendarSourceInput, 0, len(cur)+1)
	removeID, _ := strconv.ParseUint(c.PostForm("remove"), 10, 32)
	for _, src := range cur {
		if uint64(src.ID) != removeID {
			in = append(in, models.CalendarSourceInput{Kind: src.Kind, URL: src.URL})
		}
	}
	form := models.CalendarSourceInput{Kind: c.PostForm("kind"), URL: strings.TrimSpace(c.PostForm("url")),
		Username: strings.TrimSpace(c.PostForm("username")), Password: c.PostForm("password")}
	notice := "removed"
	if removeID == 0 {
		in, notice = append(in, form), "added"
	}
	err = s.saveCalendars(c, id, in)
	var verr *models.ValidationError
	switch {
	case errors.As(err, &verr):
		form.Password = ""
		c.Set(ctxCalendarForm, &calendarPanel{Form: form, Errors: fieldErrors(verr)})
		c.Request.URL.RawQuery = fmt.Sprintf("host_id=%d", id)
		cfg, err := s.store.Availability(c.Request.Context(), id)
		if err != nil {
			s.fail(c, err)
			return
		}
		s.renderAvailability(c, http.StatusUnprocessableEntity, formFromConfig(cfg), false)
	case err != nil:
		s.fail(c, err)
	default:
		c.Redirect(http.StatusSeeOther, fmt.Sprintf("/admin/availability?host_id=%d&calendars=%s#calendars", id, notice))
	}
}

// adminReplaceFeed gives a host a new feed address; the old one stops
// working (POST /admin/hosts/{id}/feed). Admins may do it for any host, a
// host for itself. It returns to the page it came from.
func (s *Server) adminReplaceFeed(c *gin.Context) {
	id, err := pathID(c, "id")
	if err != nil {
		s.fail(c, err)
		return
	}
	if u := staffUser(c); u.Role != models.RoleAdmin && u.ID != id {
		s.forbidden(c)
		return
	}
	if _, err := s.store.ReplaceHostFeedToken(c.Request.Context(), id); err != nil {
		s.fail(c, err)
		return
	}
	back := "/admin/calls?feed=replaced#feed"
	if c.PostForm("back") == "availability" {
		back = fmt.Sprintf("/admin/availability?host_id=%d&calendars=feed#calendars", id)
	}
	c.Redirect(http.StatusSeeOther, back)
}

// ownFeedURL is the signed-in user's feed address when they take calls,
// for the calls page; empty otherwise.
func (s *Server) ownFeedURL(c *gin.Context) (string, error) {
	u := staffUser(c)
	if u == nil || !u.Host {
		return "", nil
	}
	token, err := s.store.HostFeedToken(c.Request.Context(), u.ID)
	if err != nil {
		return "", err
	}
	return s.feedURL(token), nil
}
