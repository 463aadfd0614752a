package handlers

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/callbook/callbook/models"
)

// bookingJSON is the contract's Booking object.
type bookingJSON struct {
	ID          uint           `json:"id"`
	Status      string         `json:"status"`
	Start       string         `json:"start"`
	End         string         `json:"end"`
	Timezone    string         `json:"timezone"`
	TargetTitle string         `json:"target_title"`
	RoleSlug    string         `json:"role_slug"`
	Host        hostJSON       `json:"host"`
	Meeting     models.Meeting `json:"meeting"`
	ManageURL   string         `json:"manage_url"`
	ICSURL      string         `json:"ics_url"`
	CreatedAt   string         `json:"created_at"`
	// Language is the visitor's language, which every email about the
	// call is written in.
	Language string `json:"language"`
	LeadID   *uint  `json:"lead_id,omitempty"`
}

type hostJSON struct {
	Name string `json:"name"`
}

// toBookingJSON presents b with times in the visitor's zone.
func (s *Server) toBookingJSON(b *models.Booking, hostName string) bookingJSON {
	return s.bookingJSONWithToken(b, hostName, s.store.BookingToken(b.UID))
}

// bookingJSONWithToken is toBookingJSON where the visitor token is at hand.
func (s *Server) bookingJSONWithToken(b *models.Booking, hostName, token string) bookingJSON {
	loc, ok := s.zones.load(b.Timezone)
	if !ok {
		loc = time.UTC
	}
	return bookingJSON{
		ID: b.ID, Status: b.Status, Start: b.StartAt.In(loc).Format(time.RFC3339), End: b.EndAt.In(loc).Format(time.RFC3339),
		Timezone: b.Timezone, TargetTitle: b.TargetTitle, RoleSlug: b.RoleSlug, Host: hostJSON{hostName},
		Meeting:   s.store.BookingMeeting(b),
		ManageURL: s.absURL("/bookings/" + token), ICSURL: s.absURL("/bookings/" + token + "/invite.ics"),
		CreatedAt: b.CreatedAt.UTC().Format(time.RFC3339), Language: b.Language,
	}
}

// readJSON decodes one JSON object from the (size-limited) body into dst.
func readJSON(c *gin.Context, dst any) ([]byte, error) {
	body, err := io.ReadAll(c.Request.Body)
	if err != nil {
		return nil, bodyReadError(err)
	}
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) == 0 || trimmed[0] != '{' {
		return nil, errBadJSON
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(dst); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			return nil, err
		}
		return nil, badRequest("malformed JSON: " + err.Error())
	}
	if dec.More() {
		return nil, errBadJSON
	}
	return body, nil
}

// apiCreateBooking books a call (POST /api/v1/bookings). With an
// Idempotency-Key, a repeat of the same body within 24 hours replays the
// first answer and books nothing.
func (s *Server) apiCreateBooking(c *gin.Context) {
	var in bookingInput
	body, err := readJSON(c, &in)
	if err != nil {
		s.fail(c, err)
		return
	}
	in.Language = s.apiLanguage(c, in.Language)
	req, err := s.bookingRequest(c.Request.Context(), in)
	key, kerr := idempotencyKey(c.GetHeader("Idempotency-Key"))
	if kerr != nil {
		err = withProblem(err, "Idempotency-Key", kerr.Error())
	}
	if err != nil {
		s.fail(c, err)
		return
	}
	if req.Disqualified != nil {
		s.disqualify(c, req)
		return
	}
	var idem *models.Idempotency
	if key != "" {
		sum := sha256.Sum256(canonicalJSON(body))
		idem = &models.Idempotency{Key: "api:" + key, BodyHash: hex.EncodeToString(sum[:]),
			Render: func(b *models.Booking, l *models.Lead, h *models.User) (int, string, error) {
				out, err := json.Marshal(s.createdJSON(b, l, h.Name, s.store.BookingToken(b.UID)))
				return http.StatusCreated, string(out), err
			}}
	}
	res, err := s.store.BookSlot(c.Request.Context(), req, idem)
	var rp *models.Replay
	switch {
	case errors.As(err, &rp):
		c.Data(rp.Status, "application/json; charset=utf-8", []byte(rp.Body))
		return
	case err != nil:
		s.countBookingError(err)
		s.fail(c, err)
		return
	}
	s.metrics.bookingsCreated.Inc()
	c.JSON(http.StatusCreated, s.createdJSON(res.Booking, res.Lead, res.Host.Name, res.Token))
}

// createdJSON is the 201 body of a new booking.
func (s *Server) createdJSON(b *models.Booking, l *models.Lead, hostName, token string) createdBody {
	return createdBody{Booking: s.bookingJSONWithToken(b, hostName, token), Lead: leadRef{ID: l.ID}}
}

type createdBody struct {
	Booking bookingJSON `json:"booking"`
	Lead    leadRef     `json:"lead"`
}

type leadRef struct {
	ID uint `json:"id"`
}

// hostName looks one host's name up, where the host row is not at hand.
// A failed lookup shows no name rather than failing the page.
func (s *Server) hostName(ctx context.Context, id uint) string {
	name, err := s.store.HostName(ctx, id)
	if err != nil {
		s.log.Warn("host name lookup", "host_id", id, "err", err)
	}
	return name
}

func (s *Server) countBookingError(err error) {
	if errors.Is(err, models.ErrSlotTaken) {
		s.metrics.bookingConflicts.Inc()
	}
}

// apiBooking returns one booking by its visitor token.
func (s *Server) apiBooking(c *gin.Context) {
	b, err := s.store.BookingByToken(c.Request.Context(), c.Param("token"))
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"booking": s.toBookingJSON(b, s.hostName(c.Request.Context(), b.HostID))})
}

// apiSlots lists offered slots between two calendar days in a zone
// (GET /api/v1/slots?from=&to=&tz=).
func (s *Server) apiSlots(c *gin.Context) {
	loc, from, to, err := s.slotRange(c.Query("from"), c.Query("to"), c.Query("tz"))
	if err != nil {
		s.fail(c, err)
		return
	}
	hosts, err := s.slotRoute(c.Query("role_slug"), c.Request.URL.Query())
	var ne notEligible
	if errors.As(err, &ne) {
		s.notEligibleJSON(c, ne.Disqualification)
		return
	} else if err != nil {
		s.fail(c, err)
		return
	}
	slots, bs, err := s.store.RoutedSlots(c.Request.Context(), from, to, hosts)
	if err != nil {
		s.fail(c, err)
		return
	}
	type slotJSON struct {
		Start string `json:"start"`
		End   string `json:"end"`
	}
	out := make([]slotJSON, len(slots))
	for i, sl := range slots {
		out[i] = slotJSON{sl.Start.In(loc).Format(time.RFC3339), sl.End.In(loc).Format(time.RFC3339)}
	}
	c.JSON(http.StatusOK, gin.H{"timezone": loc.String(), "duration_minutes": bs.DurationMinutes, "slots": out})
}

// maxSlotDays is the widest slot query, in days (docs/openapi.yaml).
const maxSlotDays = 62

// slotRange turns from/to calendar days in tz into [from 00:00, to+1 00:00).
// Missing dates default to today and the 30 days after it.
func (s *Server) slotRange(fromS, toS, tz string) (*time.Location, time.Time, time.Time, error) {
	v := &models.ValidationError{}
	if tz == "" {
		tz = "UTC"
	}
	loc, ok := s.zones.load(tz)
	if !ok {
		v.Add("tz", "must be an IANA time zone such as Europe/Berlin")
		return nil, time.Time{}, time.Time{}, v
	}
	today := s.now().In(loc)
	from := time.Date(today.Year(), today.Month(), today.Day(), 0, 0, 0, 0, loc)
	if fromS != "" {
		d, err := time.ParseInLocation(time.DateOnly, fromS, loc)
		if err != nil {
			v.Add("from", "must be a date as YYYY-MM-DD")
		}
		from = d
	}
	to := from.AddDate(0, 0, 30)
	if toS != "" {
		d, err := time.ParseInLocation(time.DateOnly, toS, loc)
		if err != nil {
			v.Add("to", "must be a date as YYYY-MM-DD")
		}
		to = d
	}
	if err := v.Err(); err != nil {
		return nil, time.Time{}, time.Time{}, err
	}
	switch days := int(to.Sub(from).Hours() / 24); {
	case to.Before(from):
		v.Add("to", "must not be before from")
	case days > maxSlotDays:
		v.Add("to", "must be at most 62 days after from")
	}
	return loc, from, to.AddDate(0, 0, 1), v.Err()
}
