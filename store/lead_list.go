package store

import (
	"context"
	"encoding/base64"
	"strconv"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/callbook/callbook/models"
)

// LeadFilter selects leads for the lead list, the export and the dashboard
// links. Zero fields do not filter.
type LeadFilter struct {
	Q           string // matches name or email, case-insensitively
	Status      string
	TargetTitle string
	RoleSlug    string
	OwnerID     *uint // 0 selects leads without an owner
	CreatedFrom time.Time
	CreatedTo   time.Time // exclusive
	// Answers keeps leads whose latest answer to each question id is the
	// value given.
	Answers models.Answers
	// OpenTasks, when set, keeps leads that have an open task (true) or
	// none (false).
	OpenTasks *bool
}

// apply adds the filter's conditions to a query on leads.
func (f LeadFilter) apply(q *gorm.DB) *gorm.DB {
	q = q.Where("leads.erased_at IS NULL")
	if s := strings.TrimSpace(f.Q); s != "" {
		q = searchLeads(q, s)
	}
	if f.Status != "" {
		q = q.Where("leads.status = ?", f.Status)
	}
	if f.TargetTitle != "" {
		q = q.Where("leads.target_title = ?", f.TargetTitle)
	}
	if f.RoleSlug != "" {
		q = q.Where("leads.role_slug = ?", f.RoleSlug)
	}
	if f.OwnerID != nil {
		if *f.OwnerID == 0 {
			q = q.Where("leads.owner_id IS NULL")
		} else {
			q = q.Where("leads.owner_id = ?", *f.OwnerID)
		}
	}
	if !f.CreatedFrom.IsZero() {
		q = q.Where("leads.created_at >= ?", f.CreatedFrom.UTC())
	}
	if !f.CreatedTo.IsZero() {
		q = q.Where("leads.created_at < ?", f.CreatedTo.UTC())
	}
	if f.OpenTasks != nil {
		has := "EXISTS (SELECT 1 FROM tasks t WHERE t.lead_id = leads.id AND t.done_at IS NULL)"
		if !*f.OpenTasks {
			has = "NOT " + has
		}
		q = q.Where(has)
	}
	for _, id := range f.Answers.Sorted() {
		q = q.Where("EXISTS (SELECT 1 FROM lead_answers la WHERE la.lead_id = leads.id AND la.question_id = ? AND la.value = ?)", id, f.Answers[id])
	}
	return q
}

func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

// leadRowSelect computes the per-lead figures with correlated subqueries
// that each seek ix_bookings_lead_status_start, so a page of 50 costs 50 index seeks.
func leadRowSelect(now time.Time) (string, []any) {
	return `leads.*,
	(SELECT COUNT(*) FROM bookings b WHERE b.lead_id = leads.id) AS bookings_count,
	(SELECT COUNT(*) FROM tasks t WHERE t.lead_id = leads.id AND t.done_at IS NULL) AS open_tasks,
	(SELECT MIN(b.start_at) FROM bookings b WHERE b.lead_id = leads.id AND b.status = 'confirmed' AND b.start_at > ?) AS next_call_at,
	(SELECT MAX(b.start_at) FROM bookings b WHERE b.lead_id = leads.id AND b.status IN ('confirmed','completed','no_show') AND b.start_at <= ?) AS last_call_at,
	COALESCE(u.email, '') AS owner_email, COALESCE(u.name, '') AS owner_name`, []any{now, now}
}

// LeadQuery is the base query for lead rows matching f, newest first.
// Export streams it; ListLeads pages it.
func (s *Store) LeadQuery(ctx context.Context, f LeadFilter) *gorm.DB {
	sel, args := leadRowSelect(s.Now())
	q := s.read.WithContext(ctx).Table("leads").Select(sel, args...).
		Joins("LEFT JOIN users u ON u.id = leads.owner_id")
	return f.apply(q).Order("leads.id DESC")
}

// ListLeads returns up to limit leads matching f, newest first, after the
// cursor from the previous page. The next cursor is "" on the last page.
// Paging is by id (keyset), so page 1,000 costs what page 1 does. The page's
// ids are found first from the filter alone (the partial indexes of
// migration 3 answer most filters without reading a lead), and only those
// rows are then read with their figures.
func (s *Store) ListLeads(ctx context.Context, f LeadFilter, limit int, cursor string) ([]models.LeadRow, string, error) {
	if limit <= 0 || limit > 200 {
		limit = 50
	}
	q := f.apply(s.read.WithContext(ctx).Table("leads"))
	if cursor != "" {
		after, err := decodeCursor(cursor)
		if err != nil {
			return nil, "", models.Invalid("cursor", "not a cursor from a previous page")
		}
		q = q.Where("leads.id < ?", after)
	}
	var ids []uint
	if err := q.Order("leads.id DESC").Limit(limit+1).Pluck("leads.id", &ids).Error; err != nil {
		return nil, "", err
	}
	next := ""
	if len(ids) > limit {
		ids = ids[:limit]
		next = encodeCursor(ids[limit-1])
	}
	rows := []models.LeadRow{}
	if len(ids) == 0 {
		return rows, next, nil
	}
	if err := s.LeadQuery(ctx, LeadFilter{}).Where("leads.id IN ?", ids).Scan(&rows).Error; err != nil {
		return nil, "", err
	}
	return rows, next, nil
}

// CountLeads counts the leads matching f.
func (s *Store) CountLeads(ctx context.Context, f LeadFilter) (int64, error) {
	var n int64
	err := f.apply(s.read.WithContext(ctx).Table("leads")).Count(&n).Error
	return n, err
}

func encodeCursor(id uint) string { return encodeKeyCursor('l', id) }

func decodeCursor(c string) (uint, error) { return decodeKeyCursor('l', c) }

// encodeKeyCursor is an opaque cursor for keyset paging by id: the id after
// a letter naming the list, so a cursor of one list is refused by another.
func encodeKeyCursor(list byte, id uint) string {
	return base64.RawURLEncoding.EncodeToString(append([]byte{list}, strconv.FormatUint(uint64(id), 10)...))
}

// decodeKeyCursor reads a cursor of encodeKeyCursor for list.
func decodeKeyCursor(list byte, c string) (uint, error) {
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil || len(b) < 2 || b[0] != list {
		return 0, models.ErrNotFound
	}
	n, err := strconv.ParseUint(string(b[1:]), 10, 64)
	return uint(n), err
}
