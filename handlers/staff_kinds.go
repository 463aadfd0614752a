package handlers

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/callbook/callbook/models"
)

// hostInput is the body of POST /api/v1/admin/bookings/{id}/host.
type hostInput struct {
	HostID uint `json:"host_id"`
}

// apiReassignBooking gives a call to another host at the same time
// (POST /api/v1/admin/bookings/{id}/host): 409 slot_unavailable when that
// host is not free then.
func (s *Server) apiReassignBooking(c *gin.Context) {
	id, err := pathID(c, "id")
	if err != nil {
		s.fail(c, err)
		return
	}
	var in hostInput
	if _, err := readJSON(c, &in); err != nil {
		s.fail(c, err)
		return
	}
	res, err := s.store.ReassignBooking(c.Request.Context(), id, in.HostID, staffUser(c))
	if err != nil {
		s.fail(c, err)
		return
	}
	out := s.toBookingJSON(res.Booking, res.Host.Name)
	lid := res.Booking.LeadID
	out.LeadID = &lid
	c.JSON(http.StatusOK, gin.H{"booking": out})
}

// adminReassignBooking is the staff calls page's "Give to" control
// (POST /admin/bookings/{id}/host); it returns to the page it came from.
func (s *Server) adminReassignBooking(c *gin.Context) {
	id, err := pathID(c, "id")
	if err != nil {
		s.fail(c, err)
		return
	}
	host, err := strconv.ParseUint(c.PostForm("host_id"), 10, 32)
	if err != nil {
		s.fail(c, models.Invalid("host_id", "choose a host"))
		return
	}
	if _, err := s.store.ReassignBooking(c.Request.Context(), id, uint(host), staffUser(c)); err != nil {
		s.fail(c, err)
		return
	}
	back := c.PostForm("back")
	if !strings.HasPrefix(back, "/admin/") || safeNext(back) != back {
		back = "/admin/calls"
	}
	c.Redirect(http.StatusSeeOther, back)
}

// linkInput is the body of POST /api/v1/admin/links.
type linkInput struct {
	RoleSlug  string `json:"role_slug"`
	Call      string `json:"call"`
	LeadID    *uint  `json:"lead_id"`
	Uses      *int   `json:"uses"`
	ExpiresAt string `json:"expires_at"`
}

// linkJSON is a private booking link in the API.
type linkJSON struct {
	ID        uint   `json:"id"`
	URL       string `json:"url,omitempty"`
	RoleSlug  string `json:"role_slug"`
	Call      string `json:"call"`
	LeadID    *uint  `json:"lead_id"`
	UsesLeft  int    `json:"uses_left"`
	ExpiresAt string `json:"expires_at"`
	CreatedAt string `json:"created_at"`
}

func toLinkJSON(l *models.BookingLink, url string) linkJSON {
	return linkJSON{ID: l.ID, URL: url, RoleSlug: l.RoleSlug, Call: l.CallID, LeadID: l.LeadID, UsesLeft: l.UsesLeft,
		ExpiresAt: l.ExpiresAt.UTC().Format(time.RFC3339), CreatedAt: l.CreatedAt.UTC().Format(time.RFC3339)}
}

// linkSpec checks a new link's request: a role and one of its kinds
// (public or not), 1–100 uses, an expiry in the future within a year.
func (s *Server) linkSpec(in linkInput, by uint) (models.LinkSpec, error) {
	v := &models.ValidationError{}
	role := s.content.Role(in.RoleSlug)
	if role == nil {
		v.Add("role_slug", "no such role page")
	}
	spec := models.LinkSpec{RoleSlug: in.RoleSlug, LeadID: in.LeadID, Uses: 1, CreatedBy: by}
	if k, ok := role.Call(strings.TrimSpace(in.Call), true); role != nil && !ok {
		v.Add("call", "not a kind of call this role offers")
	} else if ok {
		spec.CallID = k.ID
	}
	if in.Uses != nil {
		spec.Uses = *in.Uses
		if spec.Uses < 1 || spec.Uses > 100 {
			v.Add("uses", "must be from 1 to 100")
		}
	}
	now := s.now()
	spec.ExpiresAt = now.Add(models.DefaultLinkLife)
	if in.ExpiresAt != "" {
		t, err := time.Parse(time.RFC3339, in.ExpiresAt)
		switch {
		case err != nil:
			v.Add("expires_at", "must be an RFC 3339 time")
		case !t.After(now) || t.After(now.AddDate(1, 0, 0)):
			v.Add("expires_at", "must be in the future, within a year")
		default:
			spec.ExpiresAt = t
		}
	}
	if in.LeadID != nil {
		if _, err := s.store.LeadByID(context.Background(), *in.LeadID); err != nil {
			v.Add("lead_id", "no such lead")
		}
	}
	return spec, v.Err()
}

// linkURL is a private link's address.
func (s *Server) linkURL(token string) string { return s.absURL("/l/" + token) }

// apiCreateLink makes a private booking link (POST /api/v1/admin/links).
func (s *Server) apiCreateLink(c *gin.Context) {
	var in linkInput
	if _, err := readJSON(c, &in); err != nil {
		s.fail(c, err)
		return
	}
	spec, err := s.linkSpec(in, staffID(c))
	if err != nil {
		s.fail(c, err)
		return
	}
	l, token, err := s.store.NewBookingLink(c.Request.Context(), spec)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusCreated, gin.H{"link": toLinkJSON(l, s.linkURL(token))})
}

// apiLinks lists private links (GET /api/v1/admin/links?lead_id=).
func (s *Server) apiLinks(c *gin.Context) {
	var lead *uint
	if v := c.Query("lead_id"); v != "" {
		n, err := strconv.ParseUint(v, 10, 32)
		if err != nil {
			s.fail(c, models.Invalid("lead_id", "must be a lead's id"))
			return
		}
		id := uint(n)
		lead = &id
	}
	ls, err := s.store.BookingLinks(c.Request.Context(), lead)
	if err != nil {
		s.fail(c, err)
		return
	}
	out := make([]linkJSON, len(ls))
	for i := range ls {
		out[i] = toLinkJSON(&ls[i], "")
	}
	c.JSON(http.StatusOK, gin.H{"links": out})
}

// apiDeleteLink withdraws a private link (DELETE /api/v1/admin/links/{id}).
func (s *Server) apiDeleteLink(c *gin.Context) {
	id, err := pathID(c, "id")
	if err != nil {
		s.fail(c, err)
		return
	}
	if err := s.store.DeleteBookingLink(c.Request.Context(), id); err != nil {
		s.fail(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

// adminSendLink is the lead page's "Send a booking link" control
// (POST /admin/leads/{id}/links): a one-use link to the chosen kind of
// call, filled in with the lead's details, shown on the lead page to
// send.
func (s *Server) adminSendLink(c *gin.Context) {
	id, err := pathID(c, "id")
	if err != nil {
		s.fail(c, err)
		return
	}
	lead, err := s.store.LeadByID(c.Request.Context(), id)
	if err != nil {
		s.fail(c, err)
		return
	}
	slug := lead.RoleSlug
	if s.content.Role(slug) == nil && len(s.content.Roles()) > 0 {
		slug = s.content.Roles()[0].Slug
	}
	spec, err := s.linkSpec(linkInput{RoleSlug: slug, Call: c.PostForm("call"), LeadID: &id}, staffID(c))
	if err != nil {
		s.fail(c, err)
		return
	}
	if c.PostForm("email") != "yes" || lead.Email == "" || lead.ErasedAt != nil {
		_, token, err := s.store.NewBookingLink(c.Request.Context(), spec)
		if err != nil {
			s.fail(c, err)
			return
		}
		s.renderLeadWith(c, gin.H{"NewLink": s.linkURL(token)})
		return
	}
	// The email names the call as the lead's language version of the page does.
	title := ""
	if role := s.content.RoleIn(slug, lead.Language); role != nil {
		if k, ok := role.Call(spec.CallID, true); ok && !k.IsDiscovery() {
			title = k.Title
		}
	}
	token, err := s.store.SendBookingLink(c.Request.Context(), spec, models.MailData{
		LeadID: lead.ID, Name: lead.Name, Email: lead.Email, Language: lead.Language, RoleSlug: slug,
		CallID: spec.CallID, CallTitle: title, HostName: staffUser(c).Name,
	})
	if err != nil {
		s.fail(c, err)
		return
	}
	s.renderLeadWith(c, gin.H{"NewLink": s.linkURL(token), "LinkEmailed": lead.Email})
}

// staffID is the signed-in staff user's id, 0 for none.
func staffID(c *gin.Context) uint {
	if u := staffUser(c); u != nil {
		return u.ID
	}
	return 0
}

// linkCalls are the kinds of call a booking link for a lead of roleSlug
// may offer: every kind of the role, public or not.
func (s *Server) linkCalls(roleSlug string) []models.CallKind {
	role := s.content.Role(roleSlug)
	if role == nil && len(s.content.Roles()) > 0 {
		role = s.content.Roles()[0]
	}
	if role == nil || len(role.Calls) == 0 {
		return []models.CallKind{discoveryKind}
	}
	return role.Calls
}
