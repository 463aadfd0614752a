package handlers

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/callbook/callbook/models"
	"github.com/callbook/callbook/store"
)

// completeSignIn starts a staff session for u, who has just proved who they
// are by method ("password", "sso"): it ends the session the browser had,
// creates a new one with a new random id (so no id chosen before sign-in
// survives it), sets its cookie and sends the browser on to next, which the
// caller has made safe with safeNext. Every way of signing in ends here.
func (s *Server) completeSignIn(c *gin.Context, u *models.User, next string, method string) {
	if old, err := c.Cookie(s.sessionCookieName()); err == nil && old != "" {
		_ = s.store.DeleteSession(c.Request.Context(), old)
	}
	ns, err := s.store.CreateSession(c.Request.Context(), u, c.ClientIP(), c.Request.UserAgent())
	if err != nil {
		s.fail(c, err)
		return
	}
	s.setSessionCookie(c, ns.Token, int(store.SessionAbsolute.Seconds()))
	c.Redirect(http.StatusSeeOther, next)
}
