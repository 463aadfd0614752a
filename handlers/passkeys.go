package handlers

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"
	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"

	"github.com/callbook/callbook/models"
)

// newWebAuthn checks passkeys for the base URL: its host name is the
// relying party id, its origin the only origin accepted. A base URL whose
// host is an IP address cannot have passkeys (browsers need a domain):
// nil, and the pages do not offer them.
func newWebAuthn(base *url.URL, log *slog.Logger) *webauthn.WebAuthn {
	w, err := webauthn.New(&webauthn.Config{
		RPDisplayName: "Callbook",
		RPID:          base.Hostname(),
		RPOrigins:     []string{base.Scheme + "://" + base.Host},
	})
	if err != nil {
		log.Info("passkeys are off: the base URL's host must be a domain name", "base_url", base.String(), "err", err)
		return nil
	}
	return w
}

// errNoPasskeys answers a passkey request on a site that cannot have them.
var errNoPasskeys = &apiError{http.StatusNotFound, "not_found", "passkeys need CALLBOOK_BASE_URL to name the site by a domain name", nil}

// passkeyUser is a staff user as the WebAuthn library sees them: the user
// handle is "u" and the user's id, so a passkey sign-in finds its user.
type passkeyUser struct {
	u     *models.User
	creds []webauthn.Credential
}

func (p passkeyUser) WebAuthnID() []byte                         { return userHandle(p.u.ID) }
func (p passkeyUser) WebAuthnName() string                       { return p.u.Email }
func (p passkeyUser) WebAuthnDisplayName() string                { return p.u.Name }
func (p passkeyUser) WebAuthnCredentials() []webauthn.Credential { return p.creds }

func userHandle(id uint) []byte { return []byte("u" + strconv.FormatUint(uint64(id), 10)) }

// credentialKey is how a credential id is stored: base64url, no padding.
func credentialKey(id []byte) string { return base64.RawURLEncoding.EncodeToString(id) }

// passkeyOptions is the answer to a request for a passkey ceremony: the
// options for navigator.credentials, and the step the form sends back.
type passkeyOptions struct {
	Options any    `json:"options"`
	Step    string `json:"step"`
}

// passkeyAddOptions begins adding a passkey for the signed-in user.
func (s *Server) passkeyAddOptions(c *gin.Context) {
	if s.webauthn == nil {
		s.fail(c, errNoPasskeys)
		return
	}
	if !s.signedInRecently(c) {
		// Read by passkeys.js, which shows the message under the form.
		c.AbortWithStatusJSON(http.StatusForbidden, gin.H{"error": gin.H{"code": "forbidden", "message": staleSignIn}})
		return
	}
	u := staffUser(c)
	ctx := c.Request.Context()
	keys, err := s.store.Passkeys(ctx, u.ID)
	if err != nil {
		s.fail(c, err)
		return
	}
	var exclude []protocol.CredentialDescriptor
	for _, k := range keys {
		if id, err := base64.RawURLEncoding.DecodeString(k.CredentialID); err == nil {
			exclude = append(exclude, protocol.CredentialDescriptor{Type: protocol.PublicKeyCredentialType, CredentialID: id})
		}
	}
	creation, session, err := s.webauthn.BeginRegistration(passkeyUser{u: u},
		webauthn.WithResidentKeyRequirement(protocol.ResidentKeyRequirementRequired), webauthn.WithExclusions(exclude))
	if err != nil {
		s.fail(c, err)
		return
	}
	s.answerPasskeyOptions(c, models.ChallengePasskeyAdd, u.ID, "", creation, session)
}

func (s *Server) answerPasskeyOptions(c *gin.Context, purpose string, userID uint, next string, options any, session *webauthn.SessionData) {
	data, err := json.Marshal(session)
	if err != nil {
		s.fail(c, err)
		return
	}
	step, err := s.store.StartSignInStep(c.Request.Context(), purpose, userID, next, string(data))
	if err != nil {
		s.fail(c, err)
		return
	}
	c.Header("Cache-Control", "no-store")
	c.JSON(http.StatusOK, passkeyOptions{Options: options, Step: step})
}

// passkeySession closes the step of a passkey ceremony and returns its
// WebAuthn state.
func (s *Server) passkeySession(c *gin.Context, purpose string) (*models.SignInChallenge, *webauthn.SessionData, error) {
	st, err := s.store.FinishSignInStep(c.Request.Context(), c.PostForm("step"), purpose)
	if err != nil {
		return nil, nil, err
	}
	var session webauthn.SessionData
	if err := json.Unmarshal([]byte(st.Data), &session); err != nil {
		return nil, nil, err
	}
	return st, &session, nil
}

// passkeyAdd finishes adding a passkey: the form carries the step, the
// browser's answer (credential, as JSON) and the passkey's name.
func (s *Server) passkeyAdd(c *gin.Context) {
	if s.webauthn == nil {
		s.fail(c, errNoPasskeys)
		return
	}
	u := staffUser(c)
	st, session, err := s.passkeySession(c, models.ChallengePasskeyAdd)
	if err == nil && st.UserID != u.ID {
		err = models.ErrChallengeGone
	}
	if errors.Is(err, models.ErrChallengeGone) {
		s.renderSecurity(c, http.StatusConflict, gin.H{"Error": "Adding the passkey took too long or was already done; try again."})
		return
	}
	if err != nil {
		s.fail(c, err)
		return
	}
	parsed, err := protocol.ParseCredentialCreationResponseBytes([]byte(c.PostForm("credential")))
	var cred *webauthn.Credential
	if err == nil {
		cred, err = s.webauthn.CreateCredential(passkeyUser{u: u}, *session, parsed)
	}
	if err != nil {
		s.log.Info("passkey not added", "user", u.ID, "err", err)
		s.renderSecurity(c, http.StatusUnprocessableEntity, gin.H{"Error": "The browser's answer for the new passkey could not be checked; nothing was added."})
		return
	}
	record, err := json.Marshal(cred)
	if err != nil {
		s.fail(c, err)
		return
	}
	if _, err := s.store.AddPasskey(c.Request.Context(), u.ID, c.PostForm("name"), credentialKey(cred.ID), string(record)); err != nil {
		s.failSecurity(c, err)
		return
	}
	c.Redirect(http.StatusSeeOther, securityPage)
}

// failSecurity shows a validation problem on the Security page, and fails
// otherwise.
func (s *Server) failSecurity(c *gin.Context, err error) {
	var ve *models.ValidationError
	if errors.As(err, &ve) {
		s.renderSecurity(c, http.StatusUnprocessableEntity, gin.H{"Error": "The passkey's name " + ve.Fields["name"] + "."})
		return
	}
	s.fail(c, err)
}

// passkeyRename names one of the user's passkeys.
func (s *Server) passkeyRename(c *gin.Context) {
	id, err := strconv.ParseUint(c.Param("id"), 10, 32)
	if err != nil {
		s.fail(c, models.ErrNotFound)
		return
	}
	if err := s.store.RenamePasskey(c.Request.Context(), staffUser(c).ID, uint(id), c.PostForm("name")); err != nil {
		s.failSecurity(c, err)
		return
	}
	c.Redirect(http.StatusSeeOther, securityPage)
}

// passkeyRemove deletes one of the user's passkeys: it signs in no more.
func (s *Server) passkeyRemove(c *gin.Context) {
	if !s.signedInRecently(c) {
		s.renderSecurity(c, http.StatusForbidden, gin.H{"Error": staleSignInRemove, "SignInAgain": true})
		return
	}
	id, err := strconv.ParseUint(c.Param("id"), 10, 32)
	if err != nil {
		s.fail(c, models.ErrNotFound)
		return
	}
	if err := s.store.RemovePasskey(c.Request.Context(), staffUser(c).ID, uint(id)); err != nil {
		s.fail(c, err)
		return
	}
	c.Redirect(http.StatusSeeOther, securityPage)
}

// passkeyLoginOptions begins a sign-in with a passkey: any passkey of this
// site the browser holds, no email asked.
func (s *Server) passkeyLoginOptions(c *gin.Context) {
	if s.webauthn == nil {
		s.fail(c, errNoPasskeys)
		return
	}
	assertion, session, err := s.webauthn.BeginDiscoverableLogin(webauthn.WithUserVerification(protocol.VerificationRequired))
	if err != nil {
		s.fail(c, err)
		return
	}
	s.answerPasskeyOptions(c, models.ChallengePasskeyLogin, 0, safeNext(c.PostForm("next")), assertion, session)
}

// passkeyLogin finishes a sign-in with a passkey: a passkey alone, without
// password or code, is enough (it is something the user has, unlocked on
// the device by something they know or are).
func (s *Server) passkeyLogin(c *gin.Context) {
	c.Header("Cache-Control", "no-store")
	if s.webauthn == nil {
		s.fail(c, errNoPasskeys)
		return
	}
	st, session, err := s.passkeySession(c, models.ChallengePasskeyLogin)
	if errors.Is(err, models.ErrChallengeGone) {
		s.renderLogin(c, http.StatusUnauthorized, "", staffHome, "The passkey sign-in took too long; try again.")
		return
	}
	if err != nil {
		s.fail(c, err)
		return
	}
	ctx := c.Request.Context()
	var key *models.Passkey
	var user *models.User
	find := func(rawID, handle []byte) (webauthn.User, error) {
		k, err := s.store.PasskeyByCredentialID(ctx, credentialKey(rawID))
		if err != nil {
			return nil, err
		}
		u, err := s.store.UserByID(ctx, k.UserID)
		if err != nil {
			return nil, err
		}
		if string(handle) != string(userHandle(u.ID)) {
			return nil, models.ErrNotFound
		}
		var cred webauthn.Credential
		if err := json.Unmarshal([]byte(k.Credential), &cred); err != nil {
			return nil, err
		}
		key, user = k, u
		return passkeyUser{u: u, creds: []webauthn.Credential{cred}}, nil
	}
	parsed, err := protocol.ParseCredentialRequestResponseBytes([]byte(c.PostForm("credential")))
	var cred *webauthn.Credential
	if err == nil {
		_, cred, err = s.webauthn.ValidatePasskeyLogin(find, *session, parsed)
	}
	if err == nil && (user.Disabled || user.PasswordHash == "") {
		err = models.ErrBadCredentials
	}
	if err != nil {
		s.log.Info("passkey sign-in refused", "err", err)
		email := ""
		if user != nil {
			email = user.Email
		}
		if err := s.store.RecordSignInFailure(ctx, email, c.ClientIP(), "bad_passkey", user); err != nil {
			s.fail(c, err)
			return
		}
		s.renderLogin(c, http.StatusUnauthorized, "", safeNext(st.Next), "That passkey does not sign in to an active staff account here.")
		return
	}
	record, err := json.Marshal(cred)
	if err == nil {
		err = s.store.UsePasskey(ctx, key.ID, string(record))
	}
	if err != nil {
		s.fail(c, err)
		return
	}
	s.completeSignIn(c, user, safeNext(st.Next), signInPasskey)
}

// passkeyName is the default name of a new passkey, from the browser.
func passkeyName(userAgent string) string {
	for _, n := range []string{"Android", "iPhone", "iPad", "Mac", "Windows", "Linux"} {
		if strings.Contains(userAgent, n) {
			return "Passkey on " + n
		}
	}
	return "Passkey"
}
