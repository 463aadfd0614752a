package handlers

import (
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/callbook/callbook/models"
	"github.com/callbook/callbook/store"
)

// apiStaffBookings lists calls between two days with their lead's id
// (GET /api/v1/admin/bookings?from=&to=&status=).
func (s *Server) apiStaffBookings(c *gin.Context) {
	from, to, err := s.bookingRange(c.Query("from"), c.Query("to"))
	if err != nil {
		s.fail(c, err)
		return
	}
	rows, err := s.store.StaffBookings(c.Request.Context(), store.BookingFilter{From: from, To: to, Status: c.Query("status")})
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"bookings": each(rows, s.staffBookingJSON)})
}

// outcomeInput is the body of POST /api/v1/admin/bookings/{id}/outcome.
type outcomeInput struct {
	Outcome string `json:"outcome"`
}

// apiSetOutcome records what happened on a call that has begun.
func (s *Server) apiSetOutcome(c *gin.Context) {
	id, err := pathID(c, "id")
	if err != nil {
		s.fail(c, err)
		return
	}
	var in outcomeInput
	if _, err := readJSON(c, &in); err != nil {
		s.fail(c, err)
		return
	}
	b, err := s.store.SetOutcome(c.Request.Context(), id, in.Outcome, staffUser(c))
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"booking": s.staffBookingJSON(b)})
}

// queryHostID reads ?host_id= (0 when absent: the first host).
func queryHostID(c *gin.Context) (uint, error) {
	v := c.Query("host_id")
	if v == "" {
		return 0, nil
	}
	n, err := strconv.ParseUint(v, 10, 32)
	if err != nil {
		return 0, models.Invalid("host_id", "must be a host's id")
	}
	return uint(n), nil
}

// apiAvailability returns one host's availability and the shared settings
// (GET /api/v1/admin/availability?host_id=).
func (s *Server) apiAvailability(c *gin.Context) {
	hostID, err := queryHostID(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	cfg, err := s.store.Availability(c.Request.Context(), hostID)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, cfg)
}

// availabilityInput is the body of PUT /api/v1/admin/availability: the
// whole configuration of one host, replacing what was there.
type availabilityInput struct {
	HostID           uint                        `json:"host_id"`
	DurationMinutes  int                         `json:"duration_minutes"`
	BufferMinutes    int                         `json:"buffer_minutes"`
	MinNoticeMinutes int                         `json:"min_notice_minutes"`
	HorizonDays      int                         `json:"horizon_days"`
	MaxPerDay        int                         `json:"max_per_day"`
	Weekly           map[string]models.HoursJSON `json:"weekly"`
	Overrides        []models.OverrideJSON       `json:"overrides"`
	Meeting          *models.Meeting             `json:"meeting"`
}

func (in availabilityInput) config() models.AvailabilityConfig {
	return models.AvailabilityConfig{
		HostID: in.HostID, MaxPerDay: in.MaxPerDay, Weekly: in.Weekly, Overrides: in.Overrides, Meeting: in.Meeting,
		BookingSettings: models.BookingSettings{
			DurationMinutes: in.DurationMinutes, BufferMinutes: in.BufferMinutes,
			MinNoticeMinutes: in.MinNoticeMinutes, HorizonDays: in.HorizonDays,
		},
	}
}

// apiSetAvailability replaces one host's availability (PUT, admin);
// ?host_id= wins over the body's host_id.
func (s *Server) apiSetAvailability(c *gin.Context) {
	hostID, err := queryHostID(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	var in availabilityInput
	if _, err := readJSON(c, &in); err != nil {
		s.fail(c, err)
		return
	}
	if hostID != 0 {
		in.HostID = hostID
	}
	cfg, err := s.saveAvailability(c, in.config())
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, cfg)
}

// saveAvailability saves cfg and records who changed it.
func (s *Server) saveAvailability(c *gin.Context, cfg models.AvailabilityConfig) (models.AvailabilityConfig, error) {
	saved, err := s.store.SetAvailability(c.Request.Context(), cfg)
	if err != nil {
		return saved, err
	}
	err = s.store.AddEvent(0, "availability.updated", models.ActorUser(staffUser(c)), map[string]any{"host_id": saved.HostID})
	return saved, err
}

// apiOutbox lists emails and their delivery state, newest first
// (GET /api/v1/admin/outbox?status=, admin).
func (s *Server) apiOutbox(c *gin.Context) {
	limit, err := queryLimit(c.Query("limit"), 100, 500)
	if err != nil {
		s.fail(c, err)
		return
	}
	rows, err := s.store.ListOutbox(c.Request.Context(), c.Query("status"), limit)
	if err != nil {
		s.fail(c, err)
		return
	}
	counts, err := s.store.OutboxCounts(c.Request.Context())
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"emails": each(rows, toOutboxJSON), "counts": counts})
}

// apiUsers lists staff users (GET /api/v1/admin/users, admin).
func (s *Server) apiUsers(c *gin.Context) {
	us, err := s.store.ListUsers(c.Request.Context())
	if err != nil {
		s.fail(c, err)
		return
	}
	out := make([]userJSON, len(us))
	for i, u := range us {
		out[i] = userJSON{ID: u.ID, Email: u.Email, Name: u.Name, Role: u.Role, Host: u.Host, Disabled: u.Disabled}
	}
	c.JSON(http.StatusOK, gin.H{"users": out})
}
