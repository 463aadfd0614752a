package handlers

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/callbook/callbook/models"
)

// Lead list page sizes for the API (docs/openapi.yaml).
const (
	apiLeadLimit    = 50
	apiMaxLeadLimit = 200
)

// apiLeads lists leads newest first, filtered and paged by cursor
// (GET /api/v1/admin/leads).
func (s *Server) apiLeads(c *gin.Context) {
	q := readLeadListQuery(c.Request.URL.Query())
	f, err := q.filter(s.store.Location())
	if err != nil {
		s.fail(c, err)
		return
	}
	servePage(s, c, "leads", apiLeadLimit, apiMaxLeadLimit, func(limit int) ([]models.LeadRow, string, error) {
		return s.store.ListLeads(c.Request.Context(), f, limit, q.Cursor)
	}, toLeadJSON)
}

// servePage answers one page of a keyset-paged list: ?limit= (def when
// absent, at most max), the rows list reads shaped for JSON under key, and
// "next_cursor", null on the last page.
func servePage[R, J any](s *Server, c *gin.Context, key string, def, max int, list func(limit int) ([]R, string, error), shape func(*R) J) {
	limit, err := queryLimit(c.Query("limit"), def, max)
	if err != nil {
		s.fail(c, err)
		return
	}
	rows, next, err := list(limit)
	if err != nil {
		s.fail(c, err)
		return
	}
	var cursor *string
	if next != "" {
		cursor = &next
	}
	c.JSON(http.StatusOK, gin.H{key: each(rows, shape), "next_cursor": cursor})
}

// apiLead returns one lead with its bookings, notes and timeline
// (GET /api/v1/admin/leads/{id}).
func (s *Server) apiLead(c *gin.Context) {
	id, err := pathID(c, "id")
	if err != nil {
		s.fail(c, err)
		return
	}
	d, err := s.store.LeadDetail(c.Request.Context(), id)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"lead": toLeadJSON(&d.Lead), "bookings": each(d.Bookings, s.staffBookingJSON),
		"notes": each(d.Notes, toNoteJSON), "events": each(d.Events, toEventJSON)})
}

// leadPatch is the body of PATCH /api/v1/admin/leads/{id}. OwnerID stays
// raw to tell "absent" (no change) from null (clear the owner).
type leadPatch struct {
	Status           *string         `json:"status"`
	OwnerID          json.RawMessage `json:"owner_id"`
	RecommendedTitle *string         `json:"recommended_title"`
}

// change turns the patch into a LeadChange.
func (p leadPatch) change() (models.LeadChange, error) {
	ch := models.LeadChange{Status: p.Status, RecommendedTitle: p.RecommendedTitle}
	if len(p.OwnerID) == 0 {
		return ch, nil
	}
	ch.SetOwner = true
	if bytes.Equal(bytes.TrimSpace(p.OwnerID), []byte("null")) {
		return ch, nil
	}
	n, err := strconv.ParseUint(string(bytes.TrimSpace(p.OwnerID)), 10, 32)
	if err != nil || n == 0 {
		return ch, badRequest("field owner_id must be a staff user's id or null")
	}
	id := uint(n)
	ch.OwnerID = &id
	return ch, nil
}

// apiUpdateLead changes a lead's status, owner or recommended title
// (PATCH /api/v1/admin/leads/{id}); each change is an event.
func (s *Server) apiUpdateLead(c *gin.Context) {
	id, err := pathID(c, "id")
	if err != nil {
		s.fail(c, err)
		return
	}
	var p leadPatch
	if _, err := readJSON(c, &p); err != nil {
		s.fail(c, err)
		return
	}
	ch, err := p.change()
	if err != nil {
		s.fail(c, err)
		return
	}
	row, err := s.store.UpdateLead(c.Request.Context(), id, ch, staffUser(c))
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"lead": toLeadJSON(row)})
}

// noteInput is the body of POST /api/v1/admin/leads/{id}/notes.
type noteInput struct {
	Body string `json:"body"`
}

// apiAddNote adds a note to a lead (201 {"note": Note}).
func (s *Server) apiAddNote(c *gin.Context) {
	id, err := pathID(c, "id")
	if err != nil {
		s.fail(c, err)
		return
	}
	var in noteInput
	if _, err := readJSON(c, &in); err != nil {
		s.fail(c, err)
		return
	}
	n, err := s.store.AddNote(c.Request.Context(), id, in.Body, staffUser(c))
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusCreated, gin.H{"note": toNoteJSON(n)})
}

// apiEraseLead erases a lead's personal data and cancels their future
// calls (DELETE /api/v1/admin/leads/{id}, admin): 204.
func (s *Server) apiEraseLead(c *gin.Context) {
	id, err := pathID(c, "id")
	if err != nil {
		s.fail(c, err)
		return
	}
	if err := s.store.EraseLead(c.Request.Context(), id, staffUser(c)); err != nil {
		s.fail(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}
