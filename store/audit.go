package store

import (
	"context"
	"time"

	"gorm.io/gorm"

	"github.com/callbook/callbook/models"
)

// The audit log records who changed what, inside the transaction of the
// change: a change that commits always has its entry, and a change that
// rolls back leaves none. The actor travels in the context:
//
//	ctx = store.WithActor(ctx, models.UserActor(u, ip)) // handlers, for each staff request
//	ctx = store.WithActor(ctx, models.CLIActor("callbook user add (alice)"))
//
// and a store method writes the entry with s.audit(tx, action, target,
// details) in its own transaction, after the change. Without an actor in
// the context the entry names the system.

type actorKey struct{}

// WithActor returns ctx carrying a, the actor the audit log records for
// every change made under ctx.
func WithActor(ctx context.Context, a models.Actor) context.Context {
	return context.WithValue(ctx, actorKey{}, a)
}

// ActorFrom returns the actor ctx carries, and whether it carries one.
func ActorFrom(ctx context.Context) (models.Actor, bool) {
	a, ok := ctx.Value(actorKey{}).(models.Actor)
	return a, ok
}

// withUserActor makes u the actor of ctx unless ctx names one already: for
// methods that are told their staff user directly.
func withUserActor(ctx context.Context, u *models.User) context.Context {
	if _, ok := ActorFrom(ctx); ok || u == nil {
		return ctx
	}
	return WithActor(ctx, models.UserActor(u, ""))
}

// audit writes one audit entry inside tx for the actor of tx's context
// (the system when it has none). details is a map or struct whose JSON is
// an object; nil gives {}. An entry about a lead (target of type lead, or
// details with a "lead_id") is marked with the lead, so that erasing the
// lead can scrub it.
func (s *Store) audit(tx *gorm.DB, action string, target models.AuditTarget, details map[string]any) error {
	a, ok := ActorFrom(txContext(tx))
	if !ok {
		a = models.SystemActor()
	}
	return s.auditAs(tx, a, action, target, details)
}

// auditAs is audit for an actor given explicitly (sign-ins, where the
// actor is who tries).
func (s *Store) auditAs(tx *gorm.DB, a models.Actor, action string, target models.AuditTarget, details map[string]any) error {
	if details == nil {
		details = map[string]any{}
	}
	if a.Command != "" {
		details["command"] = a.Command
	}
	var leadID *uint
	if target.Type == models.AuditTargetLead && target.ID != 0 {
		leadID = optID(target.ID)
	} else if id, ok := details["lead_id"].(uint); ok && id != 0 {
		leadID = optID(id)
	}
	email, ip := a.Email, a.IP
	if len(email) > 254 {
		email = email[:254]
	}
	if len(ip) > 64 {
		ip = ip[:64]
	}
	_, err := s.exec(tx, "INSERT INTO audit_log (at, actor_kind, actor_id, actor_email, action, target_type, target_id, ip, lead_id, details) "+
		"VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
		s.txNow(tx), a.Kind, nullID(optID(a.ID)), email, action, target.Type, nullID(optID(target.ID)), ip, nullID(leadID), encodeJSON(details))
	return err
}

// scrubAudit removes the personal data of lead l from the details of every
// audit entry about it (models.PersonalAuditKeys), in the erasure's
// transaction.
func scrubAudit(tx *gorm.DB, l *models.Lead, _ time.Time) error {
	var rows []models.AuditEntry
	if err := tx.Select("id, details").Where("lead_id = ?", l.ID).Find(&rows).Error; err != nil {
		return err
	}
	for _, r := range rows {
		clean := models.ScrubAuditDetails(r.Details)
		if clean == r.Details {
			continue
		}
		if err := tx.Model(&models.AuditEntry{}).Where("id = ?", r.ID).Update("details", clean).Error; err != nil {
			return err
		}
	}
	return nil
}

// leadDetails are the details every entry about lead l starts with: who
// the lead is, for the reader of the log (scrubbed when l is erased).
func leadDetails(l *models.Lead) map[string]any {
	return map[string]any{"lead_name": l.Name, "lead_email": l.Email}
}

// RecordAccessDenied writes an access.denied entry for ctx's actor, who
// asked for method and path, which their role does not allow. There is no
// change to join: it has a transaction of its own.
func (s *Store) RecordAccessDenied(ctx context.Context, method, path string) error {
	if len(path) > 500 {
		path = path[:500]
	}
	return s.tx(ctx, func(tx *gorm.DB) error {
		return s.audit(tx, models.AuditAccessDenied, models.AuditTarget{}, map[string]any{"method": method, "path": path})
	})
}

// AuditFilter selects audit entries; zero fields select everything.
type AuditFilter struct {
	ActorID    *uint
	Action     string
	TargetType string
	TargetID   *uint
	From, To   time.Time // at >= From, at < To
}

func (f AuditFilter) apply(q *gorm.DB) *gorm.DB {
	if f.ActorID != nil {
		q = q.Where("actor_id = ?", *f.ActorID)
	}
	if f.Action != "" {
		q = q.Where("action = ?", f.Action)
	}
	if f.TargetType != "" {
		q = q.Where("target_type = ?", f.TargetType)
	}
	if f.TargetID != nil {
		q = q.Where("target_id = ?", *f.TargetID)
	}
	if !f.From.IsZero() {
		q = q.Where("at >= ?", f.From.UTC())
	}
	if !f.To.IsZero() {
		q = q.Where("at < ?", f.To.UTC())
	}
	return q
}

// MaxAuditPage bounds one page of the audit log.
const MaxAuditPage = 500

// ListAudit returns up to limit entries matching f, newest first, after
// the cursor of the previous page; the next cursor is "" on the last page.
// Paging is by id (keyset), the order entries were written in.
func (s *Store) ListAudit(ctx context.Context, f AuditFilter, limit int, cursor string) ([]models.AuditEntry, string, error) {
	if limit <= 0 || limit > MaxAuditPage {
		limit = 100
	}
	q := f.apply(s.read.WithContext(ctx).Model(&models.AuditEntry{}))
	if cursor != "" {
		after, err := decodeAuditCursor(cursor)
		if err != nil {
			return nil, "", models.Invalid("cursor", "not a cursor from a previous page")
		}
		q = q.Where("id < ?", after)
	}
	rows := []models.AuditEntry{}
	if err := q.Order("id DESC").Limit(limit + 1).Find(&rows).Error; err != nil {
		return nil, "", err
	}
	next := ""
	if len(rows) > limit {
		rows = rows[:limit]
		next = encodeAuditCursor(rows[limit-1].ID)
	}
	for i := range rows {
		rows[i].At = rows[i].At.UTC()
	}
	return rows, next, nil
}

// EachAudit calls fn for every entry matching f, newest first, reading a
// page at a time (the CSV download), and stops at fn's first error.
func (s *Store) EachAudit(ctx context.Context, f AuditFilter, fn func(*models.AuditEntry) error) error {
	cursor := ""
	for {
		rows, next, err := s.ListAudit(ctx, f, MaxAuditPage, cursor)
		if err != nil {
			return err
		}
		for i := range rows {
			if err := fn(&rows[i]); err != nil {
				return err
			}
		}
		if next == "" {
			return nil
		}
		cursor = next
	}
}

func encodeAuditCursor(id uint) string { return encodeKeyCursor('a', id) }

func decodeAuditCursor(c string) (uint, error) { return decodeKeyCursor('a', c) }
