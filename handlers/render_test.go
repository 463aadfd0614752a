package handlers

import (
	"io/fs"
	"path"
	"testing"

	"github.com/callbook/callbook/locale"
	"github.com/callbook/callbook/web"
)

// TestPages_EveryPageParses parses every page of every set, as a replica
// would on its first render, so a broken template fails here rather than
// on a visitor's request. Each page must keep its own title and content
// beside its set's layout and the partials.
func TestPages_EveryPageParses(t *testing.T) {
	cat, err := locale.Load()
	if err != nil {
		t.Fatal(err)
	}
	p, err := loadPages(cat)
	if err != nil {
		t.Fatal(err)
	}
	want := 0
	for _, ps := range pageSets {
		files, _ := fs.Glob(web.FS, "templates/"+ps.pages+"/*.html")
		contents := map[string]string{}
		for _, f := range files {
			if path.Base(f) == "layout.html" {
				continue
			}
			want++
			name := ps.name + "/" + path.Base(f)
			tpl, err := p.pageIn(name, "en")
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			for _, def := range []string{"layout", "title", "content", "picker-times", "field"} {
				if tpl.Lookup(def) == nil {
					t.Errorf("%s: no %q template", name, def)
				}
			}
			content := tpl.Lookup("content").Tree.Root.String()
			if other, seen := contents[content]; seen {
				t.Errorf("%s has the content of %s", name, other)
			}
			contents[content] = name
			again, _ := p.pageIn(name, "en")
			if again != tpl {
				t.Errorf("%s parsed twice", name)
			}
		}
	}
	if len(p.byName) != want || want < 20 {
		t.Fatalf("%d pages listed, %d page files in the sets", len(p.byName), want)
	}
	if _, err := p.pageIn("public/nowhere.html", "en"); err == nil {
		t.Fatal("a page that does not exist was found")
	}
}
