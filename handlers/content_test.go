package handlers

import (
	"net/http"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/callbook/callbook/models"
	"github.com/callbook/callbook/store"
	"github.com/callbook/callbook/web"
)

func TestLoadContent_BuiltInRolesAreComplete(t *testing.T) {
	c, err := LoadContent(web.Content())
	if err != nil {
		t.Fatal(err)
	}
	be, se := c.Role("backend-engineer"), c.Role("software-engineer")
	if be == nil || se == nil {
		t.Fatal("built-in roles missing")
	}
	if be.MonthlyOpenings != 236 || se.MonthlyOpenings != 5786 || be.Pay.Range() != "$130K–$360K+" ||
		len(be.Skills) < 6 || len(be.Employers) != 8 || len(be.FAQ) == 0 || be.Recommend == nil || be.Recommend.Slug != "software-engineer" {
		t.Fatalf("backend engineer content: %+v", be)
	}
}

func TestLoadContent_RejectsBrokenFolders(t *testing.T) {
	cases := map[string]fstest.MapFS{
		"empty":               {},
		"no title":            {"a.yaml": {Data: []byte("slug: a\n")}},
		"bad slug":            {"a.yaml": {Data: []byte("slug: A B\ntitle: A\n")}},
		"unknown field":       {"a.yaml": {Data: []byte("slug: a\ntitle: A\nsalary: 3\n")}},
		"duplicate slug":      {"a.yaml": {Data: []byte("slug: a\ntitle: A\n")}, "b.yaml": {Data: []byte("slug: a\ntitle: B\n")}},
		"missing recommended": {"a.yaml": {Data: []byte("slug: a\ntitle: A\nrecommend: {slug: zz, note: x}\n")}},
	}
	for name, fsys := range cases {
		if _, err := LoadContent(fsys); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestContentDir_ReplacesTheBuiltInRoles(t *testing.T) {
	content, err := LoadContent(fstest.MapFS{
		"data-engineer.yaml": {Data: []byte("title: Data Engineer\nmonthly_openings: 900\ncategory: Data\ntagline: Pipelines.\n" +
			"pay: {low_k: 120, high_k: 300, plus: true}\n")},
	})
	if err != nil {
		t.Fatal(err)
	}
	e := newTestServer(t, store.DialectSQLite, func(o *Options) { o.Content = content })
	if w := e.do(http.MethodGet, "/roles/data-engineer", nil); w.Code != 200 || !strings.Contains(w.Body.String(), "Data Engineer") {
		t.Fatalf("custom role: %d", w.Code)
	}
	if w := e.do(http.MethodGet, "/roles/backend-engineer", nil); w.Code != 404 {
		t.Fatalf("built-in role still served: %d", w.Code)
	}
	if w := e.do(http.MethodGet, "/api/v1/roles", nil); !strings.Contains(w.Body.String(), `"slug":"data-engineer"`) || strings.Contains(w.Body.String(), "backend") {
		t.Fatalf("roles API: %s", w.Body)
	}
}

// The built-in Backend Engineer page follows up in each of its languages,
// with the same follow-ups (one per trigger) under the same ids.
func TestContent_BuiltInFollowupsInEveryLanguage(t *testing.T) {
	c, err := LoadContent(web.Content())
	if err != nil {
		t.Fatal(err)
	}
	all := c.Followups()
	ids := func(fs []models.Followup) string {
		var out []string
		for _, f := range fs {
			out = append(out, f.ID+"/"+f.When)
		}
		return strings.Join(out, " ")
	}
	en := all["backend-engineer"]
	if len(en) != 4 {
		t.Fatalf("%d English follow-ups, want one per trigger", len(en))
	}
	for lang, greeting := range map[string]string{"de": "Guten Tag", "es": "Hola"} {
		fs := all[store.FollowupsKey("backend-engineer", lang)]
		if ids(fs) != ids(en) {
			t.Errorf("%s follow-ups %q, want the English ones' %q", lang, ids(fs), ids(en))
		}
		for _, f := range fs {
			if !strings.HasPrefix(f.Body, greeting) {
				t.Errorf("%s follow-up %s starts %q, want %q", lang, f.ID, f.Body[:20], greeting)
			}
		}
	}
}
