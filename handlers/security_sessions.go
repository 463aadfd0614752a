package handlers

import (
	"errors"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/callbook/callbook/models"
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

// securityChangePassword changes the signed-in user's own password, given
// the current one (a wrong one counts toward the sign-in throttle like any
// other), then signs them out everywhere and starts a new session here
// (POST /admin/security/password). API tokens keep working.
func (s *Server) securityChangePassword(c *gin.Context) {
	u := staffUser(c)
	ctx := c.Request.Context()
	_, err := s.store.Authenticate(ctx, u.Email, c.PostForm("current_password"), c.ClientIP())
	var te *models.ThrottledError
	switch {
	case errors.As(err, &te):
		s.renderSecurity(c, http.StatusTooManyRequests, gin.H{"PasswordError": throttled(c, te)})
		return
	case errors.Is(err, models.ErrBadCredentials):
		s.renderSecurity(c, http.StatusUnprocessableEntity, gin.H{"PasswordError": "Your current password is not right."})
		return
	case err != nil:
		s.fail(c, err)
		return
	}
	_, err = s.store.SetUserPassword(ctx, u.ID, models.PasswordChange{Password: c.PostForm("password"), Actor: models.ActorUser(u)})
	var verr *models.ValidationError
	switch {
	case errors.As(err, &verr):
		s.renderSecurity(c, http.StatusUnprocessableEntity, gin.H{"PasswordError": "The new password " + verr.Fields["password"] + "."})
		return
	case err != nil:
		s.fail(c, err)
		return
	}
	s.startSession(c, u, securityPage+"?changed=password", signInPassword)
}

// freshSignInFor is how recent a session's sign-in must be to add a second
// factor: someone who finds a signed-in browser left open cannot add their
// own authenticator app or passkey to the account.
const freshSignInFor = 15 * time.Minute

// staleSignIn is what a user whose sign-in is older than freshSignInFor is
// told when adding a second factor.
const staleSignIn = "To add a second factor, sign in again first: for your account's safety this needs a sign-in from the last 15 minutes."

// staleSignInRemove is staleSignIn for removing a passkey.
const staleSignInRemove = "To remove a passkey, sign in again first: for your account's safety this needs a sign-in from the last 15 minutes."

// signedInRecently reports whether the request's session was signed in
// within freshSignInFor.
func (s *Server) signedInRecently(c *gin.Context) bool {
	at, ok := c.Get(ctxSignedInAt)
	t, isTime := at.(time.Time)
	return ok && isTime && s.now().Sub(t) < freshSignInFor
}
