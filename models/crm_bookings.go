package models

import (
	"time"
)

// Outcomes staff record for a call that has begun.
const (
	OutcomeCompleted = BookingCompleted
	OutcomeNoShow    = BookingNoShow
	// OutcomeHostNoShow is a call the host missed: it is closed as
	// canceled, and the visitor gets an apology with a rebook link.
	OutcomeHostNoShow = "host_no_show"
)

// MailHostNoShow is the visitor's apology for a call the host missed.
const MailHostNoShow = "host-no-show"

// MailBookingLink sends a lead a private booking link staff made for them.
const MailBookingLink = "booking-link"

// StaffBooking is a booking as staff see it: with its lead and host.
type StaffBooking struct {
	Booking
	HostName        string
	LeadName        string
	LeadEmail       string
	LeadTargetTitle string
}

// Begun reports whether the call's start has come at now.
func (b StaffBooking) Begun(now time.Time) bool { return !b.StartAt.After(now) }

// NeedsOutcome reports whether the call has begun, is still confirmed and
// so waits for staff to record what happened.
func (b StaffBooking) NeedsOutcome(now time.Time) bool {
	return b.Status == BookingConfirmed && b.Begun(now)
}
