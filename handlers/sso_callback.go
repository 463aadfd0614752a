package handlers

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/gin-gonic/gin"
	"golang.org/x/oauth2"

	"github.com/callbook/callbook/models"
)

// ssoClaims are the claims of the ID token (or, when it has no email, of
// the provider's userinfo answer) that sign a user in.
type ssoClaims struct {
	Email         string          `json:"email"`
	EmailVerified json.RawMessage `json:"email_verified"`
	Name          string          `json:"name"`
}

// verified reports whether email_verified is true; a few providers send it
// as the string "true".
func (cl ssoClaims) verified() bool {
	var b bool
	if json.Unmarshal(cl.EmailVerified, &b) == nil {
		return b
	}
	var str string
	return json.Unmarshal(cl.EmailVerified, &str) == nil && str == "true"
}

// ssoCallback finishes a sign-in through the identity provider: the
// browser's flow cookie must be there and the state must be its own (a
// callback with another state leaves the flow alone, so nobody can cancel
// someone else's sign-in with a link); then the cookie is deleted, so it
// works once, and the state must not have been taken before. The code is
// exchanged with the PKCE verifier, and the ID token must be the
// provider's, for this client, unexpired and carry the flow's nonce. Then
// ssoSignIn decides who signs in. Every refusal shows the sign-in page.
func (s *Server) ssoCallback(c *gin.Context) {
	c.Header("Cache-Control", "no-store")
	if s.sso == nil {
		s.fail(c, errRouteNotFound)
		return
	}
	name := s.ssoName()
	flow, ok := s.ssoFlowOf(c)
	if ok && sameState(c.Query("state"), flow.State) {
		s.setSSOCookie(c, "")
	}
	switch {
	case !ok:
		s.renderLogin(c, http.StatusBadRequest, "", staffHome, "That sign-in with "+name+" has expired or was already used. Please start again.")
		return
	case !sameState(c.Query("state"), flow.State):
		s.renderLogin(c, http.StatusBadRequest, "", flow.Next, "That sign-in with "+name+" was not started in this browser. Please start again.")
		return
	case c.Query("error") != "":
		s.renderLogin(c, http.StatusUnauthorized, "", flow.Next, fmt.Sprintf("%s did not sign you in (%.60s). Please start again.", name, c.Query("error")))
		return
	case !s.sso.takeState(flow.State, time.Unix(flow.Expires, 0), s.now()):
		s.renderLogin(c, http.StatusBadRequest, "", flow.Next, "That sign-in with "+name+" was already used. Please start again.")
		return
	}
	cl, err := s.ssoIdentity(c.Request.Context(), c.Query("code"), flow)
	if err != nil {
		s.log.Warn("single sign-on: sign-in not confirmed", "issuer", s.sso.settings.Issuer, "err", err)
		status, msg := http.StatusBadRequest, name+" did not confirm this sign-in. Please start again."
		if errors.Is(err, errSSOUnreachable) {
			status, msg = http.StatusServiceUnavailable, name+" cannot be reached right now. Try again in a minute, or sign in with your password."
		}
		s.renderLogin(c, status, "", flow.Next, msg)
		return
	}
	s.ssoSignIn(c, cl, flow.Next)
}

// ssoIdentity exchanges code for tokens and returns the verified ID
// token's claims. A provider that cannot be reached is errSSOUnreachable.
func (s *Server) ssoIdentity(ctx context.Context, code string, flow ssoFlow) (ssoClaims, error) {
	var cl ssoClaims
	prov, err := s.sso.discover(ctx, s.now())
	if err != nil {
		return cl, err
	}
	ctx = s.sso.ctx(ctx)
	tok, err := s.sso.oauth(prov).Exchange(ctx, code, oauth2.VerifierOption(flow.Verifier))
	if err != nil {
		var refused *oauth2.RetrieveError
		if !errors.As(err, &refused) {
			err = errors.Join(errSSOUnreachable, err)
		}
		return cl, fmt.Errorf("code exchange: %w", err)
	}
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" {
		return cl, errors.New("the token answer has no ID token")
	}
	idt, err := prov.Verifier(&oidc.Config{ClientID: s.sso.settings.ClientID}).Verify(ctx, raw)
	if err != nil {
		return cl, fmt.Errorf("ID token: %w", err)
	}
	if subtle.ConstantTimeCompare([]byte(idt.Nonce), []byte(flow.Nonce)) != 1 {
		return cl, errors.New("ID token: nonce is not this sign-in's")
	}
	if err := idt.Claims(&cl); err != nil {
		return cl, fmt.Errorf("ID token claims: %w", err)
	}
	if cl.Email != "" {
		return cl, nil
	}
	// Some providers put the email only in their userinfo answer.
	ui, err := prov.UserInfo(ctx, oauth2.StaticTokenSource(tok))
	if err != nil {
		return cl, fmt.Errorf("userinfo: %w", err)
	}
	if ui.Subject != idt.Subject {
		return cl, errors.New("userinfo is about another subject than the ID token")
	}
	err = ui.Claims(&cl)
	return cl, err
}

// ssoSignIn signs in the staff user of the email the provider vouched
// for. The step counts toward the sign-in throttle like a password, so
// refused identities count as failed sign-ins: an email not verified by
// the provider, an unknown email outside CALLBOOK_OIDC_DOMAINS (inside
// them, a sales user is created), a disabled user or one who may not sign
// in to the staff area.
func (s *Server) ssoSignIn(c *gin.Context, cl ssoClaims, next string) {
	ctx, name := c.Request.Context(), s.ssoName()
	email := models.NormalizeEmail(cl.Email)
	if email == "" {
		s.renderLogin(c, http.StatusUnauthorized, "", next, name+" did not tell Callbook your email address, so it cannot sign you in.")
		return
	}
	err := s.store.ReserveSignIn(ctx, email, c.ClientIP())
	var te *models.ThrottledError
	switch {
	case errors.As(err, &te):
		s.renderThrottled(c, te, email, next)
		return
	case err != nil:
		s.fail(c, err)
		return
	case !cl.verified():
		s.refuseSSO(c, email, "email_not_verified", nil, next, name+" has not verified the email address "+email+", so it cannot sign you in.")
		return
	}
	u, created, err := s.store.SingleSignOnUser(ctx, email, cl.Name, models.EmailInDomains(email, s.sso.settings.Domains))
	var verr *models.ValidationError
	switch {
	case errors.Is(err, models.ErrNotFound), errors.As(err, &verr):
		s.refuseSSO(c, email, "unknown_email", nil, next, "No staff account uses "+email+". Ask an admin to add you.")
		return
	case err != nil:
		s.fail(c, err)
		return
	case u.Disabled:
		s.refuseSSO(c, email, "disabled", u, next, "The staff account "+email+" is disabled. Ask an admin to enable it.")
		return
	case u.PasswordHash == "":
		s.refuseSSO(c, email, "no_staff_access", u, next, email+" may not sign in to the staff area. Ask an admin to give it a password first.")
		return
	}
	if created {
		s.log.Info("single sign-on: created a sales user", "user_id", u.ID, "email", email)
	}
	if err := s.store.ForgiveSignIn(ctx, email, c.ClientIP()); err != nil {
		s.fail(c, err)
		return
	}
	s.completeSignIn(c, u, next, "sso")
}

// refuseSSO answers a single sign-on the service refuses with msg, after
// recording it as a failed sign-in of email (u: its staff user, if any)
// for reason.
func (s *Server) refuseSSO(c *gin.Context, email, reason string, u *models.User, next, msg string) {
	if err := s.store.RecordSignInFailure(c.Request.Context(), email, c.ClientIP(), "sso_"+reason, u); err != nil {
		s.fail(c, err)
		return
	}
	s.renderLogin(c, http.StatusUnauthorized, "", next, msg)
}
