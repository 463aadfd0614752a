package handlers

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/callbook/callbook/locale"
)

// adminSettings shows the policies in force, as the operator set them in
// the environment (GET /admin/settings): who must have a second factor,
// single sign-on, passkeys, how long data is kept and when the nightly run
// is, visitors' languages and whether mail goes out. Nothing here is
// changed from the page: the settings are the deployment's.
func (s *Server) adminSettings(c *gin.Context) {
	sso := gin.H{}
	if s.sso != nil {
		sso = gin.H{"Name": s.sso.settings.Name, "Issuer": s.sso.settings.Issuer, "Domains": s.sso.settings.Domains}
	}
	s.render(c, http.StatusOK, "admin/settings.html", gin.H{
		"Title": "Settings", "Nav": "settings",
		"Require2FA": s.require2FA, "Passkeys": s.webauthn != nil, "SSO": sso,
		"Retention": s.retentionView(), "DefaultLanguage": s.defaultLang, "Languages": locale.Languages,
		"MailOff": s.noMailServer, "BaseURL": s.baseURL.String(),
	})
}
