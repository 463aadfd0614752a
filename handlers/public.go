package handlers

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/gin-gonic/gin"
)

// index lists the role pages.
func (s *Server) index(c *gin.Context) {
	s.render(c, http.StatusOK, "public/index.html", gin.H{"Title": s.lang(c).T("home_title"), "Alternates": s.alternates("/")})
}

// rolePage shows one role page. Its booking links carry the visit's UTM
// parameters and the page's own referrer, so the lead records where the
// reader really came from.
func (s *Server) rolePage(c *gin.Context) {
	role, lang := s.roleInLanguage(c)
	if role == nil {
		s.fail(c, errRouteNotFound)
		return
	}
	carry := url.Values{}
	for k, v := range c.Request.URL.Query() {
		if strings.HasPrefix(k, "utm_") && len(v) > 0 {
			carry.Set(k, v[0])
		}
	}
	if ref := s.outsideReferrer(c); ref != "" {
		carry.Set("ref", ref)
	}
	bookURL := "/roles/" + role.Slug + "/book"
	if len(carry) > 0 {
		bookURL += "?" + carry.Encode()
	}
	var rec *Role
	if role.Recommend != nil {
		rec = s.content.RoleIn(role.Recommend.Slug, lang)
	}
	s.render(c, http.StatusOK, "public/role.html", gin.H{
		"Title": s.lang(c).T("role_title", "Role", role.Title), "Role": role, "BookURL": bookURL, "Recommended": rec,
		"Description": role.Tagline, "Alternates": s.alternates("/roles/" + role.Slug),
	})
}

// outsideReferrer is the request's Referer when it is another site's page,
// the place a visitor came from; "" for none or for this service's own
// pages, which are only steps of the same visit.
func (s *Server) outsideReferrer(c *gin.Context) string {
	ref := c.Request.Referer()
	if ref == "" || s.ownPage(c, ref) {
		return ""
	}
	return ref
}

// ownPage reports whether ref is a page of this service: at the base URL's
// host, or at the host this request was sent to, as a visitor reaches the
// service behind a proxy or at another address than the base URL. The
// proxy's X-Forwarded-Host counts only from a trusted proxy.
func (s *Server) ownPage(c *gin.Context, ref string) bool {
	u, err := url.Parse(ref)
	if err != nil || u.Host == "" {
		return false
	}
	host := strings.ToLower(u.Host)
	if host == strings.ToLower(s.baseURL.Host) || host == strings.ToLower(c.Request.Host) {
		return true
	}
	if !s.fromTrustedProxy(c) {
		return false
	}
	for _, h := range c.Request.Header.Values("X-Forwarded-Host") {
		for _, one := range strings.Split(h, ",") {
			if strings.EqualFold(strings.TrimSpace(one), host) {
				return true
			}
		}
	}
	return false
}

// roleJSON is a role page in the API.
type roleJSON struct {
	Slug            string   `json:"slug"`
	Title           string   `json:"title"`
	Aliases         []string `json:"aliases"`
	MonthlyOpenings int      `json:"monthly_openings"`
	URL             string   `json:"url"`
}

func (s *Server) toRoleJSON(r *Role) roleJSON {
	aliases := r.Aliases
	if aliases == nil {
		aliases = []string{}
	}
	return roleJSON{r.Slug, r.Title, aliases, r.MonthlyOpenings, s.absURL("/roles/" + r.Slug)}
}

// apiRoles lists the role pages (GET /api/v1/roles).
func (s *Server) apiRoles(c *gin.Context) {
	out := []roleJSON{}
	for _, r := range s.content.Roles() {
		out = append(out, s.toRoleJSON(r))
	}
	c.JSON(http.StatusOK, gin.H{"roles": out})
}

// apiRole describes one role page with the questions its booking asks
// (GET /api/v1/roles/{slug}).
func (s *Server) apiRole(c *gin.Context) {
	r := s.content.Role(c.Param("slug"))
	if r == nil {
		s.fail(c, errRouteNotFound)
		return
	}
	qs := r.Questions
	if qs == nil {
		qs = []Question{}
	}
	c.JSON(http.StatusOK, gin.H{"role": struct {
		roleJSON
		Questions []Question `json:"questions"`
	}{s.toRoleJSON(r), qs}})
}
