package store

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"

	"gorm.io/gorm"

	"github.com/callbook/callbook/models"
)

// maxTimeline bounds the events one lead page shows.
const maxTimeline = 500

// LeadRowByID returns one lead that has not been erased, with its list
// figures. ErrNotFound otherwise.
func (s *Store) LeadRowByID(ctx context.Context, id uint) (*models.LeadRow, error) {
	var rows []models.LeadRow
	if err := s.LeadQuery(ctx, LeadFilter{}).Where("leads.id = ?", id).Limit(1).Scan(&rows).Error; err != nil {
		return nil, err
	}
	if len(rows) == 0 {
		return nil, models.ErrNotFound
	}
	return &rows[0], nil
}

// LeadDetail returns the lead with its bookings, notes and timeline.
// ErrNotFound when there is no such lead or it was erased.
func (s *Store) LeadDetail(ctx context.Context, id uint) (*models.LeadDetail, error) {
	row, err := s.LeadRowByID(ctx, id)
	if err != nil {
		return nil, err
	}
	d := &models.LeadDetail{Lead: *row}
	if d.Bookings, err = s.StaffBookings(ctx, BookingFilter{LeadID: id, Newest: true}); err != nil {
		return nil, err
	}
	if d.Notes, err = s.LeadNotes(ctx, id); err != nil {
		return nil, err
	}
	d.Events = []models.Event{}
	err = s.read.WithContext(ctx).Where("lead_id = ?", id).Order("created_at DESC, id DESC").
		Limit(maxTimeline).Find(&d.Events).Error
	return d, err
}

// LeadNotes returns a lead's notes, newest first.
func (s *Store) LeadNotes(ctx context.Context, leadID uint) ([]models.NoteRow, error) {
	rows := []models.NoteRow{}
	err := s.read.WithContext(ctx).Table("notes").Select("notes.*, COALESCE(u.name, '') AS author_name").
		Joins("LEFT JOIN users u ON u.id = notes.author_id").
		Where("notes.lead_id = ?", leadID).Order("notes.created_at DESC, notes.id DESC").Scan(&rows).Error
	return rows, err
}

// UpdateLead applies ch on behalf of actor and returns the lead as saved.
// The status must be one of LeadStatuses and the owner an enabled staff user
// who can sign in. Each field that really changes writes its own event
// (lead.status_changed, lead.owner_changed, lead.recommended_title_changed)
// with the old and new value, in the transaction of the change. ErrNotFound
// when there is no such lead or it was erased.
func (s *Store) UpdateLead(ctx context.Context, id uint, ch models.LeadChange, actor *models.User) (*models.LeadRow, error) {
	verr := &models.ValidationError{}
	if ch.Status != nil && !slices.Contains(models.LeadStatuses, *ch.Status) {
		verr.Add("status", "must be one of "+strings.Join(models.LeadStatuses, ", "))
	}
	if ch.RecommendedTitle != nil {
		t := models.CheckText(verr, "recommended_title", *ch.RecommendedTitle, 0, 120)
		ch.RecommendedTitle = &t
	}
	if err := verr.Err(); err != nil {
		return nil, err
	}
	err := s.tx(withUserActor(ctx, actor), func(tx *gorm.DB) error {
		return s.trackLead(tx, id, func() error { return s.updateLead(tx, id, ch, actor) })
	})
	if err != nil {
		return nil, err
	}
	if ch.SetOwner && ch.OwnerID != nil {
		s.signalOutbox()
	}
	return s.LeadRowByID(ctx, id)
}

func (s *Store) updateLead(tx *gorm.DB, id uint, ch models.LeadChange, actor *models.User) error {
	var l models.Lead
	if err := s.lockRows(tx.Where("id = ? AND erased_at IS NULL", id)).Take(&l).Error; err != nil {
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return models.ErrNotFound
		}
		return err
	}
	upd := map[string]any{}
	var events []models.Event
	change := func(col, typ string, from, to any) {
		upd[col] = to
		events = append(events, models.Event{Type: typ, Data: encodeJSON(map[string]any{"from": from, "to": to})})
	}
	if ch.Status != nil && *ch.Status != l.Status {
		change("status", "lead.status_changed", l.Status, *ch.Status)
	}
	if ch.RecommendedTitle != nil && *ch.RecommendedTitle != l.RecommendedTitle {
		change("recommended_title", "lead.recommended_title_changed", l.RecommendedTitle, *ch.RecommendedTitle)
	}
	var newOwner *models.User
	if ch.SetOwner && !sameOwner(l.OwnerID, ch.OwnerID) {
		var err error
		if newOwner, err = s.ownerEvent(tx, &l, ch.OwnerID, upd, &events); err != nil {
			return err
		}
	}
	if len(upd) == 0 {
		return nil
	}
	upd["updated_at"] = s.txNow(tx)
	if err := tx.Model(&models.Lead{}).Where("id = ?", id).Updates(upd).Error; err != nil {
		return err
	}
	changes := map[string]any{}
	for _, e := range events {
		e.LeadID, e.Actor, e.CreatedAt = &l.ID, actorName(actor), s.txNow(tx)
		if err := tx.Create(&e).Error; err != nil {
			return err
		}
		var d map[string]any
		_ = json.Unmarshal([]byte(e.Data), &d)
		changes[strings.TrimSuffix(strings.TrimPrefix(e.Type, "lead."), "_changed")] = d
	}
	details := leadDetails(&l)
	details["changes"] = changes
	if err := s.audit(tx, models.AuditLeadUpdated, models.AuditTarget{Type: models.AuditTargetLead, ID: l.ID}, details); err != nil {
		return err
	}
	if err := s.tellNewOwner(tx, &l, newOwner, actor); err != nil {
		return err
	}
	return s.queueWebhooks(tx, l.ID, 0, models.WebhookLeadUpdated)
}

func sameOwner(a, b *uint) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return *a == *b
}

// ownerEvent checks the new owner and records the change, with both
// owners' names so the timeline can tell it without looking them up. It
// returns the new owner, nil when the lead is left without one.
func (s *Store) ownerEvent(tx *gorm.DB, l *models.Lead, to *uint, upd map[string]any, events *[]models.Event) (*models.User, error) {
	data := map[string]any{"from": l.OwnerID, "to": to}
	if l.OwnerID != nil {
		var prev models.User
		if err := tx.Select("name").Where("id = ?", *l.OwnerID).Take(&prev).Error; err == nil {
			data["from_name"] = prev.Name
		}
	}
	var owner *models.User
	if to != nil {
		var u models.User
		err := tx.Where("id = ? AND disabled = ? AND password_hash <> ''", *to, false).Take(&u).Error
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return nil, models.Invalid("owner_id", "must be an enabled staff user")
		}
		if err != nil {
			return nil, err
		}
		data["to_name"] = u.Name
		upd["owner_id"] = u.ID
		owner = &u
	} else {
		upd["owner_id"] = nil
	}
	*events = append(*events, models.Event{Type: "lead.owner_changed", Data: encodeJSON(data)})
	return owner, nil
}

// tellNewOwner emails the lead's new owner that it is theirs, with its next
// call if it has one; nobody is emailed about a lead they took themselves.
func (s *Store) tellNewOwner(tx *gorm.DB, l *models.Lead, owner, actor *models.User) error {
	if owner == nil || (actor != nil && actor.ID == owner.ID) {
		return nil
	}
	next, err := s.nextCallOf(tx, l.ID)
	if err != nil {
		return err
	}
	by := ""
	if actor != nil {
		by = actor.Name
	}
	return s.queueLeadAssigned(tx, l, owner, by, next)
}

// maxNoteLen bounds a note, in characters.
const maxNoteLen = 10000

// AddNote adds a note by author to a lead and writes note.added in the same
// transaction. An empty or overlong body is a ValidationError; an unknown
// or erased lead ErrNotFound.
func (s *Store) AddNote(ctx context.Context, leadID uint, body string, author *models.User) (*models.NoteRow, error) {
	ctx, now := s.withTxNow(ctx)
	verr := &models.ValidationError{}
	body = models.CheckMultiline(verr, "body", body, maxNoteLen)
	if body == "" {
		verr.Add("body", "is required")
	}
	if err := verr.Err(); err != nil {
		return nil, err
	}
	n := &models.Note{LeadID: leadID, AuthorID: author.ID, Body: body, CreatedAt: now}
	err := s.tx(withUserActor(ctx, author), func(tx *gorm.DB) error {
		var l models.Lead
		if err := tx.Select("id, name, email").Where("id = ? AND erased_at IS NULL", leadID).Limit(1).Find(&l).Error; err != nil {
			return err
		}
		if l.ID == 0 {
			return models.ErrNotFound
		}
		if err := tx.Create(n).Error; err != nil {
			return err
		}
		if err := tx.Model(&models.Lead{}).Where("id = ?", leadID).Update("updated_at", s.txNow(tx)).Error; err != nil {
			return err
		}
		if err := s.addEvent(tx, leadID, 0, "note.added", models.ActorUser(author), map[string]any{"note_id": n.ID}); err != nil {
			return err
		}
		details := leadDetails(&l)
		details["note_id"] = n.ID
		return s.audit(tx, models.AuditLeadNoteAdded, models.AuditTarget{Type: models.AuditTargetLead, ID: leadID}, details)
	})
	if err != nil {
		return nil, err
	}
	return &models.NoteRow{Note: *n, AuthorName: author.Name}, nil
}

// maxTitles bounds the target-title choices the lead list offers.
const maxTitles = 200

// TargetTitles lists the distinct target titles live leads have given, in
// order, at most 200. It walks the target_title index one value at a time
// (a loose index scan), so it costs one seek per title, not a table scan.
func (s *Store) TargetTitles(ctx context.Context) ([]string, error) {
	titles := []string{}
	err := s.read.WithContext(ctx).Raw(targetTitlesSQL, maxTitles).Scan(&titles).Error
	return titles, err
}

// targetTitlesSQL walks the live leads' titles. Live leads only, which the
// list shows: the condition also lets each step seek the partial index
// ix_leads_live_title; without it every step scanned a million index
// entries (20 s on a loaded machine).
const targetTitlesSQL = `WITH RECURSIVE t(v) AS (
		SELECT MIN(target_title) FROM leads WHERE erased_at IS NULL
		UNION ALL
		SELECT (SELECT MIN(l.target_title) FROM leads l WHERE l.erased_at IS NULL AND l.target_title > t.v) FROM t WHERE t.v IS NOT NULL
	) SELECT v FROM t WHERE v IS NOT NULL AND v <> '' LIMIT ?`

// CountLeadsUpTo counts the leads matching f, stopping at max: more is
// true when there are more than max. It bounds the cost of a count on a
// very large table.
func (s *Store) CountLeadsUpTo(ctx context.Context, f LeadFilter, max int) (n int64, more bool, err error) {
	sub := f.apply(s.read.WithContext(ctx).Table("leads").Select("1")).Limit(max + 1)
	err = s.read.WithContext(ctx).Table("(?) AS m", sub).Count(&n).Error
	if n > int64(max) {
		return int64(max), true, err
	}
	return n, false, err
}
