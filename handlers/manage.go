package handlers

import (
	"errors"
	"net/http"
	"net/url"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/callbook/callbook/locale"
	"github.com/callbook/callbook/models"
)

// The visitor's reschedule and cancel pages and their JSON API (docs/API.md, Web pages
// and §5). The token in the URL is the only key; every miss is a plain 404.

// changeable reports whether b may still be moved or canceled.
func (s *Server) changeable(b *models.Booking) bool {
	return b.Status == models.BookingConfirmed && b.StartAt.After(s.now())
}

// closedMessage says why b can no longer be changed.
func (s *Server) closedMessage(l *locale.Lang, b *models.Booking) string {
	if b.Status == models.BookingCanceled {
		return l.T("closed_canceled")
	}
	return l.T("closed_past")
}

// openBooking loads the booking of the URL's token for a page. It renders
// the 404 itself, or the "can no longer be changed" page (422) on page, and
// then reports false.
func (s *Server) openBooking(c *gin.Context, page string) (*models.Booking, bool) {
	b, err := s.store.BookingByToken(c.Request.Context(), c.Param("token"))
	if err != nil {
		s.fail(c, err)
		return nil, false
	}
	s.chooseLanguage(c, b.Language)
	if !s.changeable(b) {
		s.showClosed(c, page, b)
		return nil, false
	}
	return b, true
}

// showClosed renders page in its closed state.
func (s *Server) showClosed(c *gin.Context, page string, b *models.Booking) {
	s.render(c, http.StatusUnprocessableEntity, page, gin.H{
		"Title": s.lang(c).T("closed_title"), "Booking": b, "Token": c.Param("token"), "Closed": s.closedMessage(s.lang(c), b),
	})
}

// readForm parses a posted form, rendering 413 or 400 itself when it cannot.
func (s *Server) readForm(c *gin.Context) (url.Values, bool) {
	if err := c.Request.ParseForm(); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			s.fail(c, errTooLarge)
		} else {
			s.fail(c, badRequest("the form could not be read"))
		}
		return nil, false
	}
	return c.Request.PostForm, true
}

// rescheduleForm is what the reschedule page shows besides the booking.
type rescheduleForm struct {
	TZ, Day, Chosen string
	Errors          map[string]string
	Message         string
}

// reschedulePage shows the slot picker for a new time
// (GET /bookings/{token}/reschedule?tz=&date=), in ?tz= or else the
// visitor's zone as booked.
func (s *Server) reschedulePage(c *gin.Context) {
	b, ok := s.openBooking(c, "public/reschedule.html")
	if !ok {
		return
	}
	s.showReschedule(c, http.StatusOK, b, rescheduleForm{TZ: c.Query("tz"), Day: c.Query("date")})
}

// showReschedule renders the reschedule page.
func (s *Server) showReschedule(c *gin.Context, status int, b *models.Booking, f rescheduleForm) {
	loc, ok := s.zones.load(f.TZ)
	if !ok {
		loc, ok = s.zones.load(b.Timezone)
	}
	if !ok {
		loc = s.store.Location()
	}
	picker, err := s.buildPicker(c, loc, f.Day, f.Chosen, b, nil)
	if err != nil {
		s.fail(c, err)
		return
	}
	token := c.Param("token")
	s.render(c, status, "public/reschedule.html", gin.H{
		"Title": s.lang(c).T("reschedule_title"), "Booking": b, "Token": token,
		"Start": b.StartAt.In(loc), "End": b.EndAt.In(loc), "HostName": s.hostName(c.Request.Context(), b.HostID),
		"Picker": picker, "Action": "/bookings/" + token + "/reschedule", "Keep": url.Values{},
		"Errors": f.Errors, "Message": f.Message, "PageScript": "book.js",
	})
}

// rescheduleSubmit moves the call (POST /bookings/{token}/reschedule): 303
// to the booking page on success; the picker again with fresh times when the
// time was taken meanwhile (409) or is not acceptable (422).
func (s *Server) rescheduleSubmit(c *gin.Context) {
	b, ok := s.openBooking(c, "public/reschedule.html")
	if !ok {
		return
	}
	form, ok := s.readForm(c)
	if !ok {
		return
	}
	f := rescheduleForm{TZ: form.Get("timezone"), Chosen: form.Get("start")}
	start, err := time.Parse(time.RFC3339, f.Chosen)
	if err != nil {
		f.Chosen, f.Errors = "", map[string]string{"start": "pick a new time"}
		s.showReschedule(c, http.StatusUnprocessableEntity, b, f)
		return
	}
	token := c.Param("token")
	_, err = s.store.RescheduleBooking(c.Request.Context(), token, start, models.ActorVisitor)
	var ve *models.ValidationError
	switch {
	case err == nil:
		c.Redirect(http.StatusSeeOther, "/bookings/"+token+"?done=rescheduled")
	case errors.Is(err, models.ErrSlotTaken):
		s.countBookingError(err)
		f.Chosen, f.Errors = "", map[string]string{"start": "pick another time"}
		f.Message = s.lang(c).T("slot_taken")
		s.showReschedule(c, http.StatusConflict, b, f)
	case errors.As(err, &ve):
		f.Chosen, f.Errors = "", ve.Fields
		s.showReschedule(c, http.StatusUnprocessableEntity, b, f)
	case errors.Is(err, models.ErrBookingClosed):
		s.showClosedNow(c, "public/reschedule.html")
	default:
		s.fail(c, err)
	}
}

// showClosedNow re-reads the booking another request just closed and says so.
func (s *Server) showClosedNow(c *gin.Context, page string) {
	b, err := s.store.BookingByToken(c.Request.Context(), c.Param("token"))
	if err != nil {
		s.fail(c, err)
		return
	}
	s.chooseLanguage(c, b.Language)
	s.showClosed(c, page, b)
}

// cancelPage asks "Cancel your call on …?" with an optional reason
// (GET /bookings/{token}/cancel).
func (s *Server) cancelPage(c *gin.Context) {
	b, ok := s.openBooking(c, "public/cancel.html")
	if !ok {
		return
	}
	s.showCancel(c, http.StatusOK, b, "", nil)
}

// showCancel renders the cancel page with the reason kept.
func (s *Server) showCancel(c *gin.Context, status int, b *models.Booking, reason string, errs map[string]string) {
	loc, ok := s.zones.load(b.Timezone)
	if !ok {
		loc = s.store.Location()
	}
	s.render(c, status, "public/cancel.html", gin.H{
		"Title": s.lang(c).T("cancel_title"), "Booking": b, "Token": c.Param("token"), "Start": b.StartAt.In(loc),
		"End": b.EndAt.In(loc), "HostName": s.hostName(c.Request.Context(), b.HostID), "Reason": reason, "Errors": errs,
	})
}

// cancelSubmit cancels the call (POST /bookings/{token}/cancel): 303 to the
// booking page; a bad reason shows the form again (422) with the text kept.
func (s *Server) cancelSubmit(c *gin.Context) {
	b, ok := s.openBooking(c, "public/cancel.html")
	if !ok {
		return
	}
	form, ok := s.readForm(c)
	if !ok {
		return
	}
	reason := form.Get("reason")
	token := c.Param("token")
	_, err := s.store.CancelBooking(c.Request.Context(), token, reason, models.ActorVisitor)
	var ve *models.ValidationError
	switch {
	case err == nil:
		c.Redirect(http.StatusSeeOther, "/bookings/"+token+"?done=canceled")
	case errors.As(err, &ve):
		s.showCancel(c, http.StatusUnprocessableEntity, b, reason, ve.Fields)
	case errors.Is(err, models.ErrBookingClosed):
		s.showClosedNow(c, "public/cancel.html")
	default:
		s.fail(c, err)
	}
}

// cancelRequest is the body of POST /api/v1/bookings/{token}/cancel.
type cancelRequest struct {
	Reason string `json:"reason"`
}

// rescheduleRequest is the body of POST /api/v1/bookings/{token}/reschedule.
type rescheduleRequest struct {
	Start string `json:"start"`
}

// apiCancelBooking cancels a call by its visitor token. The body, with its
// reason, may be left out.
func (s *Server) apiCancelBooking(c *gin.Context) {
	var in cancelRequest
	if c.Request.ContentLength != 0 {
		if _, err := readJSON(c, &in); err != nil {
			s.fail(c, err)
			return
		}
	}
	b, err := s.store.CancelBooking(c.Request.Context(), c.Param("token"), in.Reason, models.ActorVisitor)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"booking": s.toBookingJSON(b, s.hostName(c.Request.Context(), b.HostID))})
}

// apiRescheduleBooking moves a call by its visitor token to an offered
// start; the token stays valid.
func (s *Server) apiRescheduleBooking(c *gin.Context) {
	var in rescheduleRequest
	if _, err := readJSON(c, &in); err != nil {
		s.fail(c, err)
		return
	}
	start, err := parseStart(in.Start)
	if err != nil {
		s.fail(c, err)
		return
	}
	res, err := s.store.RescheduleBooking(c.Request.Context(), c.Param("token"), start, models.ActorVisitor)
	if err != nil {
		s.countBookingError(err)
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"booking": s.toBookingJSON(res.Booking, res.Host.Name)})
}

// parseStart reads the new start of a reschedule.
func parseStart(raw string) (time.Time, error) {
	if raw == "" {
		return time.Time{}, models.Invalid("start", "is required")
	}
	t, err := time.Parse(time.RFC3339, raw)
	if err != nil {
		return time.Time{}, models.Invalid("start", "must be an RFC 3339 time such as 2026-12-01T14:00:00Z")
	}
	return t, nil
}
