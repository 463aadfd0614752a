package handlers

import (
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/callbook/callbook/models"
	"github.com/callbook/callbook/store"
)

// leadListQuery is the lead list's URL query, shared by the staff page and
// GET /api/v1/admin/leads, so a view can be bookmarked and shared.
type leadListQuery struct {
	Q, Status, TargetTitle, RoleSlug string
	OwnerID, CreatedFrom, CreatedTo  string
	Cursor                           string
	// OpenTasks is "true" for leads with an open task, "false" for leads
	// without one.
	OpenTasks string
	// Answers keeps leads whose latest answer to a question is the value:
	// answers.<id>=<value> in the query, or answer=<id>=<value> from the
	// staff page's one answer selector.
	Answers map[string]string
}

func readLeadListQuery(v url.Values) leadListQuery {
	get := func(k string) string { return strings.TrimSpace(v.Get(k)) }
	return leadListQuery{
		Q: get("q"), Status: get("status"), TargetTitle: get("target_title"), RoleSlug: get("role_slug"),
		OwnerID: get("owner_id"), CreatedFrom: get("created_from"), CreatedTo: get("created_to"), Cursor: get("cursor"),
		OpenTasks: get("open_tasks"), Answers: answerFilters(v),
	}
}

// answerFilters reads answers.<id>=<value> and answer=<id>=<value>.
func answerFilters(v url.Values) map[string]string {
	out := answersFrom(v)
	for id, val := range out {
		out[id] = strings.TrimSpace(val)
	}
	if id, val, ok := strings.Cut(v.Get("answer"), "="); ok {
		out[strings.TrimSpace(id)] = strings.TrimSpace(val)
	}
	return out
}

// values writes the query back, without empty fields and without the cursor.
func (q leadListQuery) values() url.Values {
	v := url.Values{}
	for k, val := range map[string]string{
		"q": q.Q, "status": q.Status, "target_title": q.TargetTitle, "role_slug": q.RoleSlug,
		"owner_id": q.OwnerID, "created_from": q.CreatedFrom, "created_to": q.CreatedTo,
		"open_tasks": q.OpenTasks,
	} {
		if val != "" {
			v.Set(k, val)
		}
	}
	for id, val := range q.Answers {
		v.Set("answers."+id, val)
	}
	return v
}

// filter validates the query into a LeadFilter. Dates are calendar days in
// the business zone (created_to included) or RFC 3339 instants (excluded).
func (q leadListQuery) filter(loc *time.Location) (store.LeadFilter, error) {
	verr := &models.ValidationError{}
	f := store.LeadFilter{Q: q.Q, Status: q.Status, TargetTitle: q.TargetTitle, RoleSlug: q.RoleSlug}
	if len(f.Q) > 200 {
		verr.Add("q", "must be at most 200 characters")
	}
	if f.Status != "" && !slices.Contains(models.LeadStatuses, f.Status) {
		verr.Add("status", "must be one of "+strings.Join(models.LeadStatuses, ", "))
	}
	switch q.OwnerID {
	case "":
	case "none", "0":
		zero := uint(0)
		f.OwnerID = &zero
	default:
		id, err := strconv.ParseUint(q.OwnerID, 10, 32)
		if err != nil {
			verr.Add("owner_id", "must be a staff user's id, or none")
		}
		owner := uint(id)
		f.OwnerID = &owner
	}
	switch q.OpenTasks {
	case "":
	case "true", "false":
		has := q.OpenTasks == "true"
		f.OpenTasks = &has
	default:
		verr.Add("open_tasks", "must be true or false")
	}
	if len(q.Answers) > 10 {
		verr.Add("answers", "at most 10 answer filters")
	}
	for id, val := range q.Answers {
		switch {
		case !questionID.MatchString(id):
			verr.Add("answers."+id, "not a question id")
		case val == "" || len(val) > 2000:
			verr.Add("answers."+id, "must be an answer of 1 to 2000 characters")
		}
	}
	if len(q.Answers) > 0 {
		f.Answers = q.Answers
	}
	f.CreatedFrom = parseDay(verr, "created_from", q.CreatedFrom, loc, false)
	f.CreatedTo = parseDay(verr, "created_to", q.CreatedTo, loc, true)
	if !f.CreatedFrom.IsZero() && !f.CreatedTo.IsZero() && !f.CreatedTo.After(f.CreatedFrom) {
		verr.Add("created_to", "must be after created_from")
	}
	return f, verr.Err()
}

// parseDay reads YYYY-MM-DD as the start of that day in loc (the start of
// the next day when end is true, so the day is included), or an RFC 3339
// instant as it is. "" is the zero time.
func parseDay(verr *models.ValidationError, field, s string, loc *time.Location, end bool) time.Time {
	if s == "" {
		return time.Time{}
	}
	if d, err := time.ParseInLocation(time.DateOnly, s, loc); err == nil {
		if end {
			return d.AddDate(0, 0, 1)
		}
		return d
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t
	}
	verr.Add(field, "must be a date as YYYY-MM-DD or a time in RFC 3339")
	return time.Time{}
}

// pathID reads a numeric path parameter; anything else is not found.
func pathID(c *gin.Context, name string) (uint, error) {
	n, err := strconv.ParseUint(c.Param(name), 10, 32)
	if err != nil || n == 0 {
		return 0, models.ErrNotFound
	}
	return uint(n), nil
}

// queryLimit reads ?limit= between 1 and max, def when absent.
func queryLimit(s string, def, max int) (int, error) {
	if s == "" {
		return def, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > max {
		return 0, models.Invalid("limit", "must be a whole number from 1 to "+strconv.Itoa(max))
	}
	return n, nil
}

// bookingRange reads ?from=&to= for staff booking lists: calendar days in
// the business zone (to included) or RFC 3339. From defaults to the start
// of today, to to 31 days after from; at most 366 days apart.
func (s *Server) bookingRange(from, to string) (time.Time, time.Time, error) {
	loc := s.store.Location()
	verr := &models.ValidationError{}
	f := parseDay(verr, "from", from, loc, false)
	t := parseDay(verr, "to", to, loc, true)
	if f.IsZero() {
		now := s.now().In(loc)
		f = time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, loc)
	}
	if t.IsZero() {
		t = f.AddDate(0, 0, 31)
	}
	if verr.Err() == nil {
		switch {
		case !t.After(f):
			verr.Add("to", "must be after from")
		case t.Sub(f) > 366*24*time.Hour:
			verr.Add("to", "must be at most 366 days after from")
		}
	}
	return f, t, verr.Err()
}

// leadSource says in a few words where a lead came from lately: the UTM
// source, else the referring site, else the role page; and the booking form
// embedded on another site, when it booked there.
func leadSource(l *models.Lead) string {
	summary := sourceSummary(l.UTMSource, l.UTMMedium, l.Referrer, l.RoleSlug)
	if l.Source == models.SourceEmbed {
		site := "another site"
		if u, err := url.Parse(l.PageURL); err == nil && u.Host != "" {
			site = strings.TrimPrefix(u.Host, "www.")
		}
		summary += " · booking form on " + site
	}
	return summary
}

func sourceSummary(utmSource, utmMedium, referrer, roleSlug string) string {
	if utmSource != "" {
		if utmMedium != "" {
			return utmSource + " / " + utmMedium
		}
		return utmSource
	}
	if u, err := url.Parse(referrer); err == nil && u.Host != "" {
		return strings.TrimPrefix(u.Host, "www.")
	}
	if roleSlug != "" {
		return "/roles/" + roleSlug
	}
	return "direct"
}

// touchView is where a lead came from on one visit, for the lead page.
type touchView struct {
	Summary  string
	UTM      utmInput
	Referrer string
}

// HasUTM reports whether the visit carried any UTM parameter.
func (t touchView) HasUTM() bool { return t.UTM != utmInput{} }

// leadTouches returns the lead's first and latest source, and whether they
// differ.
func leadTouches(l *models.Lead) (first, latest touchView, differ bool) {
	first = touchView{
		Summary:  sourceSummary(l.FirstUTMSource, l.FirstUTMMedium, l.FirstReferrer, l.RoleSlug),
		Referrer: l.FirstReferrer,
		UTM:      utmInput{l.FirstUTMSource, l.FirstUTMMedium, l.FirstUTMCampaign, l.FirstUTMTerm, l.FirstUTMContent},
	}
	latest = touchView{
		Summary: leadSource(l), Referrer: l.Referrer,
		UTM: utmInput{l.UTMSource, l.UTMMedium, l.UTMCampaign, l.UTMTerm, l.UTMContent},
	}
	return first, latest, first != latest
}
