package models

import (
	"errors"
	"time"
)

// ErrOutboxClaimLost means a sender tried to record the outcome of a row it
// no longer holds: its lease ran out and another sender claimed the row, or
// the row was changed meanwhile. The caller's outcome is not written.
var ErrOutboxClaimLost = errors.New("outbox: the claim on this email was lost")

// OutboxOutcome is what became of one claimed email, for RecordOutbox.
type OutboxOutcome struct {
	// Message is the row as ClaimOutbox returned it.
	Message OutboxMessage
	// Status is OutboxSent, OutboxFailed, or OutboxPending for another
	// attempt at NextAttemptAt (the attempt stays counted).
	Status        string
	Error         string
	NextAttemptAt time.Time
}
