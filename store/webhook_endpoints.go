package store

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/callbook/callbook/models"
)

// SetWebhookRenderer installs the renderer of webhook payloads (main wires
// the HTTP layer's). Until one is set, payloads carry ids only. Call it at
// start, before any change is made.
func (s *Store) SetWebhookRenderer(r models.WebhookRenderer) { s.webhookRender = r }

// CreateWebhook stores a new webhook with a fresh secret. Events must be
// known types or ["*"] (ValidationError on "events").
func (s *Store) CreateWebhook(ctx context.Context, in models.WebhookInput, actor *models.User) (*models.Webhook, error) {
	ctx, now := s.withTxNow(ctx)
	events, err := webhookEvents(in.Events)
	if err != nil {
		return nil, err
	}
	w := &models.Webhook{URL: in.URL, Events: events, Secret: models.NewWebhookSecret(), CreatedAt: now, CreatedBy: actorName(actor)}
	err = s.tx(withUserActor(ctx, actor), func(tx *gorm.DB) error {
		if err := tx.Create(w).Error; err != nil {
			return err
		}
		return s.audit(tx, models.AuditWebhookCreated, models.AuditTarget{Type: models.AuditTargetWebhook, ID: w.ID},
			map[string]any{"url": w.URL, "events": in.Events})
	})
	if err != nil {
		return nil, err
	}
	return w, nil
}

func webhookEvents(in []string) (string, error) {
	if len(in) == 0 {
		return "", models.Invalid("events", `must list at least one event type, or "*" for all`)
	}
	known := models.WebhookEventTypes()
	var out []string
	for _, e := range in {
		e = strings.TrimSpace(e)
		switch {
		case e == models.WebhookAllEvents:
			return models.WebhookAllEvents, nil
		case !slices.Contains(known, e):
			return "", models.Invalid("events", "unknown event type "+strings.Trim(jsonString(e), `"`)+"; use "+strings.Join(known, ", ")+` or "*"`)
		case !slices.Contains(out, e):
			out = append(out, e)
		}
	}
	return "," + strings.Join(out, ",") + ",", nil
}

func jsonString(s string) string { b, _ := json.Marshal(s); return string(b) }

// ListWebhooks returns every webhook, oldest first.
func (s *Store) ListWebhooks(ctx context.Context) ([]models.Webhook, error) {
	hooks := []models.Webhook{}
	return hooks, s.read.WithContext(ctx).Order("id").Find(&hooks).Error
}

// WebhookByID returns one webhook, or ErrNotFound.
func (s *Store) WebhookByID(ctx context.Context, id uint) (*models.Webhook, error) {
	var w models.Webhook
	err := s.read.WithContext(ctx).Where("id = ?", id).Take(&w).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, models.ErrNotFound
	}
	return &w, err
}

// DeleteWebhook removes a webhook and its deliveries, sent or not.
// ErrNotFound when there is none.
func (s *Store) DeleteWebhook(ctx context.Context, id uint) error {
	return s.tx(ctx, func(tx *gorm.DB) error {
		res := tx.Where("id = ?", id).Delete(&models.Webhook{})
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return models.ErrNotFound
		}
		if err := tx.Where("webhook_id = ?", id).Delete(&models.WebhookDelivery{}).Error; err != nil {
			return err
		}
		return s.audit(tx, models.AuditWebhookDeleted, models.AuditTarget{Type: models.AuditTargetWebhook, ID: id}, nil)
	})
}

// EnableWebhook lets a disabled webhook receive again: it clears the
// disabling and the failure count, and its pending deliveries go out at
// once. ErrNotFound when there is none.
func (s *Store) EnableWebhook(ctx context.Context, id uint) error {
	ctx, now := s.withTxNow(ctx)
	err := s.tx(ctx, func(tx *gorm.DB) error {
		res := tx.Model(&models.Webhook{}).Where("id = ?", id).Updates(map[string]any{
			"disabled_at": nil, "disabled_reason": "", "failures": 0, "failing_since": nil, "paused_until": nil,
		})
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return models.ErrNotFound
		}
		if err := flushWebhook(tx, id, now); err != nil {
			return err
		}
		return s.audit(tx, models.AuditWebhookEnabled, models.AuditTarget{Type: models.AuditTargetWebhook, ID: id}, nil)
	})
	if err == nil {
		s.signalWebhooks()
	}
	return err
}

// queueWebhooks writes, inside the transaction of a change, one delivery
// per webhook subscribed to each of types, all rendered from the state tx
// sees now. With no subscriber it costs one small query.
//
// Deliveries of one lead must leave in the order their changes commit. On
// PostgreSQL a transaction-scoped lock on the lead, taken here, orders the
// delivery ids of concurrent changes to one lead as their commits; callers
// must therefore call this last in their transaction, after every other
// lock they take, so the lock's holder never waits on anything.
func (s *Store) queueWebhooks(tx *gorm.DB, leadID, bookingID uint, types ...string) error {
	hooks, err := s.liveWebhooks(tx)
	if err != nil {
		return err
	}
	if len(hooks) == 0 || leadID == 0 {
		return nil
	}
	var change *models.WebhookChange
	now := s.txNow(tx)
	var rows []models.WebhookDelivery
	for _, typ := range types {
		var body string
		msgID := "msg_" + RandomToken(16)
		for _, h := range hooks {
			if h.Events != models.WebhookAllEvents && !strings.Contains(h.Events, ","+typ+",") {
				continue
			}
			if body == "" {
				if change == nil {
					// The payload reads the lead as the transaction left it.
					if err := s.flushDeferredOf(tx); err != nil {
						return err
					}
					c, err := s.webhookChange(tx, leadID, bookingID)
					if err != nil {
						return err
					}
					change = c
				}
				change.Type = typ
				b, err := s.webhookBody(*change, now)
				if err != nil {
					return err
				}
				body = b
			}
			rows = append(rows, models.WebhookDelivery{
				WebhookID: h.ID, LeadID: leadID, BookingID: optID(bookingID), MessageID: msgID, Type: typ, Body: body,
				Status: models.DeliveryPending, NextAttemptAt: now, CreatedAt: now, UpdatedAt: now,
			})
		}
	}
	if len(rows) == 0 {
		return nil
	}
	if s.dialect == DialectPostgres {
		if err := tx.Exec("SELECT pg_advisory_xact_lock(4242007, CAST(? AS integer))", int32(leadID)).Error; err != nil {
			return err
		}
	}
	if err := tx.Create(&rows).Error; err != nil {
		return err
	}
	markWebhooksQueued(tx)
	return nil
}

// liveWebhooks lists the id and events of each webhook not disabled.
func (s *Store) liveWebhooks(tx *gorm.DB) ([]models.Webhook, error) {
	return readOnce(tx, func(r *batchReads) *once[[]models.Webhook] { return &r.webhooks }, func() ([]models.Webhook, error) {
		var hooks []models.Webhook
		err := tx.Select("id", "events").Where("disabled_at IS NULL").Find(&hooks).Error
		return hooks, err
	})
}

func optID(id uint) *uint {
	if id == 0 {
		return nil
	}
	return &id
}

// webhookChange loads the lead (with its figures) and the booking as tx
// sees them. An erased lead is reported by id only.
func (s *Store) webhookChange(tx *gorm.DB, leadID, bookingID uint) (*models.WebhookChange, error) {
	c := &models.WebhookChange{}
	var lead models.LeadRow
	sel, args := leadRowSelect(s.txNow(tx))
	if err := tx.Table("leads").Select(sel, args...).Joins("LEFT JOIN users u ON u.id = leads.owner_id").
		Where("leads.id = ?", leadID).Take(&lead).Error; err != nil {
		return nil, err
	}
	c.Lead = &lead
	if bookingID != 0 {
		var b models.Booking
		if err := tx.Where("id = ?", bookingID).Take(&b).Error; err != nil {
			return nil, err
		}
		c.Booking = &b
		var host models.User
		if err := tx.Select("name").Where("id = ?", b.HostID).Take(&host).Error; err != nil && !errors.Is(err, gorm.ErrRecordNotFound) {
			return nil, err
		}
		c.HostName = host.Name
		if b.Collective { // every host, as this transaction sees them
			hosts, err := bookingHosts(tx, &b)
			if err != nil {
				return nil, err
			}
			c.Hosts = hosts
		}
	}
	return c, nil
}

// webhookBody is the payload: type, time of the change, and the data the
// renderer makes (ids only without one, and always for lead.erased).
func (s *Store) webhookBody(c models.WebhookChange, at time.Time) (string, error) {
	var data json.RawMessage
	if s.webhookRender != nil && c.Type != models.WebhookLeadErased {
		d, err := s.webhookRender(c)
		if err != nil {
			return "", err
		}
		data = d
	} else {
		ids := map[string]any{"lead": map[string]any{"id": c.Lead.ID}}
		if c.Booking != nil {
			ids["booking"] = map[string]any{"id": c.Booking.ID}
		}
		data, _ = json.Marshal(ids)
	}
	b, err := json.Marshal(struct {
		Type      string          `json:"type"`
		Timestamp string          `json:"timestamp"`
		Data      json.RawMessage `json:"data"`
	}{c.Type, at.UTC().Format(time.RFC3339Nano), data})
	return string(b), err
}

// eraseWebhookData runs in an erasure: deliveries of the lead that have not
// gone out are withdrawn, and the bodies kept of every delivery of the lead
// lose the person's data; then lead.erased (ids only) is queued.
func (s *Store) eraseWebhookData(tx *gorm.DB, leadID uint) error {
	now := s.txNow(tx)
	if err := tx.Model(&models.WebhookDelivery{}).Where("lead_id = ? AND status = ?", leadID, models.DeliveryPending).
		Updates(map[string]any{"status": models.DeliveryCanceled, "last_error": "withdrawn: the lead was erased", "updated_at": now}).Error; err != nil {
		return err
	}
	if err := tx.Model(&models.WebhookDelivery{}).Where("lead_id = ?", leadID).
		Updates(map[string]any{"body": `{"erased":true}`, "last_response": "", "updated_at": now}).Error; err != nil {
		return err
	}
	return s.queueWebhooks(tx, leadID, 0, models.WebhookLeadErased)
}

// newLeadWebhooks puts lead.created before types when the change created
// the lead.
func newLeadWebhooks(isNew bool, types ...string) []string {
	if isNew {
		return append([]string{models.WebhookLeadCreated}, types...)
	}
	return types
}
