package handlers

import (
	"net/http"
	"regexp"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/callbook/callbook/locale"
)

// langCookie keeps the language a visitor picked with ?lang= for the
// pages after it.
const langCookie = "callbook_lang"

// ctxLang is the request's chosen language, set by chooseLanguage.
const ctxLang = "visitor_lang"

// chooseLanguage decides a public page's language, in this order: ?lang=
// (kept in a cookie, which counts as the same choice on later pages), the
// page's own language (a role file's language:, or the language a
// booking was made in), the best match of Accept-Language, and the
// configured default. It remembers the choice for the rest of the request
// and returns it.
func (s *Server) chooseLanguage(c *gin.Context, own string) string {
	if v, ok := c.Get(ctxLang); ok {
		return v.(string)
	}
	c.Writer.Header().Add("Vary", "Accept-Language, Cookie")
	lang := ""
	if q := c.Query("lang"); locale.Supported(q) {
		lang = q
		http.SetCookie(c.Writer, &http.Cookie{Name: langCookie, Value: q, Path: "/", MaxAge: 365 * 24 * 3600,
			HttpOnly: true, Secure: s.secure, SameSite: http.SameSiteLaxMode})
	} else if ck, err := c.Cookie(langCookie); err == nil && locale.Supported(ck) {
		lang = ck
	} else if locale.Supported(own) {
		lang = own
	} else if m := s.catalog.Match(c.GetHeader("Accept-Language")); m != "" {
		lang = m
	} else {
		lang = s.defaultLang
	}
	c.Set(ctxLang, lang)
	c.Header("Content-Language", lang)
	return lang
}

// roleInLanguage is the role page of the URL's slug in the visitor's
// language (its file's language: counts when the visitor has not chosen),
// and that language; nil when there is no such role page.
func (s *Server) roleInLanguage(c *gin.Context) (*Role, string) {
	base := s.content.Role(c.Param("slug"))
	if base == nil {
		return nil, s.chooseLanguage(c, "")
	}
	lang := s.chooseLanguage(c, base.Language)
	return s.content.RoleIn(base.Slug, lang), lang
}

// lang is the request's language as chosen for its page.
func (s *Server) lang(c *gin.Context) *locale.Lang { return s.catalog.Lang(s.chooseLanguage(c, "")) }

// apiLanguage is the language of a booking made through the API: the
// body's "language", else the best match of Accept-Language, else the
// default. A language the service does not speak is the booking's
// validation problem (validate).
func (s *Server) apiLanguage(c *gin.Context, body string) string {
	if body = strings.TrimSpace(body); body != "" {
		return body
	}
	if m := s.catalog.Match(c.GetHeader("Accept-Language")); m != "" {
		return m
	}
	return s.defaultLang
}

// langLink is one entry of the language switch.
type langLink struct {
	Code, Name, URL string
	Current         bool
}

// languageLinks are the links to this page in every language: the page's
// own address with ?lang= set, so they work without JavaScript. In the
// embedded flow they keep only the embedding page and origin it accepted.
func (s *Server) languageLinks(c *gin.Context, current string) []langLink {
	u := c.Request.URL
	out := make([]langLink, 0, len(locale.Languages))
	for _, code := range locale.Languages {
		q := u.Query()
		q.Del("origin")
		q.Del("page")
		s.keepEmbedState(c, q)
		q.Set("lang", code)
		out = append(out, langLink{Code: code, Name: locale.Names[code], URL: u.Path + "?" + q.Encode(), Current: code == current})
	}
	return out
}

// alternates are the absolute addresses of a page in each language, for
// hreflang links.
func (s *Server) alternates(path string) []langLink {
	out := make([]langLink, 0, len(locale.Languages))
	for _, code := range locale.Languages {
		out = append(out, langLink{Code: code, URL: s.absURL(path) + "?lang=" + code})
	}
	return out
}

// problemMessages maps the problems the booking rules name (in English,
// as the API says them) to their messages for visitors.
var problemMessages = map[string]string{
	"is required":              "problem_required",
	"not a valid address":      "problem_email",
	"pick a time":              "problem_pick_time",
	"pick another time":        "problem_pick_another",
	"pick a new time":          "problem_pick_new",
	"is too short":             "problem_too_short",
	"must be a number":         "problem_number",
	"must be yes or no":        "problem_yes_no",
	"must be valid UTF-8 text": "problem_text",
	"must not contain line breaks or control characters":             "problem_control",
	"must not contain control characters":                            "problem_control",
	"must be a phone number: digits, spaces and + - ( ) only":        "problem_phone",
	"please agree to be contacted about your call":                   "problem_consent",
	"must be an IANA time zone such as Europe/Berlin":                "problem_timezone",
	"must be a web address starting with https://":                   "problem_url",
	"is not a question on this page":                                 "problem_unknown_question",
	"is already the time of this call; pick another time":            "problem_same_time",
	"must be an RFC 3339 time, as listed by /api/v1/slots":           "problem_pick_time",
	"is required: your coach will phone you at the time of the call": "problem_phone_needed",
}

var (
	atMostPattern = regexp.MustCompile(`^must be at most (\d+) characters$`)
	oneOfPattern  = regexp.MustCompile(`^must be one of: (.*)$`)
)

// visitorProblem is a field's problem in the visitor's language; one the
// catalogs do not know is shown as the rules say it.
func visitorProblem(l *locale.Lang, msg string) string {
	if id, ok := problemMessages[msg]; ok {
		return l.T(id)
	}
	if m := atMostPattern.FindStringSubmatch(msg); m != nil {
		return l.T("problem_at_most", "Max", m[1])
	}
	if m := oneOfPattern.FindStringSubmatch(msg); m != nil {
		return l.T("problem_one_of", "Options", m[1])
	}
	if strings.HasPrefix(msg, "is too soon") {
		return l.T("problem_too_soon")
	}
	if strings.HasPrefix(msg, "is required") {
		return l.T("problem_required")
	}
	return msg
}
