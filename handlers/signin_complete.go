package handlers

import (
	"errors"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/callbook/callbook/models"
	"github.com/callbook/callbook/store"
)

// How a first factor was proved, as completeSignIn is told.
const (
	signInPassword = "password"
	signInPasskey  = "passkey"
)

// securityPage is the staff area's Security page, the one page a user who
// must set up a second factor and has none may use.
const securityPage = "/admin/security"

// Sign-in step cookie: it holds the token of the step that waits for the
// code after a password (see store.StartSignInStep). It is only sent to
// the sign-in pages.
const (
	signInStepCookie = "callbook_signin"
	signInStepPath   = "/admin/login"
)

// completeSignIn is where every successful first factor (a password, a
// passkey, single sign-on) ends. A user with an authenticator app who did
// not sign in with a passkey is asked for a code first: no session exists
// until it is given; the step is a row found by a random token held in a
// short-lived cookie (store.SignInStepTTL), bound to the user. Otherwise
// the session starts now; a user who must have a second factor and has
// none lands on the Security page, the only page requireStaff lets them
// use until they set one up. A user who must have one and whose only one
// is a passkey must sign in with it: their password alone is refused.
func (s *Server) completeSignIn(c *gin.Context, u *models.User, next string, method string) {
	ctx := c.Request.Context()
	f, err := s.store.SecondFactors(ctx, u.ID)
	if err != nil {
		s.fail(c, err)
		return
	}
	if f.TOTP && method != signInPasskey {
		token, err := s.store.StartSignInStep(ctx, models.ChallengeSecondFactor, u.ID, next, method)
		if err != nil {
			s.fail(c, err)
			return
		}
		s.setSignInStepCookie(c, token, int(store.SignInStepTTL.Seconds()))
		c.Redirect(http.StatusSeeOther, signInStepPath+"/code")
		return
	}
	must := models.MustHaveSecondFactor(s.require2FA, u)
	if must && method != signInPasskey && len(f.Passkeys) > 0 {
		// Their only second factor is a passkey, which signs in alone;
		// a password without it would be one factor.
		s.renderLogin(c, http.StatusUnauthorized, "", next,
			"Your account signs in with its passkey: choose \"Sign in with a passkey\". Lost it? An admin can reset your second factors.")
		return
	}
	if must && !f.Any() {
		next = securityPage
	}
	s.startSession(c, u, next, method)
}

// startSession ends the browser's old session, starts a new one with a
// fresh id, sets its cookie and sends the user on to next. The session's
// signin.succeeded audit entry names method, how the user proved who they
// are ("password", "passkey", "sso", "password+code").
func (s *Server) startSession(c *gin.Context, u *models.User, next, method string) {
	ctx := store.WithSignInMethod(c.Request.Context(), method)
	if old, err := c.Cookie(s.sessionCookieName()); err == nil && old != "" {
		_ = s.store.DeleteSession(ctx, old)
	}
	ns, err := s.store.CreateSession(ctx, u, c.ClientIP(), c.Request.UserAgent())
	if err != nil {
		s.fail(c, err)
		return
	}
	s.setSessionCookie(c, ns.Token, int(store.SessionAbsolute.Seconds()))
	c.Redirect(http.StatusSeeOther, next)
}

func (s *Server) setSignInStepCookie(c *gin.Context, value string, maxAge int) {
	http.SetCookie(c.Writer, &http.Cookie{
		Name: signInStepCookie, Value: value, Path: signInStepPath, MaxAge: maxAge,
		HttpOnly: true, Secure: s.secure, SameSite: http.SameSiteLaxMode,
	})
}

// pendingSignIn returns the open code step of this browser and its user,
// or nil and nil when there is none (expired, used, or the user was
// disabled meanwhile).
func (s *Server) pendingSignIn(c *gin.Context) (*models.SignInChallenge, *models.User, string, error) {
	token, err := c.Cookie(signInStepCookie)
	if err != nil || token == "" {
		return nil, nil, "", nil
	}
	ctx := c.Request.Context()
	st, err := s.store.SignInStep(ctx, token, models.ChallengeSecondFactor)
	if errors.Is(err, models.ErrChallengeGone) {
		return nil, nil, "", nil
	}
	if err != nil {
		return nil, nil, "", err
	}
	u, err := s.store.UserByID(ctx, st.UserID)
	if errors.Is(err, models.ErrNotFound) || (err == nil && (u.Disabled || u.PasswordHash == "")) {
		return nil, nil, "", nil
	}
	return st, u, token, err
}

// codePage asks for the second factor after the password.
func (s *Server) codePage(c *gin.Context) {
	c.Header("Cache-Control", "no-store")
	st, _, _, err := s.pendingSignIn(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	if st == nil {
		s.codeStepGone(c)
		return
	}
	s.renderCode(c, http.StatusOK, "")
}

func (s *Server) renderCode(c *gin.Context, status int, msg string) {
	s.render(c, status, "admin/login_code.html", gin.H{"Title": "Enter your code", "Error": msg})
}

// codeStepGone sends a browser whose code step expired back to sign in.
func (s *Server) codeStepGone(c *gin.Context) {
	s.setSignInStepCookie(c, "", -1)
	s.renderLogin(c, http.StatusUnauthorized, "", staffHome, "Your sign-in expired before the code was entered. Sign in again.")
}

// codeSubmit checks the code (or a recovery code) after the password and
// then starts the session. Wrong codes count toward the sign-in throttle,
// with the passwords; a code is accepted once.
func (s *Server) codeSubmit(c *gin.Context) {
	c.Header("Cache-Control", "no-store")
	st, u, token, err := s.pendingSignIn(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	if st == nil {
		s.codeStepGone(c)
		return
	}
	ctx := c.Request.Context()
	err = s.store.VerifySecondFactor(ctx, u, c.PostForm("code"), c.ClientIP())
	var te *models.ThrottledError
	switch {
	case errors.As(err, &te):
		s.renderCode(c, http.StatusTooManyRequests, throttled(c, te))
		return
	case errors.Is(err, models.ErrBadCode):
		s.renderCode(c, http.StatusUnauthorized, "That code is not right, or was already used. Enter the current code from your authenticator app, or an unused recovery code.")
		return
	case err != nil:
		s.fail(c, err)
		return
	}
	if _, err := s.store.FinishSignInStep(ctx, token, models.ChallengeSecondFactor); err != nil {
		if errors.Is(err, models.ErrChallengeGone) {
			s.codeStepGone(c)
			return
		}
		s.fail(c, err)
		return
	}
	s.setSignInStepCookie(c, "", -1)
	s.startSession(c, u, safeNext(st.Next), st.Data+"+code")
}

// mustEnrol reports whether u, signed in with a session, must set up a
// second factor before using anything but the Security page.
func (s *Server) mustEnrol(c *gin.Context, u *models.User) (bool, error) {
	if !models.MustHaveSecondFactor(s.require2FA, u) {
		return false, nil
	}
	has, err := s.store.HasSecondFactor(c.Request.Context(), u.ID)
	return !has, err
}

// enrolOnlyPath: the pages a user who must set up a second factor may
// still use.
func enrolOnlyPath(p string) bool {
	return p == securityPage || strings.HasPrefix(p, securityPage+"/") || p == "/admin/logout"
}

// errEnrolFirst answers the staff API called with the session of a user
// who must set up a second factor first.
var errEnrolFirst = &apiError{http.StatusForbidden, "forbidden",
	"set up a second factor (an authenticator app or a passkey) on the Security page, /admin/security, before using the staff area; API tokens are not affected", nil}
