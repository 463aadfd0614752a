package models

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"time"

	"gorm.io/gorm"
)

// Webhook event types: every change a receiver can subscribe to.
const (
	WebhookLeadCreated        = "lead.created"
	WebhookLeadUpdated        = "lead.updated"
	WebhookLeadDisqualified   = "lead.disqualified"
	WebhookLeadErased         = "lead.erased"
	WebhookBookingCreated     = "booking.created"
	WebhookBookingRescheduled = "booking.rescheduled"
	WebhookBookingCanceled    = "booking.canceled"
	WebhookBookingOutcome     = "booking.outcome"
	// WebhookAllEvents subscribes a webhook to every type, present and future.
	WebhookAllEvents = "*"
)

// WebhookEventTypes lists every event type, in the order the staff area
// offers them.
func WebhookEventTypes() []string {
	return []string{WebhookLeadCreated, WebhookLeadUpdated, WebhookLeadDisqualified, WebhookLeadErased,
		WebhookBookingCreated, WebhookBookingRescheduled, WebhookBookingCanceled, WebhookBookingOutcome}
}

// Webhook delivery statuses.
const (
	DeliveryPending   = "pending"
	DeliverySending   = "sending"
	DeliveryDelivered = "delivered"
	DeliveryFailed    = "failed"
	DeliveryCanceled  = "canceled"
)

// Webhook states as the staff area and /metrics show them.
const (
	WebhookOK       = "ok"
	WebhookFailing  = "failing"
	WebhookDisabled = "disabled"
)

// Webhook is a receiver of signed change notifications.
type Webhook struct {
	ID  uint   `gorm:"primaryKey"`
	URL string `gorm:"size:2000;not null"`
	// Events is "*" or the subscribed types joined and framed by commas
	// (",lead.created,booking.created,"), so one LIKE finds subscribers.
	Events string `gorm:"size:500;not null"`
	// Secret is "whsec_" and the base64 signing key; shown once at creation.
	Secret    string `gorm:"size:200;not null"`
	CreatedBy string `gorm:"size:200;not null;default:''"`
	CreatedAt time.Time
	// DisabledAt is set when the receiver answered 410 Gone.
	DisabledAt     *time.Time
	DisabledReason string `gorm:"size:500;not null;default:''"`
	// Failures counts attempts that failed since the last success; the
	// webhook is failing while it is above zero.
	Failures     int `gorm:"not null;default:0"`
	FailingSince *time.Time
	// PausedUntil holds back the webhook's other deliveries after a failure,
	// so a dead receiver costs one attempt per pause, not one per delivery.
	PausedUntil *time.Time
	LastError   string `gorm:"type:text;not null;default:''"`
}

// EventList is the subscribed types, or ["*"].
func (w *Webhook) EventList() []string {
	if w.Events == WebhookAllEvents {
		return []string{WebhookAllEvents}
	}
	return strings.FieldsFunc(w.Events, func(r rune) bool { return r == ',' })
}

// State is ok, failing or disabled.
func (w *Webhook) State() string {
	switch {
	case w.DisabledAt != nil:
		return WebhookDisabled
	case w.Failures > 0:
		return WebhookFailing
	}
	return WebhookOK
}

// WebhookDelivery is one change on its way to one webhook. Its body is
// fixed when the change commits; every attempt sends the same body under
// the same MessageID.
type WebhookDelivery struct {
	ID        uint  `gorm:"primaryKey"`
	WebhookID uint  `gorm:"not null;index:ix_webhook_deliveries_hook,priority:1"`
	LeadID    uint  `gorm:"not null;index"`
	BookingID *uint `gorm:"index"`
	// MessageID is the webhook-id header: one per change, stable across
	// retries and shared by the change's deliveries to every webhook.
	MessageID     string    `gorm:"size:64;not null"`
	Type          string    `gorm:"size:40;not null"`
	Body          string    `gorm:"type:text;not null"`
	Status        string    `gorm:"size:16;not null;index:ix_webhook_deliveries_due,priority:1"`
	Attempts      int       `gorm:"not null;default:0"`
	NextAttemptAt time.Time `gorm:"not null;index:ix_webhook_deliveries_due,priority:2"`
	ClaimedUntil  *time.Time
	// The last attempt: the receiver's status code (0: no answer), how long
	// it took, the start of its answer, or why there was none.
	LastStatusCode int    `gorm:"not null;default:0"`
	LastDurationMS int64  `gorm:"not null;default:0"`
	LastResponse   string `gorm:"type:text;not null;default:''"`
	LastError      string `gorm:"type:text;not null;default:''"`
	LastAttemptAt  *time.Time
	DeliveredAt    *time.Time
	CreatedAt      time.Time `gorm:"not null;index:ix_webhook_deliveries_hook,priority:2"`
	UpdatedAt      time.Time `gorm:"not null"`
}

// WebhookChange is one change as a webhook payload reports it.
type WebhookChange struct {
	Type string
	// Lead is the lead after the change, with its figures.
	Lead *LeadRow
	// Booking is the booking the change concerns; nil for lead events.
	Booking  *Booking
	HostName string
}

// WebhookRenderer renders a change into the payload's "data" object, with
// the same JSON shapes as the API. It runs inside the change's transaction.
type WebhookRenderer func(WebhookChange) (json.RawMessage, error)

// SetWebhookRenderer installs the renderer of webhook payloads (main wires
// the HTTP layer's). Until one is set, payloads carry ids only. Call it at
// start, before any change is made.
func (s *Store) SetWebhookRenderer(r WebhookRenderer) { s.webhookRender = r }

// NewWebhookSecret returns a fresh "whsec_" secret with a 24-byte key.
func NewWebhookSecret() string {
	b := make([]byte, 24)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return "whsec_" + base64.StdEncoding.EncodeToString(b)
}

// WebhookInput is a new webhook as an admin asks for it. The URL must have
// been checked by the caller (scheme and address rules are the HTTP
// layer's); events are checked here.
type WebhookInput struct {
	URL    string
	Events []string
}

// CreateWebhook stores a new webhook with a fresh secret. Events must be
// known types or ["*"] (ValidationError on "events").
func (s *Store) CreateWebhook(ctx context.Context, in WebhookInput, actor *User) (*Webhook, error) {
	events, err := webhookEvents(in.Events)
	if err != nil {
		return nil, err
	}
	w := &Webhook{URL: in.URL, Events: events, Secret: NewWebhookSecret(), CreatedAt: s.Now(), CreatedBy: actorName(actor)}
	if err := s.tx(ctx, func(tx *gorm.DB) error { return tx.Create(w).Error }); err != nil {
		return nil, err
	}
	return w, nil
}

func webhookEvents(in []string) (string, error) {
	if len(in) == 0 {
		return "", Invalid("events", `must list at least one event type, or "*" for all`)
	}
	known := WebhookEventTypes()
	var out []string
	for _, e := range in {
		e = strings.TrimSpace(e)
		switch {
		case e == WebhookAllEvents:
			return WebhookAllEvents, nil
		case !slices.Contains(known, e):
			return "", Invalid("events", "unknown event type "+strings.Trim(jsonString(e), `"`)+"; use "+strings.Join(known, ", ")+` or "*"`)
		case !slices.Contains(out, e):
			out = append(out, e)
		}
	}
	return "," + strings.Join(out, ",") + ",", nil
}

func jsonString(s string) string { b, _ := json.Marshal(s); return string(b) }

// ListWebhooks returns every webhook, oldest first.
func (s *Store) ListWebhooks(ctx context.Context) ([]Webhook, error) {
	hooks := []Webhook{}
	return hooks, s.read.WithContext(ctx).Order("id").Find(&hooks).Error
}

// WebhookByID returns one webhook, or ErrNotFound.
func (s *Store) WebhookByID(ctx context.Context, id uint) (*Webhook, error) {
	var w Webhook
	err := s.read.WithContext(ctx).Where("id = ?", id).Take(&w).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, ErrNotFound
	}
	return &w, err
}

// DeleteWebhook removes a webhook and its deliveries, sent or not.
// ErrNotFound when there is none.
func (s *Store) DeleteWebhook(ctx context.Context, id uint) error {
	return s.tx(ctx, func(tx *gorm.DB) error {
		res := tx.Where("id = ?", id).Delete(&Webhook{})
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return ErrNotFound
		}
		return tx.Where("webhook_id = ?", id).Delete(&WebhookDelivery{}).Error
	})
}

// EnableWebhook lets a disabled webhook receive again: it clears the
// disabling and the failure count, and its pending deliveries go out at
// once. ErrNotFound when there is none.
func (s *Store) EnableWebhook(ctx context.Context, id uint) error {
	now := s.Now()
	err := s.tx(ctx, func(tx *gorm.DB) error {
		res := tx.Model(&Webhook{}).Where("id = ?", id).Updates(map[string]any{
			"disabled_at": nil, "disabled_reason": "", "failures": 0, "failing_since": nil, "paused_until": nil,
		})
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return ErrNotFound
		}
		return flushWebhook(tx, id, now)
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
	var change *WebhookChange
	now := s.Now()
	var rows []WebhookDelivery
	for _, typ := range types {
		var body string
		msgID := "msg_" + RandomToken(16)
		for _, h := range hooks {
			if h.Events != WebhookAllEvents && !strings.Contains(h.Events, ","+typ+",") {
				continue
			}
			if body == "" {
				if change == nil {
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
			rows = append(rows, WebhookDelivery{
				WebhookID: h.ID, LeadID: leadID, BookingID: optID(bookingID), MessageID: msgID, Type: typ, Body: body,
				Status: DeliveryPending, NextAttemptAt: now, CreatedAt: now, UpdatedAt: now,
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
func (s *Store) liveWebhooks(tx *gorm.DB) ([]Webhook, error) {
	return readOnce(tx, func(r *batchReads) *once[[]Webhook] { return &r.webhooks }, func() ([]Webhook, error) {
		var hooks []Webhook
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
func (s *Store) webhookChange(tx *gorm.DB, leadID, bookingID uint) (*WebhookChange, error) {
	c := &WebhookChange{}
	var lead LeadRow
	sel, args := leadRowSelect(s.Now())
	if err := tx.Table("leads").Select(sel, args...).Joins("LEFT JOIN users u ON u.id = leads.owner_id").
		Where("leads.id = ?", leadID).Take(&lead).Error; err != nil {
		return nil, err
	}
	c.Lead = &lead
	if bookingID != 0 {
		var b Booking
		if err := tx.Where("id = ?", bookingID).Take(&b).Error; err != nil {
			return nil, err
		}
		c.Booking = &b
		var host User
		if err := tx.Select("name").Where("id = ?", b.HostID).Take(&host).Error; err != nil && !errors.Is(err, gorm.ErrRecordNotFound) {
			return nil, err
		}
		c.HostName = host.Name
	}
	return c, nil
}

// webhookBody is the payload: type, time of the change, and the data the
// renderer makes (ids only without one, and always for lead.erased).
func (s *Store) webhookBody(c WebhookChange, at time.Time) (string, error) {
	var data json.RawMessage
	if s.webhookRender != nil && c.Type != WebhookLeadErased {
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
	now := s.Now()
	if err := tx.Model(&WebhookDelivery{}).Where("lead_id = ? AND status = ?", leadID, DeliveryPending).
		Updates(map[string]any{"status": DeliveryCanceled, "last_error": "withdrawn: the lead was erased", "updated_at": now}).Error; err != nil {
		return err
	}
	if err := tx.Model(&WebhookDelivery{}).Where("lead_id = ?", leadID).
		Updates(map[string]any{"body": `{"erased":true}`, "last_response": "", "updated_at": now}).Error; err != nil {
		return err
	}
	return s.queueWebhooks(tx, leadID, 0, WebhookLeadErased)
}

// newLeadWebhooks puts lead.created before types when the change created
// the lead.
func newLeadWebhooks(isNew bool, types ...string) []string {
	if isNew {
		return append([]string{WebhookLeadCreated}, types...)
	}
	return types
}
