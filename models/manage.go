package models

// Timeline events of a visitor's or a staff member's change to a booking.
const (
	EventBookingRescheduled = "booking.rescheduled"
	EventBookingCanceled    = "booking.canceled"
)
