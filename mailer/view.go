package mailer

import (
	"fmt"
	htmltemplate "html/template"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/callbook/callbook/locale"
	"github.com/callbook/callbook/models"
)

// view is what the email templates see: the snapshot plus everything
// derived from it (times in the right zones, links).
type view struct {
	models.MailData
	// lang is the reader's language; Lang its code, for <html lang>.
	lang    *locale.Lang
	Lang    string
	Subject string
	// Staff is true for emails to the team (host notices, digests).
	Staff bool
	// Canceled is true for the visitor's cancellation, which must not offer
	// to reschedule or cancel the call it cancels.
	Canceled bool

	When          string // the call, in the visitor's zone with the zone's name
	WhenShort     string
	HostWhen      string // the call, in the business zone
	HostWhenShort string
	HostZone      string
	PreviousWhen  string // a moved call's old time, in the reader's zone
	Duration      string
	// Call is the kind of call ("Discovery call"), CallLower the same in
	// running text, ACall with its article ("an intro call").
	Call, CallLower, ACall string
	OffsetText             string // a reminder's offset in words: "24 hours"
	Where                  string // where the call happens, one line
	JoinURL                string // the video call's link, for a video call

	ManageURL, InviteURL, BookURL string
	LeadURL, RoleURL              string
	AdminURL, LeadsURL            string

	// A follow-up email's text with every placeholder filled, and its
	// unsubscribe link.
	FollowupSubjectText, FollowupText string
	FollowupHTML                      htmltemplate.HTML
	UnsubscribeURL                    string
	// RebookURL is where a visitor books again (host-no-show).
	RebookURL string

	DigestDay string
	Calls     []digestCallView
	NewLeads  []digestLeadView
	Tasks     []digestTaskView
}

type digestTaskView struct {
	Name, Body, LeadURL string
	Overdue             bool
	Due                 string
}

type digestCallView struct {
	Time, Name, TargetTitle, HostName, LeadURL string
}

type digestLeadView struct {
	Name, TargetTitle, RoleSlug, LeadURL string
}

func (r *Renderer) view(d models.MailData, l *locale.Lang) view {
	visitorZone := r.zone(d.Timezone)
	en := r.catalog.Lang("en")
	v := view{
		MailData: d, lang: l, Lang: l.Code,
		Staff:    d.Kind == models.MailHostNotice || d.Kind == models.MailDigest || d.Kind == models.MailLeadAssigned,
		HostZone: zoneName(r.loc),
		Canceled: d.Kind == models.MailCancellation,
		AdminURL: r.baseURL + "/admin", LeadsURL: r.baseURL + "/admin/leads",
		BookURL: r.baseURL + "/",
	}
	v.Call = d.CallName()
	v.CallLower = strings.ToLower(v.Call)
	v.ACall = "a " + v.CallLower
	if strings.ContainsAny(v.CallLower[:1], "aeiou") {
		v.ACall = "an " + v.CallLower
	}
	if !d.Start.IsZero() {
		v.When, v.WhenShort = formatCall(l, d.Start, d.End, visitorZone)
		v.HostWhen, v.HostWhenShort = formatCall(en, d.Start, d.End, r.loc)
		v.Duration = formatDuration(l, d.End.Sub(d.Start))
	}
	if d.PreviousStart != nil {
		zone := visitorZone
		if v.Staff {
			zone = r.loc
		}
		v.PreviousWhen, _ = formatCall(l, *d.PreviousStart, d.PreviousStart.Add(d.End.Sub(d.Start)), zone)
	}
	if d.BookingUID != "" {
		v.ManageURL = r.ManageURL(d.BookingUID)
		v.InviteURL = v.ManageURL + "/invite.ics"
	}
	if d.LeadID != 0 {
		v.LeadURL = r.leadURL(d.LeadID)
	}
	if d.RoleSlug != "" {
		v.RoleURL = r.baseURL + "/roles/" + url.PathEscape(d.RoleSlug)
		v.BookURL = v.RoleURL + "/book"
	}
	offset := d.Offset
	if offset == "" {
		offset = strings.TrimPrefix(d.Kind, models.MailReminderPrefix)
	}
	v.OffsetText = offsetWords(l, offset)
	if strings.HasPrefix(d.Kind, models.MailFollowupPrefix) {
		r.followupView(&v)
	}
	if d.Kind == models.MailHostNoShow || d.Kind == models.MailBookingLink {
		v.RebookURL = r.rebookURL(d)
	}
	v.meetingView()
	if d.Digest != nil {
		r.digestView(&v, d.Digest)
	}
	return v
}

func (r *Renderer) digestView(v *view, dg *models.DigestData) {
	v.DigestDay = dg.Date
	if day, err := time.ParseInLocation(time.DateOnly, dg.Date, r.loc); err == nil {
		v.DigestDay = day.Format("Monday, 2 January 2006")
	}
	for _, c := range dg.TodayCalls {
		v.Calls = append(v.Calls, digestCallView{
			Time: c.Start.In(r.loc).Format("15:04"), Name: c.Name, TargetTitle: c.TargetTitle,
			HostName: c.HostName, LeadURL: r.leadURL(c.LeadID),
		})
	}
	for _, l := range dg.NewLeads {
		v.NewLeads = append(v.NewLeads, digestLeadView{
			Name: l.Name, TargetTitle: l.TargetTitle, RoleSlug: l.RoleSlug, LeadURL: r.leadURL(l.LeadID),
		})
	}
	for _, t := range dg.Tasks {
		due := t.Due
		if day, err := time.Parse(time.DateOnly, t.Due); err == nil {
			due = day.Format("Mon 2 Jan")
		}
		v.Tasks = append(v.Tasks, digestTaskView{
			Name: t.Name, Body: t.Body, LeadURL: r.leadURL(t.LeadID), Overdue: t.Due < dg.Date, Due: due,
		})
	}
}

// ManageURL is the visitor's page for a booking: {BaseURL}/bookings/{token}.
func (r *Renderer) ManageURL(bookingUID string) string {
	return r.baseURL + "/bookings/" + r.token(bookingUID)
}

func (r *Renderer) leadURL(id uint) string {
	return r.baseURL + "/admin/leads/" + strconv.FormatUint(uint64(id), 10)
}

// zone returns the named IANA zone, or the business zone when the name is
// empty or unknown (the snapshot was validated when booked, so only old
// data or missing tzdata could cause that).
func (r *Renderer) zone(name string) *time.Location {
	if name == "" {
		return r.loc
	}
	if loc, ok := r.zones.Load(name); ok {
		return loc.(*time.Location)
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return r.loc
	}
	r.zones.Store(name, loc)
	return loc
}

// formatCall writes a call's time in zone, long and short:
// "Tuesday, 1 December 2026, 15:00 – 15:30 (Europe/Berlin, CET)" (the
// zone's name without underscores: "America/New York") and
// "Tue 1 Dec, 15:00 (CET)". The zone's abbreviation is the one in force at
// the call's start, so DST is named correctly.
// In German: "Dienstag, 1. Dezember 2026, 15:00 – 15:30 (Europe/Berlin,
// CET)" and "Di., 1. Dez., 15:00 (CET)".
func formatCall(l *locale.Lang, start, end time.Time, zone *time.Location) (long, short string) {
	s, e := start.In(zone), end.In(zone)
	abbr := s.Format("MST")
	endText := l.Time(e)
	if e.YearDay() != s.YearDay() || e.Year() != s.Year() {
		endText = l.DayMonth(e) + " " + l.Time(e)
	}
	names := zoneName(zone)
	if abbr != names {
		names += ", " + abbr
	}
	long = fmt.Sprintf("%s – %s (%s)", l.DateTime(s), endText, names)
	short = fmt.Sprintf("%s (%s)", l.ShortDateTime(s), abbr)
	return long, short
}

// zoneName is a zone's IANA name as people read it: "America/New York".
func zoneName(zone *time.Location) string { return strings.ReplaceAll(zone.String(), "_", " ") }

// formatDuration writes a call length in words: "30 minutes", "1 hour 15 minutes".
func formatDuration(l *locale.Lang, d time.Duration) string {
	if d <= 0 {
		return ""
	}
	h, m := int(d/time.Hour), int(d%time.Hour/time.Minute)
	var parts []string
	if h > 0 {
		parts = append(parts, l.N("hours", h))
	}
	if m > 0 || h == 0 {
		parts = append(parts, l.N("minutes", m))
	}
	return strings.Join(parts, " ")
}

// offsetWords writes a reminder offset as configured ("24h", "90m") in
// words; anything that is not a Go duration is shown as written.
func offsetWords(l *locale.Lang, offset string) string {
	d, err := time.ParseDuration(offset)
	if err != nil || d <= 0 {
		return offset
	}
	days := int(d / (24 * time.Hour))
	if d%(24*time.Hour) == 0 && days > 1 {
		return l.N("days", days)
	}
	return formatDuration(l, d)
}
