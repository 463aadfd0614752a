package handlers

import (
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"sort"
	"strings"

	"github.com/goccy/go-yaml"

	"github.com/callbook/callbook/locale"
	"github.com/callbook/callbook/models"
)

// Role is one role page, as written in a content file (web/content/<slug>.yaml).
type Role struct {
	Slug            string   `yaml:"slug" json:"slug"`
	Title           string   `yaml:"title" json:"title"`
	Category        string   `yaml:"category" json:"-"`
	Aliases         []string `yaml:"aliases" json:"aliases"`
	MonthlyOpenings int      `yaml:"monthly_openings" json:"monthly_openings"`
	Tagline         string   `yaml:"tagline" json:"-"`
	Summary         []string `yaml:"summary" json:"-"`
	Work            []string `yaml:"work" json:"-"`
	Pay             Pay      `yaml:"pay" json:"-"`
	Skills          []Skill  `yaml:"skills" json:"-"`
	Employers       []string `yaml:"employers" json:"-"`
	BreakIn         []string `yaml:"break_in" json:"-"`
	FAQ             []QA     `yaml:"faq" json:"-"`
	// Recommend points a reader to a related role the coaches often advise.
	Recommend *Recommendation `yaml:"recommend" json:"-"`
	Order     int             `yaml:"order" json:"-"`
	// Questions are asked before the times; Routes send the answers to
	// named hosts or turn them away (see questions.go).
	Questions []Question `yaml:"questions" json:"questions"`
	Routes    []Route    `yaml:"routes" json:"-"`
	// Calls are the kinds of call the role offers; none: one discovery
	// call of the shared length (see kinds.go).
	Calls []models.CallKind `yaml:"calls" json:"-"`
	// FollowupFiles are the emails sent after a call's outcome, a cancel
	// or a turn-away, as written; Followups the same, checked.
	FollowupFiles []followupFile    `yaml:"followups" json:"-"`
	Followups     []models.Followup `yaml:"-" json:"-"`
	// Language is the language the role's pages are shown in when the
	// visitor has not picked one (en, de or es; empty: no preference).
	Language string `yaml:"language" json:"-"`
}

// Pay is a role's total compensation range, in thousands of US dollars.
type Pay struct {
	LowK  int    `yaml:"low_k"`
	HighK int    `yaml:"high_k"`
	Plus  bool   `yaml:"plus"` // the high end is open ("$360K+")
	Note  string `yaml:"note"`
}

// Range renders the pay range as "$130K–$360K+".
func (p Pay) Range() string {
	s := fmt.Sprintf("$%dK–$%dK", p.LowK, p.HighK)
	if p.Plus {
		s += "+"
	}
	return s
}

// Skill is one core skill and why it matters.
type Skill struct {
	Name   string `yaml:"name"`
	Detail string `yaml:"detail"`
}

// QA is one FAQ entry.
type QA struct {
	Q string `yaml:"q"`
	A string `yaml:"a"`
}

// Recommendation links one role page to another.
type Recommendation struct {
	Slug string `yaml:"slug"`
	Note string `yaml:"note"`
}

// Content is the set of role pages, by slug and in display order, and
// their versions in other languages (<slug>.<lang>.yaml).
type Content struct {
	bySlug map[string]*Role
	list   []*Role
	// byLang holds each language's versions by slug.
	byLang map[string]map[string]*Role
}

var slugPattern = regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*$`)

// LoadContent reads every *.yaml file at the root of fsys as a role page and
// checks them: a slug, a title, unique slugs, recommendations that exist.
// A file named <slug>.<lang>.yaml (lang one of locale.Languages) is that
// role page's text in that language; a role without one is shown from
// <slug>.yaml in every language.
func LoadContent(fsys fs.FS) (*Content, error) {
	files, err := fs.Glob(fsys, "*.yaml")
	if err != nil {
		return nil, err
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("no role pages (*.yaml) found")
	}
	c := &Content{bySlug: map[string]*Role{}, byLang: map[string]map[string]*Role{}}
	var versions []string
	for _, f := range files {
		if _, lang := versionOf(f); lang != "" {
			versions = append(versions, f)
			continue
		}
		r, err := readRole(fsys, f, strings.TrimSuffix(path.Base(f), ".yaml"))
		if err != nil {
			return nil, err
		}
		if c.bySlug[r.Slug] != nil {
			return nil, fmt.Errorf("%s: slug %q is used twice", f, r.Slug)
		}
		c.bySlug[r.Slug] = r
		c.list = append(c.list, r)
	}
	for _, f := range versions {
		slug, lang := versionOf(f)
		base := c.bySlug[slug]
		if base == nil {
			return nil, fmt.Errorf("%s: no %s.yaml to be a version of", f, slug)
		}
		r, err := readRole(fsys, f, slug)
		if err != nil {
			return nil, err
		}
		if r.Slug != slug {
			return nil, fmt.Errorf("%s: slug must be %q, as in the file name", f, slug)
		}
		if r.Order == 0 {
			r.Order = base.Order
		}
		if err := translateCalls(r, base); err != nil {
			return nil, fmt.Errorf("%s: %w", f, err)
		}
		r.Language = lang
		if c.byLang[lang] == nil {
			c.byLang[lang] = map[string]*Role{}
		}
		c.byLang[lang][slug] = r
	}
	for _, r := range c.list {
		if r.Recommend != nil && c.bySlug[r.Recommend.Slug] == nil {
			return nil, fmt.Errorf("role %s recommends %q, which does not exist", r.Slug, r.Recommend.Slug)
		}
		if r.Language != "" && !locale.Supported(r.Language) {
			return nil, fmt.Errorf("role %s: language %q is not one of %s", r.Slug, r.Language, strings.Join(locale.Languages, ", "))
		}
	}
	sort.SliceStable(c.list, func(i, j int) bool {
		if c.list[i].Order != c.list[j].Order {
			return c.list[i].Order < c.list[j].Order
		}
		return c.list[i].Title < c.list[j].Title
	})
	return c, nil
}

// versionOf splits "backend-engineer.de.yaml" into its slug and language;
// lang is "" for a role page's default file.
func versionOf(file string) (slug, lang string) {
	name := strings.TrimSuffix(path.Base(file), ".yaml")
	i := strings.LastIndexByte(name, '.')
	if i < 0 || !locale.Supported(name[i+1:]) {
		return name, ""
	}
	return name[:i], name[i+1:]
}

// readRole reads and checks one role page file.
func readRole(fsys fs.FS, f, slug string) (*Role, error) {
	b, err := fs.ReadFile(fsys, f)
	if err != nil {
		return nil, err
	}
	var r Role
	if err := yaml.UnmarshalWithOptions(b, &r, yaml.Strict()); err != nil {
		return nil, fmt.Errorf("%s: %w", f, err)
	}
	if r.Slug == "" {
		r.Slug = slug
	}
	if !slugPattern.MatchString(r.Slug) || r.Title == "" {
		return nil, fmt.Errorf("%s: needs a lower-case slug and a title", f)
	}
	if err := checkQuestions(&r); err != nil {
		return nil, fmt.Errorf("%s: %w", f, err)
	}
	if _, lang := versionOf(f); lang == "" { // a version's kinds are the default file's (translateCalls)
		if err := models.CheckCallKinds(r.Calls); err != nil {
			return nil, fmt.Errorf("%s: %w", f, err)
		}
	}
	if err := checkFollowups(&r); err != nil {
		return nil, fmt.Errorf("%s: %w", f, err)
	}
	return &r, nil
}

// Role returns the role page with slug, or nil.
func (c *Content) Role(slug string) *Role { return c.bySlug[slug] }

// Roles lists the role pages in display order.
func (c *Content) Roles() []*Role { return c.list }

// RoleIn returns the role page with slug in lang: its <slug>.<lang>.yaml
// version when there is one, else the default; nil when there is no such
// role page.
func (c *Content) RoleIn(slug, lang string) *Role {
	if r := c.byLang[lang][slug]; r != nil {
		return r
	}
	return c.bySlug[slug]
}

// RolesIn lists the role pages in display order, each in lang where it
// has a version in lang.
func (c *Content) RolesIn(lang string) []*Role {
	if len(c.byLang[lang]) == 0 {
		return c.list
	}
	out := make([]*Role, len(c.list))
	for i, r := range c.list {
		out[i] = c.RoleIn(r.Slug, lang)
	}
	return out
}
