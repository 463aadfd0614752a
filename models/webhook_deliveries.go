package models

import (
	"errors"
	"time"
)

// ErrDeliveryClaimLost means a sender tried to record an attempt on a
// delivery it no longer holds (its lease ran out and another sender took
// it over). Nothing is written.
var ErrDeliveryClaimLost = errors.New("webhooks: the claim on this delivery was lost")

// DeliveryAttempt is what became of one claimed delivery.
type DeliveryAttempt struct {
	// Delivery is the row as ClaimWebhookDeliveries returned it.
	Delivery WebhookDelivery
	// Status is DeliveryDelivered, DeliveryFailed (given up), or
	// DeliveryPending for another attempt at NextAttemptAt.
	Status        string
	NextAttemptAt time.Time
	StatusCode    int
	Duration      time.Duration
	Response      string
	Error         string
	// PauseFor holds the webhook's other deliveries back this long after a
	// failure; zero leaves the webhook as it is.
	PauseFor time.Duration
	// Disable disables the webhook (the receiver answered 410 Gone).
	Disable bool
}
