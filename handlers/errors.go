package handlers

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/callbook/callbook/models"
	"github.com/callbook/callbook/store"
)

// apiError is an error with the API's code and status (docs/openapi.yaml).
type apiError struct {
	Status  int
	Code    string
	Message string
	Fields  map[string]string
}

func (e *apiError) Error() string { return e.Message }

// Errors the handlers raise themselves.
var (
	errUnauthorized    = &apiError{http.StatusUnauthorized, "unauthorized", "sign in or send a valid API token", nil}
	errForbidden       = &apiError{http.StatusForbidden, "forbidden", "your role does not allow this", nil}
	errTooLarge        = &apiError{http.StatusRequestEntityTooLarge, "payload_too_large", "request body is larger than 64 KiB", nil}
	errRateLimited     = &apiError{http.StatusTooManyRequests, "rate_limited", "too many requests from your address; try again shortly", nil}
	errRouteNotFound   = &apiError{http.StatusNotFound, "not_found", "no such page", nil}
	errCrossOrigin     = &apiError{http.StatusForbidden, "forbidden", "cross-site request refused", nil}
	errInternalDefault = &apiError{http.StatusInternalServerError, "internal", "something went wrong on our side; please try again", nil}
	errUnavailable     = &apiError{http.StatusServiceUnavailable, "unavailable", "the service is briefly unavailable; please try again in a few seconds", nil}
)

func badRequest(msg string) *apiError {
	return &apiError{http.StatusBadRequest, "bad_request", msg, nil}
}

// classify maps any error to the contract's status and code. Only the 5xx
// case hides the error's text.
func classify(err error) *apiError {
	var ae *apiError
	var ve *models.ValidationError
	var mbe *http.MaxBytesError
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &ae):
		return ae
	case errors.As(err, &ve):
		return &apiError{http.StatusUnprocessableEntity, "validation_failed", "some fields need attention", ve.Fields}
	case errors.As(err, &mbe):
		return errTooLarge
	case errors.Is(err, errBodyCutShort):
		return badRequest(errBodyCutShort.Error())
	case errors.Is(err, models.ErrNotFound):
		return &apiError{http.StatusNotFound, "not_found", "not found", nil}
	case errors.Is(err, models.ErrSlotTaken):
		return &apiError{http.StatusConflict, "slot_unavailable", models.ErrSlotTaken.Error() + "; please pick another time", nil}
	case errors.Is(err, models.ErrIdempotencyConflict):
		return &apiError{http.StatusConflict, "idempotency_conflict", models.ErrIdempotencyConflict.Error(), nil}
	case errors.Is(err, models.ErrBookingClosed):
		return &apiError{http.StatusUnprocessableEntity, "validation_failed", models.ErrBookingClosed.Error(),
			map[string]string{"booking": "was canceled, or the call has begun or ended"}}
	case errors.Is(err, models.ErrNotEligible):
		return &apiError{http.StatusUnprocessableEntity, "not_eligible", models.ErrNotEligible.Error(), nil}
	case errors.As(err, &se):
		return badRequest("malformed JSON at byte " + strconv.FormatInt(se.Offset, 10))
	case errors.As(err, &te):
		return badRequest("field " + te.Field + " must be " + te.Type.String())
	case errors.Is(err, errBadJSON):
		return badRequest(err.Error())
	case store.IsUnavailable(err):
		return errUnavailable
	}
	return errInternalDefault
}

var errBadJSON = errors.New("request body must be one JSON object")

// fail renders err: JSON under /api/, the HTML error page elsewhere. It
// logs only server errors.
func (s *Server) fail(c *gin.Context, err error) {
	ae := classify(err)
	switch {
	case ae == errUnavailable:
		// The database is restarting or unreachable: one line per request
		// at warning level, and a hint to come back, not a server fault.
		s.log.Warn("database unavailable", "method", c.Request.Method, "path", c.FullPath(), "err", err)
		c.Header("Retry-After", "5")
	case ae.Status >= 500:
		s.log.Error("request failed", "method", c.Request.Method, "path", c.FullPath(), "err", err)
	case errors.Is(err, errBodyCutShort):
		s.log.Debug("request body cut short", "method", c.Request.Method, "path", c.FullPath(), "err", err)
	case ae == errRateLimited:
		c.Header("Retry-After", c.GetString("retry_after"))
	}
	if isAPI(c) {
		body := gin.H{"code": ae.Code, "message": ae.Message}
		if len(ae.Fields) > 0 {
			body["fields"] = ae.Fields
		}
		c.AbortWithStatusJSON(ae.Status, gin.H{"error": body})
		return
	}
	c.Abort()
	page, data := errorPage(c, ae)
	if page == "public/error.html" {
		s.localErrorPage(c, ae, data)
	}
	s.render(c, ae.Status, page, data)
}

// errorPage chooses the HTML error page: staff signed in to the staff area
// stay in its layout; a visitor whose booking link leads nowhere is told
// what to do about it.
func errorPage(c *gin.Context, ae *apiError) (string, gin.H) {
	data := gin.H{"Title": http.StatusText(ae.Status), "Status": ae.Status, "Message": ae.Message}
	p := c.Request.URL.Path
	if _, staff := c.Get(ctxUser); staff && (p == "/admin" || strings.HasPrefix(p, "/admin/")) {
		if ae.Status == http.StatusForbidden {
			data["Title"], data["Message"] = "Admins only", "This page is for admins. Ask an admin if you need something from it."
		}
		return "admin/error.html", data
	}
	if ae.Status == http.StatusNotFound && strings.HasPrefix(p, "/bookings/") {
		data["Title"] = "We can't find this booking"
		data["Message"] = "The link may be mistyped or cut short. Open it again from your confirmation email, " +
			"copying the whole address, or book a new call from one of the guides below."
	}
	return "public/error.html", data
}

// localErrorPage words a visitor's error page in their language. English
// keeps the error's own message; the other languages say what the status
// means, since the message is the API's English.
func (s *Server) localErrorPage(c *gin.Context, ae *apiError, data gin.H) {
	l := s.lang(c)
	if l.Code == "en" {
		return
	}
	status := ae.Status
	switch status {
	case http.StatusBadRequest, http.StatusNotFound, http.StatusRequestEntityTooLarge, http.StatusTooManyRequests:
	default:
		if status < 500 {
			status = http.StatusBadRequest
		} else {
			status = http.StatusInternalServerError
		}
	}
	data["Title"] = l.T(fmt.Sprintf("status_%d", status))
	data["Message"] = l.T(fmt.Sprintf("status_%d_message", status))
	if ae.Status == http.StatusNotFound && strings.HasPrefix(c.Request.URL.Path, "/bookings/") {
		data["Title"], data["Message"] = l.T("booking_not_found"), l.T("booking_not_found_message")
	}
}

func isAPI(c *gin.Context) bool { return strings.HasPrefix(c.Request.URL.Path, "/api/") }
