package handlers

import (
	"errors"
	"net/url"
	"slices"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/callbook/callbook/models"
)

// The embedded booking flow: /embed/roles/{slug}/book and its confirmation
// are the site's own booking pages without header and footer, which only
// the origins in CALLBOOK_EMBED_ORIGINS may frame. web/static/embed.js puts
// them on another site's page; web/static/embed-frame.js, inside the frame,
// reports its height and the booking to that page.

// ctxEmbed marks a request to the embedded flow.
const ctxEmbed = "embed"

// ParseEmbedOrigins reads a comma-separated list of web origins
// (scheme://host[:port], nothing after) for CALLBOOK_EMBED_ORIGINS, as
// browsers write them: lower case, default ports left out.
func ParseEmbedOrigins(v string) ([]string, error) {
	var out []string
	for _, raw := range strings.Split(v, ",") {
		raw = strings.TrimSpace(raw)
		if raw == "" {
			continue
		}
		o, ok := canonicalOrigin(raw)
		if !ok {
			return nil, errors.New("\"" + raw + "\" is not an origin such as https://www.example.com (scheme, host and port only)")
		}
		if !slices.Contains(out, o) {
			out = append(out, o)
		}
	}
	return out, nil
}

func canonicalOrigin(raw string) (string, bool) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Hostname() == "" || u.User != nil ||
		(u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" || u.Opaque != "" ||
		strings.ContainsAny(raw, "*?#\\ ") {
		return "", false
	}
	host := strings.ToLower(u.Host)
	if p := u.Port(); (u.Scheme == "https" && p == "443") || (u.Scheme == "http" && p == "80") {
		host = strings.TrimSuffix(host, ":"+p)
	}
	if strings.HasSuffix(host, ":") {
		return "", false
	}
	return u.Scheme + "://" + host, true
}

// embedded lets the origins of CALLBOOK_EMBED_ORIGINS frame the response
// (none: it stays unframable like every other page) and marks the request
// as the embedded flow, which render draws without the site's chrome.
func (s *Server) embedded(c *gin.Context) {
	h := c.Writer.Header()
	if len(s.embedOrigins) > 0 {
		h.Set("Content-Security-Policy", pagePolicy+"frame-ancestors "+strings.Join(s.embedOrigins, " "))
		// X-Frame-Options cannot name origins; frame-ancestors replaces it.
		h.Del("X-Frame-Options")
	}
	c.Set(ctxEmbed, true)
	c.Next()
}

// embedView is what the embedded pages carry from step to step: the page
// that embeds them and its origin, the only one they talk to.
type embedView struct {
	Origin  string // an allowed origin the frame posts messages to; "" for none
	PageURL string // the embedding page, recorded on the lead
}

// embedViewOf returns the embedded flow's state for this request, or nil
// outside it. GETs carry it in the query, the form in its fields.
func (s *Server) embedViewOf(c *gin.Context) *embedView {
	if !c.GetBool(ctxEmbed) {
		return nil
	}
	get := func(k string) string {
		if v := c.Query(k); v != "" {
			return v
		}
		return c.Request.PostForm.Get(k)
	}
	v := &embedView{}
	if o, ok := canonicalOrigin(get("origin")); ok && slices.Contains(s.embedOrigins, o) {
		v.Origin = o
	}
	// A page address that is not a plain web URL is left out rather than
	// refusing the visitor's booking over it.
	verr := &models.ValidationError{}
	if p := models.CheckText(verr, "page", get("page"), 0, 2000); p != "" && verr.Err() == nil {
		if u, err := url.Parse(p); err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != "" {
			v.PageURL = p
		}
	}
	return v
}

// keepEmbedState adds the embedded flow's state to the parameters the slot
// picker's links and forms carry.
func (s *Server) keepEmbedState(c *gin.Context, keep url.Values) {
	if v := s.embedViewOf(c); v != nil {
		// A frame on another site may not keep cookies: its links carry
		// the language instead.
		keep.Set("lang", s.chooseLanguage(c, ""))
		if v.Origin != "" {
			keep.Set("origin", v.Origin)
		}
		if v.PageURL != "" {
			keep.Set("page", v.PageURL)
		}
	}
}

// markEmbedded records on a booking request made in the frame that it came
// through the embedded form, and from which page.
func (s *Server) markEmbedded(c *gin.Context, req *models.BookingRequest) {
	if v := s.embedViewOf(c); v != nil {
		req.Source, req.PageURL = models.SourceEmbed, v.PageURL
	}
}

// confirmationPath is where a new booking's visitor goes: the confirmation
// page, inside the frame for the embedded flow (which then tells the
// embedding page about the booking).
func (s *Server) confirmationPath(c *gin.Context, token string) string {
	v := s.embedViewOf(c)
	if v == nil {
		return "/bookings/" + token
	}
	q := url.Values{"done": {"booked"}}
	if v.Origin != "" {
		q.Set("origin", v.Origin)
	}
	return "/embed/bookings/" + token + "?" + q.Encode()
}
