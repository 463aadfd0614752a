// Package locale is the visitor's language: the message catalogs of
// web/i18n, the choice of a language from what a request says, and dates
// and times written as a native speaker writes them. Visitors read English,
// German or Spanish; the staff area stays English.
package locale

import (
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strings"

	"github.com/goccy/go-yaml"
	"github.com/nicksnyder/go-i18n/v2/i18n"
	"golang.org/x/text/language"

	"github.com/callbook/callbook/web"
)

// Languages are the languages visitors can read, English first: it is
// what a catalog falls back to.
var Languages = []string{"en", "de", "es"}

// Names are the languages as their speakers name them, for the switch on
// every public page.
var Names = map[string]string{"en": "English", "de": "Deutsch", "es": "Español"}

// Supported reports whether code is one of Languages.
func Supported(code string) bool { return slices.Contains(Languages, code) }

// Catalog holds the messages of every language. It is read once and never
// changes, so it is safe for concurrent use.
type Catalog struct {
	bundle  *i18n.Bundle
	matcher language.Matcher
	langs   map[string]*Lang
}

// Load reads the built-in catalogs (web/i18n/<lang>.yaml).
func Load() (*Catalog, error) { return LoadFS(web.Messages()) }

// LoadFS reads one <lang>.yaml catalog per language from fsys.
func LoadFS(fsys fs.FS) (*Catalog, error) {
	b := i18n.NewBundle(language.English)
	b.RegisterUnmarshalFunc("yaml", yaml.Unmarshal)
	tags := make([]language.Tag, 0, len(Languages))
	c := &Catalog{bundle: b, langs: map[string]*Lang{}}
	for _, code := range Languages {
		name := code + ".yaml"
		raw, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil, fmt.Errorf("message catalog %s: %w", name, err)
		}
		if _, err := b.ParseMessageFileBytes(raw, path.Join("i18n", name)); err != nil {
			return nil, fmt.Errorf("message catalog %s: %w", name, err)
		}
		tags = append(tags, language.MustParse(code))
	}
	c.matcher = language.NewMatcher(tags)
	for _, code := range Languages {
		c.langs[code] = newLang(code, i18n.NewLocalizer(b, code))
	}
	return c, nil
}

// Lang returns the language with code; English for any other code.
func (c *Catalog) Lang(code string) *Lang {
	if l := c.langs[code]; l != nil {
		return l
	}
	return c.langs["en"]
}

// Match is the best of Languages for an Accept-Language header, or ""
// when the header names none of them (nor a close relative, such as de-AT
// for German).
func (c *Catalog) Match(acceptLanguage string) string {
	if strings.TrimSpace(acceptLanguage) == "" {
		return ""
	}
	prefs, _, err := language.ParseAcceptLanguage(acceptLanguage)
	if err != nil || len(prefs) == 0 {
		return ""
	}
	_, i, conf := c.matcher.Match(prefs...)
	if conf == language.No {
		return ""
	}
	return Languages[i]
}

// Messages lists every message id of a catalog with its text (the "other"
// form of plurals), for the tests that hold the catalogs complete.
func Messages(fsys fs.FS, code string) (map[string]string, error) {
	raw, err := fs.ReadFile(fsys, code+".yaml")
	if err != nil {
		return nil, err
	}
	var m map[string]any
	if err := yaml.Unmarshal(raw, &m); err != nil {
		return nil, err
	}
	out := map[string]string{}
	for id, v := range m {
		switch v := v.(type) {
		case string:
			out[id] = v
		case map[string]any:
			var parts []string
			for _, form := range []string{"zero", "one", "two", "few", "many", "other"} {
				if s, ok := v[form].(string); ok {
					parts = append(parts, s)
				}
			}
			out[id] = strings.Join(parts, "\n")
		default:
			return nil, fmt.Errorf("%s: message %s is neither text nor plural forms", code, id)
		}
	}
	return out, nil
}
