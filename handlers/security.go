package handlers

import (
	"bytes"
	"encoding/base64"
	"errors"
	"html/template"
	"image/png"
	"net/http"

	"github.com/gin-gonic/gin"
	"github.com/pquerna/otp"

	"github.com/callbook/callbook/models"
)

// totpIssuer names the service in authenticator apps.
const totpIssuer = "Callbook"

// securityPage shows the signed-in user's second factors: the
// authenticator app (set it up, confirm it, remove it), recovery codes
// and passkeys.
func (s *Server) securityPage(c *gin.Context) {
	data := gin.H{}
	if c.Query("changed") == "password" {
		data["Notice"] = "Password changed. Every other session is signed out; this browser has a new one."
	}
	s.renderSecurity(c, http.StatusOK, data)
}

// renderSecurity renders the Security page with data's extras: Error,
// Notice, RecoveryCodes (shown once).
func (s *Server) renderSecurity(c *gin.Context, status int, data gin.H) {
	u := staffUser(c)
	ctx := c.Request.Context()
	f, err := s.store.SecondFactors(ctx, u.ID)
	if err != nil {
		s.fail(c, err)
		return
	}
	data["Title"], data["Nav"], data["Factors"] = "Security", "security", f
	data["PasskeyName"], data["Passkeys"] = passkeyName(c.Request.UserAgent()), s.webauthn != nil
	data["MustEnrol"] = models.MustHaveSecondFactor(s.require2FA, u) && !f.Any()
	if data["Sessions"], err = s.store.LiveSessions(ctx, u.ID); err != nil {
		s.fail(c, err)
		return
	}
	data["CurrentSession"] = c.GetString(ctxSessionID)
	if f.TOTPPending {
		secret, err := s.store.PendingTOTPSecret(ctx, u.ID)
		if err != nil {
			s.fail(c, err)
			return
		}
		key, err := models.TOTPKey(totpIssuer, u.Email, secret)
		if err != nil {
			s.fail(c, err)
			return
		}
		qr, err := qrDataURI(key)
		if err != nil {
			s.fail(c, err)
			return
		}
		// The QR code is a PNG drawn here, in a data: URI the page policy allows.
		data["TOTPURL"], data["TOTPSecret"], data["TOTPQR"] = key.URL(), key.Secret(), template.URL(qr)
	}
	s.render(c, status, "admin/security.html", data)
}

// qrDataURI draws key's URI as a QR code, a PNG in a data: URI.
func qrDataURI(key *otp.Key) (string, error) {
	img, err := key.Image(240, 240)
	if err != nil {
		return "", err
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return "", err
	}
	return "data:image/png;base64," + base64.StdEncoding.EncodeToString(buf.Bytes()), nil
}

// securityBeginTOTP starts setting up an authenticator app: a new secret,
// waiting for its first code.
func (s *Server) securityBeginTOTP(c *gin.Context) {
	if !s.signedInRecently(c) {
		s.renderSecurity(c, http.StatusForbidden, gin.H{"Error": staleSignIn, "SignInAgain": true})
		return
	}
	u := staffUser(c)
	key, err := models.NewTOTPKey(totpIssuer, u.Email)
	if err != nil {
		s.fail(c, err)
		return
	}
	err = s.store.BeginTOTP(c.Request.Context(), u.ID, key.Secret())
	if errors.Is(err, models.ErrTOTPExists) {
		s.renderSecurity(c, http.StatusConflict, gin.H{"Error": err.Error()})
		return
	}
	if err != nil {
		s.fail(c, err)
		return
	}
	c.Redirect(http.StatusSeeOther, securityPage)
}

// securityConfirmTOTP confirms the app with its first code and shows the
// recovery codes, once.
func (s *Server) securityConfirmTOTP(c *gin.Context) {
	u := staffUser(c)
	codes, err := s.store.ConfirmTOTP(c.Request.Context(), u.ID, c.PostForm("code"))
	switch {
	case errors.Is(err, models.ErrBadCode):
		s.renderSecurity(c, http.StatusUnprocessableEntity, gin.H{"CodeError": "That code is not right. Enter the 6-digit code your app shows now."})
		return
	case errors.Is(err, models.ErrNoPendingTOTP):
		s.renderSecurity(c, http.StatusConflict, gin.H{"Error": "Start setting up an authenticator app again."})
		return
	case err != nil:
		s.fail(c, err)
		return
	}
	s.renderSecurity(c, http.StatusOK, gin.H{"Notice": "Your authenticator app is set up.", "RecoveryCodes": codes})
}

// checkCurrentCode asks for a current code (or a recovery code) before a
// change to the factors: through the sign-in throttle, accepted once. It
// answers the request itself and returns false when the code is wrong.
func (s *Server) checkCurrentCode(c *gin.Context) bool {
	err := s.store.VerifySecondFactor(c.Request.Context(), staffUser(c), c.PostForm("code"), c.ClientIP())
	var te *models.ThrottledError
	switch {
	case errors.As(err, &te):
		s.renderSecurity(c, http.StatusTooManyRequests, gin.H{"Error": throttled(c, te)})
		return false
	case errors.Is(err, models.ErrBadCode):
		s.renderSecurity(c, http.StatusUnprocessableEntity, gin.H{"Error": "That code is not right, or was already used; nothing was changed."})
		return false
	case err != nil:
		s.fail(c, err)
		return false
	}
	return true
}

// securityRemoveTOTP removes the authenticator app and its recovery
// codes, given a current code (or a recovery code). A confirmed app can
// only be replaced this way: remove it, then set up the new one.
func (s *Server) securityRemoveTOTP(c *gin.Context) {
	u := staffUser(c)
	f, err := s.store.SecondFactors(c.Request.Context(), u.ID)
	if err != nil {
		s.fail(c, err)
		return
	}
	if f.TOTP && !s.checkCurrentCode(c) {
		return
	}
	if err := s.store.RemoveTOTP(c.Request.Context(), u.ID); err != nil {
		s.fail(c, err)
		return
	}
	c.Redirect(http.StatusSeeOther, securityPage)
}

// securityNewRecoveryCodes replaces the recovery codes, given a current
// code, and shows the new ones once.
func (s *Server) securityNewRecoveryCodes(c *gin.Context) {
	if !s.checkCurrentCode(c) {
		return
	}
	codes, err := s.store.NewRecoveryCodes(c.Request.Context(), staffUser(c).ID)
	if err != nil {
		s.fail(c, err)
		return
	}
	s.renderSecurity(c, http.StatusOK, gin.H{"Notice": "New recovery codes made; the old ones no longer work.", "RecoveryCodes": codes})
}
