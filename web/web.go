// Package web embeds Callbook's templates, static assets and built-in role
// pages, so the binary runs with nothing beside it.
package web

import (
	"embed"
	"io/fs"
)

// FS holds templates/ (pages, admin pages and emails), static/ (CSS, JS,
// images) and content/ (one file per role page).
//
//go:embed templates static content i18n
var FS embed.FS

// Content is the built-in role pages folder.
func Content() fs.FS {
	sub, err := fs.Sub(FS, "content")
	if err != nil {
		panic(err) // the folder is embedded above
	}
	return sub
}

// Messages is the folder of message catalogs, one file per language
// (<lang>.yaml): every word a visitor reads outside the role pages.
func Messages() fs.FS {
	sub, err := fs.Sub(FS, "i18n")
	if err != nil {
		panic(err) // the folder is embedded above
	}
	return sub
}
