package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/callbook/callbook/models"
)

// exportPage is how many leads one keyset page reads. It bounds the memory
// an export holds, whatever the number of leads.
const exportPage = 2000

// exportLeadColumns are read from leads, in ExportColumns order minus the
// figures that come from bookings and users.
const exportLeadColumns = `leads.id, leads.created_at, leads.name, leads.email, leads.phone,
	leads.current_title, leads.target_title, leads.recommended_title, leads.role_slug, leads.status,
	leads.owner_id, leads.utm_source, leads.utm_medium, leads.utm_campaign, leads.utm_term,
	leads.utm_content, leads.referrer, leads.first_utm_source, leads.first_utm_medium, leads.first_utm_campaign,
	leads.first_utm_term, leads.first_utm_content, leads.first_referrer, leads.language`

// callFigures are a lead's booking figures, as the lead list computes them.
type callFigures struct {
	count      int64
	next, last string // RFC 3339 UTC, "" when none
}

// exportReader reads the export's pages inside its transaction.
type exportReader struct {
	ctx    context.Context // checked between pages
	tx     *gorm.DB
	f      LeadFilter
	now    time.Time
	calls  map[uint]callFigures
	packed bool // read rows packed in one column (SQLite)
	reread int  // packed rows that had to be read again
}

// readAll sends every page of leads matching the filter, newest first.
func (e *exportReader) readAll(pages chan<- []exportLead) error {
	for after := uint(0); ; {
		if err := e.ctx.Err(); err != nil {
			return err
		}
		page, err := e.readLeads(after)
		if err != nil {
			return err
		}
		n := len(page)
		if n > 0 {
			if err := e.fillCalls(page); err != nil {
				return err
			}
			if err := e.fillAnswers(page); err != nil {
				return err
			}
			if err := e.fillCallKinds(page); err != nil {
				return err
			}
			after = page[n-1].id // before the writer owns the page
			pages <- page
		}
		if n < exportPage {
			return nil
		}
	}
}

// fillCalls gives the leads of a page that were read without their
// booking figures those figures, from one grouped query over the page.
func (e *exportReader) fillCalls(page []exportLead) error {
	missing := false
	for i := range page {
		missing = missing || !page[i].hasCalls
	}
	if !missing {
		return nil
	}
	if err := e.loadCalls(page[len(page)-1].id, page[0].id); err != nil {
		return err
	}
	for i := range page {
		if !page[i].hasCalls {
			page[i].calls, page[i].hasCalls = e.calls[page[i].id], true
		}
	}
	return nil
}

// fillAnswers gives the leads of a page their answers, from one range
// read over the page's ids that returns only leads with answers.
func (e *exportReader) fillAnswers(page []exportLead) error {
	var rows []struct {
		ID             uint
		AnswersJSON    string
		UnsubscribedAt *time.Time
	}
	err := e.tx.Table("leads").Select("id, answers_json, unsubscribed_at").
		Where("id BETWEEN ? AND ? AND (answers_json <> ? OR unsubscribed_at IS NOT NULL)", page[len(page)-1].id, page[0].id, "{}").
		Scan(&rows).Error
	if err != nil {
		return err
	}
	byID := make(map[uint]int, len(rows))
	for i, r := range rows {
		byID[r.ID] = i
	}
	for i := range page {
		page[i].answers = "{}"
		j, ok := byID[page[i].id]
		if !ok {
			continue
		}
		page[i].answers = rows[j].AnswersJSON
		if u := rows[j].UnsubscribedAt; u != nil {
			page[i].unsubscribed = u.UTC().Format(time.RFC3339)
		}
	}
	return nil
}

// fillCallKinds gives the leads of a page the kind of their latest call
// that was not canceled, from one range read over the page's ids.
func (e *exportReader) fillCallKinds(page []exportLead) error {
	var rows []struct {
		LeadID  uint
		CallID  string
		StartAt time.Time
	}
	err := e.tx.Table("bookings").Select("lead_id, call_id, start_at").
		Where("lead_id BETWEEN ? AND ? AND status <> ?", page[len(page)-1].id, page[0].id, models.BookingCanceled).
		Scan(&rows).Error
	if err != nil {
		return err
	}
	latest := make(map[uint]int, len(rows))
	for i, r := range rows {
		if j, ok := latest[r.LeadID]; !ok || r.StartAt.After(rows[j].StartAt) {
			latest[r.LeadID] = i
		}
	}
	for i := range page {
		page[i].call = ""
		if j, ok := latest[page[i].id]; ok {
			page[i].call = rows[j].CallID
			if page[i].call == "" {
				page[i].call = models.DiscoveryCallID
			}
		}
	}
	return nil
}

// leadsPage is the query for one page of leads, newest first.
func (e *exportReader) leadsPage(sel string, args []any, after uint) *gorm.DB {
	q := e.f.apply(e.tx.Table("leads").Select(sel, args...))
	if after > 0 {
		q = q.Where("leads.id < ?", after)
	}
	return q.Order("leads.id DESC").Limit(exportPage)
}

// readLeads reads one page of leads. On SQLite every column read is a
// call from Go into C, so each row comes packed in one text column with
// its booking figures (see packedLeadSQL); PostgreSQL's driver reads plain
// columns cheaply, and the figures come per page from loadCalls.
func (e *exportReader) readLeads(after uint) ([]exportLead, error) {
	if e.packed {
		return e.readPackedLeads(after)
	}
	rows, err := e.leadsPage(exportLeadColumns, nil, after).Rows()
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	page := make([]exportLead, 0, exportPage)
	for rows.Next() {
		var l exportLead
		if err := l.scan(rows); err != nil {
			return nil, err
		}
		page = append(page, l)
	}
	return page, rows.Err()
}

// loadCalls reads the booking figures of every lead with an id in
// [lo, hi] with the same definitions as leadRowSelect.
func (e *exportReader) loadCalls(lo, hi uint) error {
	clear(e.calls)
	rows, err := e.tx.Raw(`SELECT lead_id, COUNT(*),
		MIN(CASE WHEN status = 'confirmed' AND start_at > ? THEN start_at END),
		MAX(CASE WHEN status IN ('confirmed','completed','no_show') AND start_at <= ? THEN start_at END)
		FROM bookings WHERE lead_id >= ? AND lead_id <= ? GROUP BY lead_id`, e.now, e.now, lo, hi).Rows()
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var id uint
		var n int64
		var next, last any
		if err := rows.Scan(&id, &n, &next, &last); err != nil {
			return err
		}
		cf := callFigures{count: n}
		if cf.next, err = dbTimeRFC3339(next); err != nil {
			return err
		}
		if cf.last, err = dbTimeRFC3339(last); err != nil {
			return err
		}
		e.calls[id] = cf
	}
	return rows.Err()
}

// ownerEmails maps staff user ids to emails. Staff are few, so one small
// map replaces a join per exported row.
func ownerEmails(tx *gorm.DB) (map[int64]string, error) {
	var us []struct {
		ID    int64
		Email string
	}
	if err := tx.Table("users").Select("id, email").Scan(&us).Error; err != nil {
		return nil, err
	}
	m := make(map[int64]string, len(us))
	for _, u := range us {
		m[u.ID] = u.Email
	}
	return m, nil
}

// exportLead is one lead as read for the export.
type exportLead struct {
	id                                 uint
	created                            string // RFC 3339 UTC
	name, email, phone                 string
	currentTitle, targetTitle          string
	recommendedTitle, roleSlug, status string
	ownerID                            sql.NullInt64
	utm                                [5]string
	referrer                           string
	firstUTM                           [5]string
	firstReferrer                      string
	language                           string
	calls                              callFigures
	answers                            string // JSON object, "{}" when none
	call                               string // the kind of the latest call not canceled, "" when none
	unsubscribed                       string // RFC 3339 UTC, "" when not
	hasCalls                           bool   // calls was read with the lead
	packed                             string // SQLite: the row, for the writer to unpack
}

func (l *exportLead) scan(rows *sql.Rows) error {
	var created time.Time
	err := rows.Scan(&l.id, &created, &l.name, &l.email, &l.phone, &l.currentTitle,
		&l.targetTitle, &l.recommendedTitle, &l.roleSlug, &l.status, &l.ownerID,
		&l.utm[0], &l.utm[1], &l.utm[2], &l.utm[3], &l.utm[4], &l.referrer,
		&l.firstUTM[0], &l.firstUTM[1], &l.firstUTM[2], &l.firstUTM[3], &l.firstUTM[4], &l.firstReferrer, &l.language)
	l.created = created.UTC().Format(time.RFC3339)
	return err
}

// sqliteTimeLayouts are the forms mattn/go-sqlite3 writes times in; an
// aggregate (MIN, MAX) loses the column type and comes back as text.
var sqliteTimeLayouts = []string{
	"2006-01-02 15:04:05.999999999-07:00",
	"2006-01-02T15:04:05.999999999-07:00",
	"2006-01-02 15:04:05.999999999",
	"2006-01-02T15:04:05.999999999",
	"2006-01-02 15:04:05",
	"2006-01-02T15:04:05",
}

// dbTimeRFC3339 formats a time read from either database as RFC 3339 UTC,
// "" for NULL.
func dbTimeRFC3339(v any) (string, error) {
	if s, ok := v.(string); ok {
		if r, ok := utcTextRFC3339(s); ok {
			return r, nil
		}
	}
	t, ok, err := parseDBTime(v)
	if err != nil || !ok {
		return "", err
	}
	return t.UTC().Format(time.RFC3339), nil
}

// utcTextRFC3339 turns a UTC time as SQLite keeps it ("2026-05-04
// 15:00:00.123+00:00") into RFC 3339 by slicing, without parsing: the
// export formats millions of them. Any other form reports false.
func utcTextRFC3339(s string) (string, bool) {
	n := len(s)
	if n < 25 || !strings.HasSuffix(s, "+00:00") || s[10] != ' ' || s[4] != '-' || s[13] != ':' {
		return "", false
	}
	if n > 25 && s[19] != '.' {
		return "", false
	}
	return s[:10] + "T" + s[11:19] + "Z", true
}

// parseDBTime reads a time scanned into an any: time.Time from PostgreSQL
// and typed SQLite columns, text from SQLite expressions.
func parseDBTime(v any) (time.Time, bool, error) {
	var s string
	switch x := v.(type) {
	case nil:
		return time.Time{}, false, nil
	case time.Time:
		return x, true, nil
	case string:
		s = x
	case []byte:
		s = string(x)
	default:
		return time.Time{}, false, fmt.Errorf("unexpected time value %T", v)
	}
	s = strings.TrimSuffix(s, "Z")
	for _, layout := range sqliteTimeLayouts {
		if t, err := time.Parse(layout, s); err == nil {
			return t, true, nil
		}
	}
	return time.Time{}, false, fmt.Errorf("unreadable time %q", s)
}
