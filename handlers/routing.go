package handlers

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/callbook/callbook/models"
)

// notEligible is the 422 a visitor the routes turn away gets: the role
// page's message and where to go instead.
type notEligible struct {
	*models.Disqualification
}

func (e notEligible) Error() string { return e.Message }

// disqualify keeps a visitor the routes turned away as a lead (no
// booking, no email) and answers 422 not_eligible with the message and the
// URL, absolute so an integration can link to it.
func (s *Server) disqualify(c *gin.Context, req models.BookingRequest) {
	if _, err := s.store.DisqualifyLead(c.Request.Context(), req, *req.Disqualified); err != nil {
		s.fail(c, err)
		return
	}
	s.notEligibleJSON(c, req.Disqualified)
}

func (s *Server) notEligibleJSON(c *gin.Context, d *models.Disqualification) {
	c.AbortWithStatusJSON(http.StatusUnprocessableEntity, gin.H{"error": gin.H{
		"code": "not_eligible", "message": d.Message, "url": s.guideURL(d.URL),
	}})
}

// guideURL makes a route's path absolute on this site.
func (s *Server) guideURL(u string) string {
	if strings.HasPrefix(u, "/") {
		return s.absURL(u)
	}
	return u
}

// slotRoute reads role_slug and answers.<id> of a slot query and returns
// the host emails they route to (nil: any host). Answers are checked as a
// booking checks them, except that required ones may still be missing.
func (s *Server) slotRoute(slug string, q url.Values) ([]string, error) {
	raw := answersFrom(q)
	if slug == "" && len(raw) == 0 {
		return nil, nil
	}
	v := &models.ValidationError{}
	// The booking page's own picker names its language, whose version of
	// the role page holds the answers' wording.
	role := s.content.RoleIn(slug, q.Get("language"))
	if role == nil {
		v.Add("role_slug", "no such role page")
	}
	answers := checkAnswers(v, role, raw, true)
	if err := v.Err(); err != nil {
		return nil, err
	}
	hosts, d := role.routeTo(answers)
	if d != nil {
		return nil, notEligible{d}
	}
	return hosts, nil
}
