package handlers

import (
	"crypto/subtle"
	"errors"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/callbook/callbook/models"
	"github.com/callbook/callbook/store"
)

// Staff session cookie names. With an https base URL the cookie is Secure
// and carries the __Host- prefix, which browsers only accept from a secure
// origin, with Path=/ and no Domain.
const (
	sessionCookie       = "callbook_session"
	secureSessionCookie = "__Host-callbook_session"
	// csrfField is the hidden form field every staff form posts.
	csrfField = "csrf_token"
	// staffHome is where sign-in lands without a (safe) next page: the
	// dashboard, the staff home.
	staffHome = "/admin"
)

// ctxAuthVia records how the request signed in: "session" or "token".
const ctxAuthVia = "staff_auth_via"

func (s *Server) sessionCookieName() string {
	if s.secure {
		return secureSessionCookie
	}
	return sessionCookie
}

// setSessionCookie writes the session cookie; maxAge < 0 deletes it.
func (s *Server) setSessionCookie(c *gin.Context, value string, maxAge int) {
	http.SetCookie(c.Writer, &http.Cookie{
		Name: s.sessionCookieName(), Value: value, Path: "/", MaxAge: maxAge,
		HttpOnly: true, Secure: s.secure, SameSite: http.SameSiteLaxMode,
	})
}

// staffUser is the signed-in user requireStaff put in the context, or nil.
func staffUser(c *gin.Context) *models.User {
	if v, ok := c.Get(ctxUser); ok {
		if u, ok := v.(*models.User); ok {
			return u
		}
	}
	return nil
}

// requireStaff lets a request through only for an enabled staff user,
// signed in by an API token (Authorization: Bearer) or the session cookie.
// It puts the user in the context under ctxUser, and for cookie sessions
// the CSRF token under ctxCSRF. A session user who must have a second
// factor and has none may only use the Security page (and sign out):
// other pages send them there, the API answers 403; tokens are not
// affected. Without valid credentials an API request
// gets 401 and a page a 303 to /admin/login. A form sent with the session
// cookie must carry the session's CSRF token (on top of the cross-origin
// check every state-changing request gets), or it gets 403. The user and
// the client address become the request context's actor (store.WithActor),
// which the audit log records for every change. Staff answers are never
// cached.
func (s *Server) requireStaff(c *gin.Context) {
	c.Header("Cache-Control", "no-store")
	u, sess, err := s.authenticate(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	if u == nil {
		s.unauthenticated(c)
		return
	}
	c.Set(ctxUser, u)
	// Every change this request makes is audited as this user's.
	c.Request = c.Request.WithContext(store.WithActor(c.Request.Context(), models.UserActor(u, c.ClientIP())))
	if sess != nil {
		c.Set(ctxCSRF, sess.CSRFToken)
		c.Set(ctxSessionID, sess.ID)
		c.Set(ctxSignedInAt, sess.CreatedAt)
		c.Set(ctxAuthVia, "session")
		if !isAPI(c) && !safeMethod(c.Request.Method) && !validCSRF(c.PostForm(csrfField), sess.CSRFToken) {
			s.fail(c, errCrossOrigin)
			return
		}
		if !enrolOnlyPath(c.Request.URL.Path) {
			must, err := s.mustEnrol(c, u)
			switch {
			case err != nil:
				s.fail(c, err)
				return
			case must && isAPI(c):
				s.fail(c, errEnrolFirst)
				return
			case must:
				c.Redirect(http.StatusSeeOther, securityPage)
				c.Abort()
				return
			}
		}
	} else {
		c.Set(ctxAuthVia, "token")
	}
	c.Next()
}

// requireAdmin lets only admins through; sales users get 403. Use it after
// requireStaff, which signs the user in.
func (s *Server) requireAdmin(c *gin.Context) {
	u := staffUser(c)
	switch {
	case u == nil:
		s.unauthenticated(c)
		return
	case u.Role != models.RoleAdmin:
		s.forbidden(c)
		return
	}
	c.Next()
}

// forbidden answers 403 to a staff user asking for what their role does
// not allow, and records it in the audit log (a failure to record it is
// logged; the answer stays 403).
func (s *Server) forbidden(c *gin.Context) {
	if err := s.store.RecordAccessDenied(c.Request.Context(), c.Request.Method, c.Request.URL.Path); err != nil {
		s.log.Error("record access denied", "err", err)
	}
	s.fail(c, errForbidden)
}

// authenticate finds the user of a bearer token or a session cookie. A
// bearer token that does not work is not rescued by a cookie.
func (s *Server) authenticate(c *gin.Context) (*models.User, *models.Session, error) {
	ctx := c.Request.Context()
	if h := c.GetHeader("Authorization"); h != "" {
		token, ok := strings.CutPrefix(h, "Bearer ")
		if !ok {
			return nil, nil, nil
		}
		u, err := s.store.UserByAPIToken(ctx, strings.TrimSpace(token))
		if errors.Is(err, models.ErrNotFound) {
			return nil, nil, nil
		}
		return u, nil, err
	}
	ck, err := c.Cookie(s.sessionCookieName())
	if err != nil || ck == "" {
		return nil, nil, nil
	}
	sess, u, err := s.store.SessionUser(ctx, ck)
	if errors.Is(err, models.ErrNotFound) {
		s.setSessionCookie(c, "", -1)
		return nil, nil, nil
	}
	return u, sess, err
}

// unauthenticated answers 401 under /api/ and sends pages to sign in,
// remembering where the user was going.
func (s *Server) unauthenticated(c *gin.Context) {
	if isAPI(c) {
		s.fail(c, errUnauthorized)
		return
	}
	next := c.Request.URL.Path
	if c.Request.Method == http.MethodGet && c.Request.URL.RawQuery != "" {
		next += "?" + c.Request.URL.RawQuery
	}
	c.Redirect(http.StatusSeeOther, "/admin/login?next="+url.QueryEscape(next))
	c.Abort()
}

func safeMethod(m string) bool {
	return m == http.MethodGet || m == http.MethodHead || m == http.MethodOptions
}

func validCSRF(got, want string) bool {
	return want != "" && subtle.ConstantTimeCompare([]byte(got), []byte(want)) == 1
}

// safeNext keeps a post-sign-in destination only when it is a staff page
// on this site, so the login form cannot be used to redirect elsewhere.
func safeNext(next string) string {
	u, err := url.Parse(next)
	if err != nil || next == "" || u.Scheme != "" || u.Host != "" || strings.ContainsAny(next, "\\\r\n") ||
		strings.HasPrefix(next, "//") || (u.Path != "/admin" && !strings.HasPrefix(u.Path, "/admin/")) ||
		u.Path == "/admin/login" {
		return staffHome
	}
	return u.RequestURI()
}

// loginPage shows the sign-in form; a signed-in user goes straight on.
func (s *Server) loginPage(c *gin.Context) {
	c.Header("Cache-Control", "no-store")
	next := safeNext(c.Query("next"))
	if ck, err := c.Cookie(s.sessionCookieName()); err == nil && ck != "" {
		if _, _, err := s.store.SessionUser(c.Request.Context(), ck); err == nil {
			c.Redirect(http.StatusSeeOther, next)
			return
		}
	}
	s.renderLogin(c, http.StatusOK, "", next, "")
}

func (s *Server) renderLogin(c *gin.Context, status int, email, next, msg string) {
	s.render(c, status, "admin/login.html", gin.H{"Title": "Sign in", "Email": email, "Next": next, "Error": msg, "SSO": s.ssoName(), "Passkeys": s.webauthn != nil})
}

// renderThrottled refuses a sign-in step the throttle stops: 429 with
// Retry-After.
func (s *Server) renderThrottled(c *gin.Context, te *models.ThrottledError, email, next string) {
	s.renderLogin(c, http.StatusTooManyRequests, email, next, throttled(c, te))
}

// throttled sets Retry-After for a step of signing in (a password, a code)
// the sign-in throttle refused, and returns the sentence that says so.
// Every page that checks such a secret answers its 429 with it.
func throttled(c *gin.Context, te *models.ThrottledError) string {
	c.Header("Retry-After", strconv.Itoa(int(math.Ceil(te.RetryAfter.Seconds()))))
	return "Too many failed sign-ins: " + te.Error() + "."
}

// loginSubmit checks the password, then completeSignIn asks for the
// second factor or starts the session. Failures show the form again
// (401); too many failures 429 with Retry-After.
func (s *Server) loginSubmit(c *gin.Context) {
	c.Header("Cache-Control", "no-store")
	email, next := strings.TrimSpace(c.PostForm("email")), safeNext(c.PostForm("next"))
	u, err := s.store.Authenticate(c.Request.Context(), email, c.PostForm("password"), c.ClientIP())
	var te *models.ThrottledError
	switch {
	case errors.As(err, &te):
		s.renderThrottled(c, te, email, next)
		return
	case errors.Is(err, models.ErrBadCredentials):
		s.renderLogin(c, http.StatusUnauthorized, email, next, "That email and password do not match an active staff account.")
		return
	case err != nil:
		s.fail(c, err)
		return
	}
	s.completeSignIn(c, u, next, signInPassword)
}

// logout ends the session in the database and clears the cookie.
func (s *Server) logout(c *gin.Context) {
	if ck, err := c.Cookie(s.sessionCookieName()); err == nil && ck != "" {
		if err := s.store.DeleteSession(c.Request.Context(), ck); err != nil {
			s.fail(c, err)
			return
		}
	}
	s.setSessionCookie(c, "", -1)
	if next := c.PostForm("next"); next != "" {
		// "Sign in again" on the Security page comes back to it.
		c.Redirect(http.StatusSeeOther, "/admin/login?next="+url.QueryEscape(safeNext(next)))
		return
	}
	c.Redirect(http.StatusSeeOther, "/admin/login")
}
