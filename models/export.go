package models

import (
	"context"
	"database/sql"
	"encoding/csv"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"gorm.io/gorm"
)

// ExportColumns are the CSV columns of CONTRACT §6, in order.
var ExportColumns = []string{
	"id", "created_at", "name", "email", "phone", "current_title", "target_title",
	"recommended_title", "role_slug", "status", "owner_email", "bookings_count", "next_call_at",
	"last_call_at", "utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content", "referrer",
}

// exportPage is how many leads one keyset page reads. It bounds the memory
// an export holds, whatever the number of leads.
const exportPage = 5000

// exportLeadColumns are read from leads, in ExportColumns order minus the
// figures that come from bookings and users.
const exportLeadColumns = `leads.id, leads.created_at, leads.name, leads.email, leads.phone,
	leads.current_title, leads.target_title, leads.recommended_title, leads.role_slug, leads.status,
	leads.owner_id, leads.utm_source, leads.utm_medium, leads.utm_campaign, leads.utm_term,
	leads.utm_content, leads.referrer`

// callFigures are a lead's booking figures, as the lead list computes them.
type callFigures struct {
	count      int64
	next, last string // RFC 3339 UTC, "" when none
}

// ExportLeads writes the leads matching f to w as CONTRACT §6 CSV, newest
// first, and returns how many rows it wrote.
//
// It streams: leads are read in keyset pages of exportPage, each page's
// booking figures come from one grouped query over that page's id range
// (two index range scans instead of three correlated lookups per lead),
// and every page is flushed before the next is read, so memory stays flat.
// All pages are read in one read transaction, so the file is one
// consistent snapshot. Cancelling ctx (a client that went away) stops the
// query. progress, when not nil, is called after each page with the rows
// written so far.
func (s *Store) ExportLeads(ctx context.Context, f LeadFilter, w io.Writer, progress func(rows int64)) (int64, error) {
	cw := csv.NewWriter(w)
	if err := cw.Write(ExportColumns); err != nil {
		return 0, err
	}
	var total int64
	err := s.read.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		owners, err := ownerEmails(tx)
		if err != nil {
			return err
		}
		e := &exporter{tx: tx, f: f, now: s.Now(), owners: owners, out: cw, calls: map[uint]callFigures{}}
		for after := uint(0); ; {
			n, last, err := e.page(after)
			if err != nil {
				return err
			}
			total += int64(n)
			if err := flushExport(cw, w); err != nil {
				return err
			}
			if progress != nil {
				progress(total)
			}
			if n < exportPage {
				return nil
			}
			after = last
		}
	}, s.readSnapshot())
	if err != nil {
		return total, err
	}
	return total, flushExport(cw, w)
}

// readSnapshot asks PostgreSQL for one snapshot across statements. SQLite
// gives one by itself: a read transaction sees the database as it was at
// its first read.
func (s *Store) readSnapshot() *sql.TxOptions {
	if s.dialect == DialectPostgres {
		return &sql.TxOptions{Isolation: sql.LevelRepeatableRead, ReadOnly: true}
	}
	return nil
}

// flushExport pushes what the CSV writer holds to w and on to the client
// (an HTTP response or a buffered file) so rows leave as they are read.
func flushExport(cw *csv.Writer, w io.Writer) error {
	cw.Flush()
	if err := cw.Error(); err != nil {
		return err
	}
	switch fl := w.(type) {
	case interface{ Flush() error }:
		return fl.Flush()
	case interface{ Flush() }:
		fl.Flush()
	}
	return nil
}

// exporter holds one export's state between pages.
type exporter struct {
	tx     *gorm.DB
	f      LeadFilter
	now    time.Time
	owners map[int64]string
	out    *csv.Writer
	calls  map[uint]callFigures
	record [20]string
}

// page writes the next page of leads with ids below after (all when after
// is 0) and returns how many it wrote and the last id.
func (e *exporter) page(after uint) (int, uint, error) {
	q := e.f.apply(e.tx.Table("leads").Select(exportLeadColumns))
	if after > 0 {
		q = q.Where("leads.id < ?", after)
	}
	rows, err := q.Order("leads.id DESC").Limit(exportPage).Rows()
	if err != nil {
		return 0, 0, err
	}
	defer rows.Close()
	page := make([]exportLead, 0, exportPage)
	for rows.Next() {
		var l exportLead
		if err := l.scan(rows); err != nil {
			return 0, 0, err
		}
		page = append(page, l)
	}
	if err := rows.Err(); err != nil {
		return 0, 0, err
	}
	rows.Close()
	if len(page) == 0 {
		return 0, 0, nil
	}
	if err := e.loadCalls(page[len(page)-1].id, page[0].id); err != nil {
		return 0, 0, err
	}
	for i := range page {
		if err := e.out.Write(e.csvRecord(&page[i])); err != nil {
			return 0, 0, err
		}
	}
	return len(page), page[len(page)-1].id, nil
}

// loadCalls reads the booking figures of every lead with an id in
// [lo, hi] with the same definitions as leadRowSelect.
func (e *exporter) loadCalls(lo, hi uint) error {
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
	createdAt                          time.Time
	name, email, phone                 string
	currentTitle, targetTitle          string
	recommendedTitle, roleSlug, status string
	ownerID                            sql.NullInt64
	utm                                [5]string
	referrer                           string
}

func (l *exportLead) scan(rows *sql.Rows) error {
	return rows.Scan(&l.id, &l.createdAt, &l.name, &l.email, &l.phone, &l.currentTitle,
		&l.targetTitle, &l.recommendedTitle, &l.roleSlug, &l.status, &l.ownerID,
		&l.utm[0], &l.utm[1], &l.utm[2], &l.utm[3], &l.utm[4], &l.referrer)
}

// csvRecord lays l out in ExportColumns order, every text cell neutralized.
// The returned slice is reused by the next call.
func (e *exporter) csvRecord(l *exportLead) []string {
	cf := e.calls[l.id]
	owner := ""
	if l.ownerID.Valid {
		owner = e.owners[l.ownerID.Int64]
	}
	r := e.record[:]
	r[0] = strconv.FormatUint(uint64(l.id), 10)
	r[1] = l.createdAt.UTC().Format(time.RFC3339)
	r[2], r[3], r[4] = SafeCell(l.name), SafeCell(l.email), SafeCell(l.phone)
	r[5], r[6] = SafeCell(l.currentTitle), SafeCell(l.targetTitle)
	r[7], r[8], r[9] = SafeCell(l.recommendedTitle), SafeCell(l.roleSlug), SafeCell(l.status)
	r[10] = SafeCell(owner)
	r[11] = strconv.FormatInt(cf.count, 10)
	r[12], r[13] = cf.next, cf.last
	for i, v := range l.utm {
		r[14+i] = SafeCell(v)
	}
	r[19] = SafeCell(l.referrer)
	return r
}

// SafeCell neutralizes a cell a spreadsheet would run as a formula: one
// that begins with =, +, -, @, a tab or a carriage return gets a leading '.
func SafeCell(v string) string {
	if v == "" {
		return v
	}
	switch v[0] {
	case '=', '+', '-', '@', '\t', '\r':
		return "'" + v
	}
	return v
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
	t, ok, err := parseDBTime(v)
	if err != nil || !ok {
		return "", err
	}
	return t.UTC().Format(time.RFC3339), nil
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

// Describe lists the filter's set fields, for the lead.exported event.
func (f LeadFilter) Describe() map[string]any {
	m := map[string]any{}
	put := func(k, v string) {
		if v != "" {
			m[k] = v
		}
	}
	put("q", strings.TrimSpace(f.Q))
	put("status", f.Status)
	put("target_title", f.TargetTitle)
	put("role_slug", f.RoleSlug)
	if f.OwnerID != nil {
		m["owner_id"] = *f.OwnerID
	}
	if !f.CreatedFrom.IsZero() {
		m["created_from"] = f.CreatedFrom.UTC().Format(time.RFC3339)
	}
	if !f.CreatedTo.IsZero() {
		m["created_to"] = f.CreatedTo.UTC().Format(time.RFC3339)
	}
	return m
}

// RecordExport writes the lead.exported event: who exported, with which
// filters, how many rows, and whether the export ran to its end.
func (s *Store) RecordExport(ctx context.Context, actor string, f LeadFilter, rows int64, complete bool) error {
	data := map[string]any{"filters": f.Describe(), "rows": rows, "complete": complete}
	return s.write.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		return s.addEvent(tx, 0, 0, "lead.exported", actor, data)
	})
}
