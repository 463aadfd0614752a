package store

import (
	"context"

	"github.com/callbook/callbook/models"
	"gorm.io/gorm"
)

// DisqualifyLead keeps a visitor the routes turned away as a lead, so sales
// can follow up: it upserts the lead by email as a booking would, keeps the
// answers, writes lead.disqualified and queues that webhook, and the role's
// follow-up emails for a visitor turned away. It books nothing.
func (s *Store) DisqualifyLead(ctx context.Context, req models.BookingRequest, d models.Disqualification) (*models.Lead, error) {
	var lead *models.Lead
	// The embed's source marks record bookings made through it; a visitor
	// turned away booked nothing.
	req.Source, req.PageURL = "", ""
	err := s.tx(ctx, func(tx *gorm.DB) error {
		l, isNew, leadStats, err := s.upsertLead(tx, req, false)
		if err != nil {
			return err
		}
		if err := s.addStats(tx, leadStats...); err != nil {
			return err
		}
		if err := s.saveAnswers(tx, l, req.Answers, isNew); err != nil {
			return err
		}
		events := make([]models.Event, 0, 2)
		if isNew {
			events = append(events, s.newEvent(s.txNow(tx), l.ID, 0, "lead.created", models.ActorVisitor, leadCreated(l)))
		}
		events = append(events, s.newEvent(s.txNow(tx), l.ID, 0, "lead.disqualified", models.ActorVisitor, map[string]any{
			"role_slug": req.RoleSlug, "answers": req.Answers, "message": d.Message, "url": d.URL}))
		lead = l
		if err := s.insertEvents(tx, events...); err != nil {
			return err
		}
		if err := s.queueFollowups(tx, models.FollowupDisqualified, l, nil, nil, req.RoleSlug); err != nil {
			return err
		}
		return s.queueWebhooks(tx, l.ID, 0, newLeadWebhooks(isNew, models.WebhookLeadDisqualified)...)
	})
	return lead, err
}
