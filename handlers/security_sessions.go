package handlers

import (
	"net/http"

	"github.com/gin-gonic/gin"
)

// securityEndSession signs the signed-in user out of one of their other
// sessions, listed on the Security page (POST /admin/security/sessions/:id/end).
// An id that is not one of theirs ends nothing.
func (s *Server) securityEndSession(c *gin.Context) {
	u := staffUser(c)
	ended, err := s.store.EndSession(c.Request.Context(), u.ID, c.Param("id"))
	if err != nil {
		s.fail(c, err)
		return
	}
	if !ended {
		s.renderSecurity(c, http.StatusNotFound, gin.H{"Error": "That session had already ended."})
		return
	}
	if c.Param("id") == c.GetString(ctxSessionID) {
		s.setSessionCookie(c, "", -1)
		c.Redirect(http.StatusSeeOther, "/admin/login")
		return
	}
	s.renderSecurity(c, http.StatusOK, gin.H{"Notice": "Signed out of that session."})
}

// securityEndOtherSessions signs the signed-in user out everywhere but
// here: what to do after a lost phone, or a changed factor
// (POST /admin/security/sessions/end-others).
func (s *Server) securityEndOtherSessions(c *gin.Context) {
	u := staffUser(c)
	n, err := s.store.EndOtherSessions(c.Request.Context(), u.ID, c.GetString(ctxSessionID))
	if err != nil {
		s.fail(c, err)
		return
	}
	msg := "Signed out of every other session."
	if n == 0 {
		msg = "There were no other sessions."
	}
	s.renderSecurity(c, http.StatusOK, gin.H{"Notice": msg})
}

// adminEndUserSessions signs a staff user out everywhere; their API tokens
// keep working (POST /admin/users/:id/sessions/end).
func (s *Server) adminEndUserSessions(c *gin.Context) {
	id, err := pathID(c, "id")
	if err != nil {
		s.fail(c, err)
		return
	}
	if _, err := s.store.EndOtherSessions(c.Request.Context(), id, ""); err != nil {
		s.fail(c, err)
		return
	}
	c.Redirect(http.StatusSeeOther, "/admin/users?saved=signed-out")
}
