package handlers

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/callbook/callbook/models"
)

// discoveryKind is the one kind of a role without its own: a discovery
// call of the shared length, exactly as before roles had kinds.
var discoveryKind = models.CallKind{ID: models.DiscoveryCallID, Title: models.DiscoveryCallTitle, Mode: models.ModeOneHost}

// PublicCalls lists the kinds the role page and the public API offer, in
// file order; a role without kinds offers the discovery call.
func (r *Role) PublicCalls() []models.CallKind {
	if r == nil || len(r.Calls) == 0 {
		return []models.CallKind{discoveryKind}
	}
	var out []models.CallKind
	for _, k := range r.Calls {
		if k.IsPublic() {
			out = append(out, k)
		}
	}
	return out
}

// ChoosesCall reports whether a visitor picks the kind first: the role
// offers more than one.
func (r *Role) ChoosesCall() bool { return len(r.PublicCalls()) > 1 }

// Call returns the role's kind id, or the first public kind when id is
// empty. Private kinds are found only with private (a link's booking).
// A nil role has the discovery kind only.
func (r *Role) Call(id string, private bool) (*models.CallKind, bool) {
	if r == nil || len(r.Calls) == 0 {
		if id == "" || id == models.DiscoveryCallID {
			k := discoveryKind
			return &k, true
		}
		return nil, false
	}
	if id == "" {
		k := r.PublicCalls()[0]
		return &k, true
	}
	for _, k := range r.Calls {
		if k.ID == id && (k.IsPublic() || private) {
			return &k, true
		}
	}
	return nil, false
}

// CallKind finds a role's kind of call by id, public or not; nil when the
// role or the kind is gone.
func (c *Content) CallKind(roleSlug, callID string) *models.CallKind {
	k, ok := c.Role(roleSlug).Call(callID, true)
	if !ok || k.IsDiscovery() {
		return nil
	}
	return k
}

// kindOf is the kind a request names for role: nil for the discovery call
// of the shared length, or a problem on field "call".
func kindOf(v *models.ValidationError, role *Role, id string, private bool) *models.CallKind {
	k, ok := role.Call(id, private)
	switch {
	case !ok:
		v.Add("call", "not a kind of call this role offers")
		return nil
	case k.IsDiscovery():
		return nil
	}
	return k
}

// callJSON is a kind of call in the Booking JSON.
type callJSON struct {
	ID      string `json:"id"`
	Title   string `json:"title"`
	Minutes int    `json:"minutes"`
}

// bookingCall is the kind of call b was booked as.
func bookingCall(b *models.Booking) callJSON {
	m := int(b.EndAt.Sub(b.StartAt).Minutes())
	if b.CallID == "" {
		return callJSON{models.DiscoveryCallID, models.DiscoveryCallTitle, m}
	}
	return callJSON{b.CallID, b.CallTitle, m}
}

// roleCallJSON is a public kind of call of a role in the API.
type roleCallJSON struct {
	ID          string `json:"id"`
	Title       string `json:"title"`
	Minutes     int    `json:"minutes"`
	Description string `json:"description"`
	Mode        string `json:"mode"`
}

// roleCalls lists role's public kinds; the discovery call has the shared
// length of minutes.
func roleCalls(role *Role, minutes int) []roleCallJSON {
	out := []roleCallJSON{}
	for _, k := range role.PublicCalls() {
		m := k.Minutes
		if m == 0 {
			m = minutes
		}
		out = append(out, roleCallJSON{k.ID, k.Title, m, k.Description, k.Mode})
	}
	return out
}

// slotKind reads the kind of call and the route of a slot query: call
// (with role_slug; default its first public kind) or a private link's
// token, and the answers.
func (s *Server) slotKind(c *gin.Context) (*models.CallKind, []string, error) {
	q := c.Request.URL.Query()
	slug, id, private := c.Query("role_slug"), strings.TrimSpace(c.Query("call")), false
	if tok := c.Query("link"); tok != "" {
		link, err := s.store.OpenBookingLink(c.Request.Context(), tok)
		if err != nil {
			return nil, nil, err
		}
		slug, id, private = link.RoleSlug, link.CallID, true
		q.Set("role_slug", slug)
	}
	hosts, err := s.slotRoute(slug, q)
	if err != nil {
		return nil, nil, err
	}
	v := &models.ValidationError{}
	if slug == "" && id == "" {
		return nil, hosts, nil
	}
	kind := kindOf(v, s.content.Role(slug), id, private)
	return kind, hosts, v.Err()
}

// prefill fills the visitor's details in from a link's query string
// (name, email, phone, current_title, target_title, call): shown for the
// visitor to check, never submitted by itself.
func (in *bookingInput) prefill(q map[string][]string) {
	get := func(k string) string {
		if v := q[k]; len(v) > 0 {
			return strings.TrimSpace(v[0])
		}
		return ""
	}
	in.Name, in.Email, in.Phone, in.CurrentTitle = get("name"), get("email"), get("phone"), get("current_title")
	if t := get("target_title"); t != "" {
		in.TargetTitle = t
	}
	in.Call, in.Link = get("call"), get("link")
}

// chooseCall settles the kind of call of the booking page: through a
// private link, the link's; else the one asked for, when the role offers
// it. A role that offers more than one asks first. It reports whether it
// answered the request itself.
func (s *Server) chooseCall(c *gin.Context, role *Role, in *bookingInput) bool {
	if in.Link != "" {
		return s.openLinkFor(c, role, in)
	}
	// A role with questions asks for the kind with them, on its first step.
	if _, ok := role.Call(in.Call, false); ok && (in.Call != "" || !role.ChoosesCall() || len(role.Questions) > 0) {
		return false
	}
	status := http.StatusOK
	var errs map[string]string
	if in.Call != "" {
		status, errs = http.StatusUnprocessableEntity, map[string]string{"call": "pick one of the calls below"}
	}
	keep := in.keepParams(role)
	keep.Del("call")
	keep.Del("step")
	if in.Timezone != "" {
		keep.Set("tz", in.Timezone)
	}
	s.keepEmbedState(c, keep)
	s.render(c, status, "public/book.html", gin.H{
		"Title": "Book a call — " + role.Title, "Role": role, "In": in, "Step": "kinds", "Calls": role.PublicCalls(),
		"Keep": keep, "Errors": errs, "PageScript": "book.js",
	})
	return true
}

// changeCallQuery is the query string of a link back to the choice of
// call, with everything else kept.
func (in bookingInput) changeCallQuery(role *Role) string {
	keep := in.keepParams(role)
	keep.Del("call")
	keep.Del("step")
	if in.Timezone != "" {
		keep.Set("tz", in.Timezone)
	}
	return keep.Encode()
}

// openLinkFor checks the private link in.Link for role: a used-up,
// expired or withdrawn one answers 410 with a page that says so; a good
// one fixes the kind of call to the link's. It reports whether it
// answered the request itself.
func (s *Server) openLinkFor(c *gin.Context, role *Role, in *bookingInput) bool {
	link, err := s.store.OpenBookingLink(c.Request.Context(), in.Link)
	switch {
	case errors.Is(err, models.ErrLinkUsed):
		s.linkGone(c, role)
		return true
	case err != nil:
		s.fail(c, err)
		return true
	case link.RoleSlug != role.Slug:
		s.fail(c, errRouteNotFound)
		return true
	}
	in.Call, in.private = link.CallID, true
	return false
}

// linkGone is the 410 page of a private link that can book no more.
func (s *Server) linkGone(c *gin.Context, role *Role) {
	if isAPI(c) {
		s.fail(c, models.ErrLinkUsed)
		return
	}
	c.Abort()
	s.render(c, http.StatusGone, "public/link_gone.html", gin.H{"Title": s.lang(c).T("link_gone_title"), "Role": role})
}

// linkPage opens a private booking link (GET /l/{token}): the booking
// page for the link's kind of call, filled in with the lead's details
// when the link was made for a lead.
func (s *Server) linkPage(c *gin.Context) {
	token := c.Param("token")
	link, err := s.store.OpenBookingLink(c.Request.Context(), token)
	role := (*Role)(nil)
	if link != nil {
		role = s.content.Role(link.RoleSlug)
	}
	switch {
	case errors.Is(err, models.ErrLinkUsed):
		s.linkGone(c, role)
		return
	case err != nil:
		s.fail(c, err)
		return
	case role == nil:
		s.linkGone(c, nil)
		return
	}
	q := url.Values{"link": {token}}
	if link.LeadID != nil {
		if l, err := s.store.LeadByID(c.Request.Context(), *link.LeadID); err == nil && l.ErasedAt == nil {
			for k, v := range map[string]string{"name": l.Name, "email": l.Email, "phone": l.Phone,
				"current_title": l.CurrentTitle, "target_title": l.TargetTitle} {
				if v != "" {
					q.Set(k, v)
				}
			}
		}
	}
	c.Redirect(http.StatusSeeOther, "/roles/"+role.Slug+"/book?"+q.Encode())
}

// translateCalls gives a role page's version in another language the
// default file's kinds of call: the same ids, lengths, hosts and rules,
// with the version's own titles and descriptions where it gives them.
func translateCalls(version, base *Role) error {
	if len(version.Calls) == 0 {
		version.Calls = base.Calls
		return nil
	}
	if len(version.Calls) != len(base.Calls) {
		return fmt.Errorf("calls: list the same kinds as %s.yaml, in the same order", base.Slug)
	}
	out := make([]models.CallKind, len(base.Calls))
	for i, k := range base.Calls {
		v := version.Calls[i]
		if v.ID != k.ID {
			return fmt.Errorf("call %d: id %q, want %q as in %s.yaml", i+1, v.ID, k.ID, base.Slug)
		}
		out[i] = k
		out[i].Title, out[i].Description = v.Title, v.Description
	}
	version.Calls = out
	return nil
}
