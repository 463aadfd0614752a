package handlers

import (
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"unicode/utf8"

	"github.com/gin-gonic/gin"
)

// Text a visitor sends reaches the database as it came, and PostgreSQL
// refuses two kinds of it outright: a NUL character (its text types cannot
// hold one) and bytes that are not UTF-8. SQLite stores either without a
// word, so one database would answer 500 where the other works. No form,
// link or client of this service sends such text on purpose; guardInput
// refuses it with 400 before any handler runs, for the path, the query,
// the headers the service reads and posted forms. JSON bodies need no such
// guard: their decoder turns bytes that are not UTF-8 into U+FFFD, and the
// field rules refuse an escaped NUL (\u0000) as a control character.

// refusedHeaders are the request headers the service stores or looks up:
// text in them that a database cannot take is refused.
var refusedHeaders = []string{"Idempotency-Key", "Referer"}

// guardInput refuses requests carrying text no database here can take,
// and reads a posted form whole first, so a form cut short or too large is
// told apart from one that is merely malformed: 400 (errBodyCutShort), 413,
// or 400. Handlers then read the parsed form. The User-Agent, which is
// only kept as a note on sessions, is cleaned instead.
func (s *Server) guardInput(c *gin.Context) {
	r := c.Request
	if bad := unsafeText(r.URL.Path); bad {
		s.fail(c, badRequest("the address holds a NUL character or bytes that are not UTF-8"))
		return
	}
	if name, bad := unsafeValues(r.URL.Query()); bad {
		s.fail(c, badRequest(fmt.Sprintf("the query parameter %s holds a NUL character or bytes that are not UTF-8", name)))
		return
	}
	for _, h := range refusedHeaders {
		if unsafeText(r.Header.Get(h)) {
			s.fail(c, badRequest("the "+h+" header holds bytes that are not UTF-8"))
			return
		}
	}
	if ua := r.Header.Get("User-Agent"); unsafeText(ua) {
		r.Header.Set("User-Agent", cleanText(ua))
	}
	if err := readPostedForm(r); err != nil {
		s.fail(c, err)
		return
	}
	if name, bad := unsafeValues(r.PostForm); bad {
		s.fail(c, badRequest(fmt.Sprintf("the form field %s holds a NUL character or bytes that are not UTF-8", name)))
		return
	}
	c.Next()
}

// readPostedForm parses the body of a form post (URL-encoded or multipart;
// a multipart form's values land in PostForm too), telling a failure to
// read the body (errBodyCutShort, or the body limit's error) from one to
// parse it (a plain 400). Other bodies are left for their handlers.
func readPostedForm(r *http.Request) error {
	if r.Body == nil || r.Body == http.NoBody ||
		(r.Method != http.MethodPost && r.Method != http.MethodPut && r.Method != http.MethodPatch) {
		return nil
	}
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if ct != "application/x-www-form-urlencoded" && ct != "multipart/form-data" {
		return nil
	}
	body := &readErrorOf{ReadCloser: r.Body}
	r.Body = body
	var err error
	if ct == "multipart/form-data" {
		err = r.ParseMultipartForm(maxBody)
	} else {
		err = r.ParseForm()
	}
	switch {
	case body.err != nil:
		return bodyReadError(body.err)
	case err != nil:
		return badRequest("the form could not be read")
	}
	return nil
}

// readErrorOf keeps the first error reading the body gave other than its
// end, which the form parsers would otherwise report as a malformed form.
type readErrorOf struct {
	io.ReadCloser
	err error
}

func (b *readErrorOf) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if err != nil && err != io.EOF && b.err == nil {
		b.err = err
	}
	return n, err
}

// unsafeText reports whether s holds a NUL character or is not UTF-8.
func unsafeText(s string) bool {
	return strings.IndexByte(s, 0) >= 0 || !utf8.ValidString(s)
}

// cleanText drops NUL characters and replaces bytes that are not UTF-8.
func cleanText(s string) string {
	return strings.ReplaceAll(strings.ToValidUTF8(s, "\uFFFD"), "\x00", "")
}

// unsafeValues finds a name or value in v that unsafeText refuses, and
// returns the name, quoted for a message.
func unsafeValues(v url.Values) (string, bool) {
	for k, vals := range v {
		bad := unsafeText(k)
		for _, x := range vals {
			bad = bad || unsafeText(x)
		}
		if bad {
			return quoteName(k), true
		}
	}
	return "", false
}

// quoteName quotes a field name for a message, cleaned and cut short.
func quoteName(k string) string {
	k = cleanText(k)
	if len(k) > 40 {
		k = strings.ToValidUTF8(k[:40], "") + "…"
	}
	return fmt.Sprintf("%q", k)
}
