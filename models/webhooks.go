package models

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"strings"
	"time"
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
	WebhookLeadUnsubscribed   = "lead.unsubscribed"
	// WebhookAllEvents subscribes a webhook to every type, present and future.
	WebhookAllEvents = "*"
)

// WebhookEventTypes lists every event type, in the order the staff area
// offers them.
func WebhookEventTypes() []string {
	return []string{WebhookLeadCreated, WebhookLeadUpdated, WebhookLeadDisqualified, WebhookLeadErased,
		WebhookLeadUnsubscribed, WebhookBookingCreated, WebhookBookingRescheduled, WebhookBookingCanceled, WebhookBookingOutcome}
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
	// Hosts are every host of a collective call; nil for one host.
	Hosts []User
}

// WebhookRenderer renders a change into the payload's "data" object, with
// the same JSON shapes as the API. It runs inside the change's transaction.
type WebhookRenderer func(WebhookChange) (json.RawMessage, error)

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
