package mailer

import (
	"bytes"
	"errors"
	"fmt"
	htmltemplate "html/template"
	"net/mail"
	"net/url"
	"slices"
	"strings"
	"sync"
	texttemplate "text/template"
	"time"
	"unicode/utf8"

	"github.com/callbook/callbook/locale"
	"github.com/callbook/callbook/models"
	"github.com/callbook/callbook/web"
)

// templateDir is where the email templates live inside web.FS.
const templateDir = "templates/email/"

// templateKinds maps each email kind to its template files' base name.
// Every reminder-<offset> kind shares "reminder".
func templateBase(kind string) string {
	if strings.HasPrefix(kind, models.MailReminderPrefix) {
		return "reminder"
	}
	if strings.HasPrefix(kind, models.MailFollowupPrefix) {
		return "followup"
	}
	return kind
}

// templateBases lists every template pair the Renderer parses at start.
func templateBases() []string {
	return append(visitorBases(), models.MailHostNotice, models.MailDigest, models.MailLeadAssigned)
}

// visitorBases are the emails to visitors, written in each of their
// languages; the others go to staff, in English.
func visitorBases() []string {
	return []string{models.MailConfirmation, models.MailReschedule, models.MailCancellation, models.MailHostChanged, "reminder", "followup", models.MailHostNoShow, models.MailBookingLink}
}

// RendererOptions configure a Renderer.
type RendererOptions struct {
	// BaseURL is the absolute URL links and calendar UIDs are built on.
	BaseURL string
	// From is the sender, also the calendar invites' organizer.
	From string
	// Location is the business time zone, used for staff emails.
	Location *time.Location
	// Token derives a booking's visitor token from its UID
	// (store.Store.BookingToken), for manage links.
	Token func(uid string) string
	// Now stamps calendar files made by InviteICS; time.Now when nil.
	Now func() time.Time
	// Catalog holds the visitors' languages; the built-in one when nil.
	Catalog *locale.Catalog
}

// Renderer turns MailData snapshots into emails and calendar files. It is
// safe for concurrent use; its templates are fixed by NewRenderer.
type Renderer struct {
	baseURL string
	uidHost string
	from    *mail.Address
	loc     *time.Location
	token   func(string) string
	now     func() time.Time
	catalog *locale.Catalog
	kinds   map[string]kindTemplates // by base name and language: "confirmation/de"
	zones   sync.Map                 // IANA name → *time.Location, so tzdata is read once per zone
}

type kindTemplates struct {
	text *texttemplate.Template
	html *htmltemplate.Template
}

// Rendered is one email as sent: subject, both bodies and, for emails
// about a change to a booking, its calendar file.
type Rendered struct {
	Subject string
	Text    string
	HTML    string
	// ICS is invite.ics, or nil for kinds that carry none.
	ICS []byte
	// ICSMethod is MethodRequest or MethodCancel when ICS is set.
	ICSMethod string
	// ReplyTo are the addresses the Reply-To header names, if any.
	ReplyTo []string
	// UnsubscribeURL is the one-click unsubscribe link of a follow-up
	// email, for its List-Unsubscribe header; "" for every other kind.
	UnsubscribeURL string
}

// NewRenderer parses every email template from web.FS, so a broken template
// stops start-up rather than a send.
func NewRenderer(opts RendererOptions) (*Renderer, error) {
	base := strings.TrimRight(opts.BaseURL, "/")
	u, err := url.Parse(base)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return nil, fmt.Errorf("base URL %q must be absolute, as in https://book.example.com", opts.BaseURL)
	}
	from, err := mail.ParseAddress(opts.From)
	if err != nil {
		return nil, fmt.Errorf("sender %q is not an email address: %w", opts.From, err)
	}
	if opts.Token == nil {
		return nil, errors.New("mailer: RendererOptions.Token is required")
	}
	r := &Renderer{
		baseURL: base, uidHost: u.Hostname(), from: from, loc: opts.Location,
		token: opts.Token, now: opts.Now, kinds: map[string]kindTemplates{},
	}
	if r.loc == nil {
		r.loc = time.UTC
	}
	if r.now == nil {
		r.now = time.Now
	}
	if r.catalog = opts.Catalog; r.catalog == nil {
		if r.catalog, err = locale.Load(); err != nil {
			return nil, err
		}
	}
	for _, b := range templateBases() {
		langs := []string{"en"}
		if slices.Contains(visitorBases(), b) {
			langs = locale.Languages
		}
		for _, code := range langs {
			kt, err := parseKind(b, r.catalog.Lang(code))
			if err != nil {
				return nil, err
			}
			r.kinds[b+"/"+code] = kt
		}
	}
	return r, nil
}

// langOf is the language an email is written in: the visitor's for
// emails and invites to visitors, English for staff.
func (r *Renderer) langOf(d models.MailData) *locale.Lang {
	if d.Kind == models.MailHostNotice || d.Kind == models.MailDigest || d.Kind == models.MailLeadAssigned {
		return r.catalog.Lang("en")
	}
	return r.catalog.Lang(d.Language)
}

func parseKind(base string, l *locale.Lang) (kindTemplates, error) {
	words := map[string]any{"t": l.T, "tn": l.N}
	text, err := texttemplate.New(base).Funcs(words).ParseFS(web.FS, templateDir+"footer.txt", templateDir+base+".txt")
	if err != nil {
		return kindTemplates{}, fmt.Errorf("email template %s.txt: %w", base, err)
	}
	html, err := htmltemplate.New(base).Funcs(htmlFuncs()).Funcs(words).ParseFS(web.FS, templateDir+"layout.html", templateDir+base+".html")
	if err != nil {
		return kindTemplates{}, fmt.Errorf("email template %s.html: %w", base, err)
	}
	for _, name := range []string{"subject", "text"} {
		if text.Lookup(name) == nil {
			return kindTemplates{}, fmt.Errorf("email template %s.txt defines no %q", base, name)
		}
	}
	return kindTemplates{text: text, html: html}, nil
}

// linkArg and fieldArg carry several values into a shared HTML template.
type linkArg struct{ URL, Label string }
type fieldArg struct{ Label, Value, URL string }

func htmlFuncs() htmltemplate.FuncMap {
	return htmltemplate.FuncMap{
		"button":    func(u, label string) linkArg { return linkArg{URL: u, Label: label} },
		"field":     func(label, value, u string) fieldArg { return fieldArg{Label: label, Value: value, URL: u} },
		"breakable": breakable,
	}
}

// longWord is the length past which an unbroken run of text (an email
// address, a link) gets break opportunities.
const longWord = 24

// breakable escapes s for HTML and lets its long words wrap after an @, a
// dot, a slash, a hyphen or an underscore (<wbr>), so a long address does
// not widen the email on a phone. Mail clients apply <wbr> where many drop
// CSS such as word-break.
func breakable(s string) htmltemplate.HTML {
	var b strings.Builder
	for i, word := range strings.Split(s, " ") {
		if i > 0 {
			b.WriteByte(' ')
		}
		if utf8.RuneCountInString(word) <= longWord {
			b.WriteString(htmltemplate.HTMLEscapeString(word))
			continue
		}
		for _, r := range word {
			b.WriteString(htmltemplate.HTMLEscapeString(string(r)))
			if strings.ContainsRune("@./-_", r) {
				b.WriteString("<wbr>")
			}
		}
	}
	return htmltemplate.HTML(b.String())
}

// Render builds the email d describes. stamp is when the change that caused
// it happened (the outbox row's creation): it dates the calendar file, so
// rendering the same row again gives the same bytes.
func (r *Renderer) Render(d models.MailData, stamp time.Time) (Rendered, error) {
	l := r.langOf(d)
	kt, ok := r.kinds[templateBase(d.Kind)+"/"+l.Code]
	if !ok {
		return Rendered{}, fmt.Errorf("no template for email kind %q", d.Kind)
	}
	v := r.view(d, l)
	var subj, text, html bytes.Buffer
	if err := kt.text.ExecuteTemplate(&subj, "subject", v); err != nil {
		return Rendered{}, fmt.Errorf("render %s subject: %w", d.Kind, err)
	}
	v.Subject = oneLine(subj.String())
	if err := kt.text.ExecuteTemplate(&text, "text", v); err != nil {
		return Rendered{}, fmt.Errorf("render %s text: %w", d.Kind, err)
	}
	if err := kt.html.ExecuteTemplate(&html, "layout", v); err != nil {
		return Rendered{}, fmt.Errorf("render %s HTML: %w", d.Kind, err)
	}
	out := Rendered{Subject: v.Subject, Text: text.String(), HTML: html.String(), ReplyTo: d.ReplyTo, UnsubscribeURL: v.UnsubscribeURL}
	if method := inviteMethod(d); method != "" && d.BookingUID != "" {
		ics, err := r.invite(d, method, stamp)
		if err != nil {
			return Rendered{}, err
		}
		out.ICS, out.ICSMethod = ics, method
	}
	return out, nil
}

// oneLine collapses whitespace, so no template or input can put a line
// break into the Subject header.
func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }
