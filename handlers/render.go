package handlers

import (
	"bytes"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"net/url"
	"path"
	"strings"
	"sync"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/callbook/callbook/locale"
	"github.com/callbook/callbook/web"
)

// Page sets: each has a layout.html that defines "layout" and pages that
// define "title" and "content"; every set can use templates/partials. The
// embed set is the public pages in a layout without the site's header and
// footer, for the embedded booking flow.
var pageSets = []struct{ name, pages string }{{"public", "public"}, {"admin", "admin"}, {"embed", "public"}}

// pages are the page templates, each parsed on its first render: parsing
// them all at start allocated some 9 MB and kept 6 MB of parse trees, mostly
// for pages a replica rarely or never shows (the booking API renders none).
// A set's layout and the partials are parsed once, on the first render of
// one of its pages, and cloned for each page. The templates are built into
// the binary and TestPages_EveryPageParses parses every page, so a broken
// one fails the tests rather than a visitor's request.
// Public pages are parsed once per language, with the language's
// messages and date formats as template functions (localFuncs); staff
// pages only in English.
type pages struct {
	byName map[string]map[string]func() (*template.Template, error) // "public/book.html" → "de"
}

// loadPages lists every page of every set; parsing waits for page.
func loadPages(cat *locale.Catalog) (*pages, error) {
	p := &pages{byName: map[string]map[string]func() (*template.Template, error){}}
	partials, err := fs.Glob(web.FS, "templates/partials/*.html")
	if err != nil {
		return nil, err
	}
	for _, ps := range pageSets {
		files, err := fs.Glob(web.FS, "templates/"+ps.pages+"/*.html")
		if err != nil {
			return nil, err
		}
		layout := "templates/" + ps.name + "/layout.html"
		langs := locale.Languages
		if ps.name == "admin" {
			langs = []string{"en"}
		}
		for _, code := range langs {
			p.addSet(ps.name, layout, partials, files, cat.Lang(code))
		}
	}
	return p, nil
}

// addSet lists the pages of one set in one language.
func (p *pages) addSet(set, layout string, partials, files []string, lang *locale.Lang) {
	base := sync.OnceValues(func() (*template.Template, error) {
		t, err := template.New(path.Base(layout)).Funcs(templateFuncs).Funcs(localFuncs(lang)).
			ParseFS(web.FS, append([]string{layout}, partials...)...)
		if err != nil {
			return nil, fmt.Errorf("template %s: %w", layout, err)
		}
		return t, nil
	})
	for _, f := range files {
		if path.Base(f) == "layout.html" {
			continue
		}
		name := set + "/" + path.Base(f)
		if p.byName[name] == nil {
			p.byName[name] = map[string]func() (*template.Template, error){}
		}
		p.byName[name][lang.Code] = sync.OnceValues(func() (*template.Template, error) {
			b, err := base()
			if err != nil {
				return nil, err
			}
			// A page must not be parsed into the shared set: its
			// "title" and "content" would replace another page's.
			t, err := b.Clone()
			if err == nil {
				t, err = t.ParseFS(web.FS, f)
			}
			if err != nil {
				return nil, fmt.Errorf("template %s: %w", f, err)
			}
			return t, nil
		})
	}
}

// pageIn returns the named page in a language, parsing it on first use;
// staff pages exist only in English.
func (p *pages) pageIn(name, lang string) (*template.Template, error) {
	byLang := p.byName[name]
	load := byLang[lang]
	if load == nil {
		load = byLang["en"]
	}
	if load == nil {
		return nil, errors.New("no such template")
	}
	return load()
}

// localFuncs are the template functions that speak a language: t and tn
// (messages, see locale.Lang.T and N) and the date formats.
func localFuncs(l *locale.Lang) template.FuncMap {
	return template.FuncMap{
		"t":           l.T,
		"tn":          l.N,
		"fmtDay":      l.Day,
		"fmtShortDay": l.ShortDay,
		"fmtWeekday":  l.Weekday,
		"fmtMonth":    l.Month,
		"weekdays":    l.WeekdayNames,
		"thousands":   l.Thousands,
		"localError":  func(msg string) string { return visitorProblem(l, msg) },
	}
}

// templateFuncs are the helpers every page template may call.
var templateFuncs = template.FuncMap{
	"inZone": func(t time.Time, tz string) time.Time {
		if loc, err := time.LoadLocation(tz); err == nil {
			return t.In(loc)
		}
		return t
	},
	"fmtTime":     func(t time.Time) string { return t.Format("15:04") },
	"fmtDateTime": func(t time.Time) string { return t.Format("Mon 2 Jan 2006, 15:04") },
	"fmtZone":     func(t time.Time) string { z, _ := t.Zone(); return z },
	"zoneName":    zoneLabel,
	"zoneAt":      zoneAt,
	"rfc3339":     func(t time.Time) string { return t.Format(time.RFC3339) },
	"thousands":   thousands,
	"join":        strings.Join,
	"lower":       strings.ToLower,
	// languageName names a visitor's language for staff, in English.
	"languageName": func(code string) string {
		if n, ok := map[string]string{"en": "English", "de": "German", "es": "Spanish"}[code]; ok {
			return n
		}
		return code
	},
	"hasPrefix": strings.HasPrefix,
	"query":     func(v url.Values) string { return v.Encode() },
	"add":       func(a, b int) int { return a + b },
	"dict": func(kv ...any) map[string]any {
		m := map[string]any{}
		for i := 0; i+1 < len(kv); i += 2 {
			m[fmt.Sprint(kv[i])] = kv[i+1]
		}
		return m
	},
	"deref": func(p *time.Time) time.Time {
		if p == nil {
			return time.Time{}
		}
		return *p
	},
}

// thousands formats 5786 as "5,786".
func thousands(n int) string {
	s := fmt.Sprint(n)
	var b strings.Builder
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 && r != '-' {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// render executes a page into a buffer first, so a template error becomes
// a clean 500 instead of half a page.
func (s *Server) render(c *gin.Context, status int, page string, data gin.H) {
	if data == nil {
		data = gin.H{}
	}
	if v := s.embedViewOf(c); v != nil {
		data["Embed"] = v
		page = "embed/" + path.Base(page)
	}
	lang := "en"
	public := strings.HasPrefix(page, "public/") || strings.HasPrefix(page, "embed/")
	if public {
		lang = s.chooseLanguage(c, "")
	}
	t, err := s.pages.pageIn(page, lang)
	if err != nil {
		s.log.Error("render", "page", page, "err", err)
		c.String(500, "internal error")
		return
	}
	data["Lang"] = lang
	data["Roles"] = s.content.RolesIn(lang)
	data["Path"] = c.Request.URL.Path
	data["Year"] = s.now().Year()
	switch {
	case public:
		data["Languages"] = s.languageLinks(c, lang)
		s.addMeetingData(c, data)
	case strings.HasPrefix(page, "admin/"):
		// Staff pages show times in the business zone, named as people
		// read it.
		loc := s.store.Location()
		data["Loc"], data["Zone"] = loc, zoneLabel(loc.String())
	}
	if u, ok := c.Get(ctxUser); ok {
		data["User"] = u
	}
	if tok, ok := c.Get(ctxCSRF); ok {
		data["CSRF"] = tok
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout", data); err != nil {
		s.log.Error("render", "page", page, "err", err)
		c.String(500, "internal error")
		return
	}
	c.Data(status, "text/html; charset=utf-8", buf.Bytes())
}

// Context keys set by the staff sign-in middleware.
const (
	ctxUser = "staff_user"
	ctxCSRF = "csrf_token"
	// ctxSessionID: the stored id of the request's session (cookie sign-ins only).
	ctxSessionID = "staff_session_id"
	// ctxSignedInAt: when the request's session was started by a sign-in.
	ctxSignedInAt = "staff_signed_in_at"
)
