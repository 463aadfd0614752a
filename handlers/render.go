package handlers

import (
	"bytes"
	"fmt"
	"html/template"
	"io/fs"
	"net/url"
	"path"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/callbook/callbook/web"
)

// Page sets: each has a layout.html that defines "layout" and pages that
// define "title" and "content"; every set can use templates/partials. The
// embed set is the public pages in a layout without the site's header and
// footer, for the embedded booking flow.
var pageSets = []struct{ name, pages string }{{"public", "public"}, {"admin", "admin"}, {"embed", "public"}}

// loadPages parses every page with its set's layout and the partials.
func loadPages() (map[string]*template.Template, error) {
	pages := map[string]*template.Template{}
	partials, _ := fs.Glob(web.FS, "templates/partials/*.html")
	for _, ps := range pageSets {
		set := ps.name
		files, err := fs.Glob(web.FS, "templates/"+ps.pages+"/*.html")
		if err != nil {
			return nil, err
		}
		layout := "templates/" + set + "/layout.html"
		for _, f := range files {
			if path.Base(f) == "layout.html" {
				continue
			}
			names := append([]string{layout}, partials...)
			names = append(names, f)
			t, err := template.New(path.Base(f)).Funcs(templateFuncs).ParseFS(web.FS, names...)
			if err != nil {
				return nil, fmt.Errorf("template %s: %w", f, err)
			}
			pages[set+"/"+path.Base(f)] = t
		}
	}
	return pages, nil
}

// templateFuncs are the helpers every page template may call.
var templateFuncs = template.FuncMap{
	"inZone": func(t time.Time, tz string) time.Time {
		if loc, err := time.LoadLocation(tz); err == nil {
			return t.In(loc)
		}
		return t
	},
	"fmtDay":      func(t time.Time) string { return t.Format("Monday, 2 January 2006") },
	"fmtShortDay": func(t time.Time) string { return t.Format("Mon 2 Jan") },
	"fmtTime":     func(t time.Time) string { return t.Format("15:04") },
	"fmtDateTime": func(t time.Time) string { return t.Format("Mon 2 Jan 2006, 15:04") },
	"fmtZone":     func(t time.Time) string { z, _ := t.Zone(); return z },
	"zoneName":    zoneLabel,
	"zoneAt":      zoneAt,
	"rfc3339":     func(t time.Time) string { return t.Format(time.RFC3339) },
	"thousands":   thousands,
	"join":        strings.Join,
	"query":       func(v url.Values) string { return v.Encode() },
	"add":         func(a, b int) int { return a + b },
	"phoneHint":   phoneHint,
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
	t := s.pages[page]
	if t == nil {
		s.log.Error("no such template", "page", page)
		c.String(500, "internal error")
		return
	}
	data["Roles"] = s.content.Roles()
	data["Path"] = c.Request.URL.Path
	data["Year"] = s.now().Year()
	if strings.HasPrefix(page, "public/") || strings.HasPrefix(page, "embed/") {
		s.addMeetingData(c, data)
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
)
