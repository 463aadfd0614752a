package models

// FeedCall is one call in a host's private feed.
type FeedCall struct {
	Booking Booking
	LeadID  uint
	Name    string
	// Location is where the call happens, as a calendar's LOCATION shows
	// it; empty when the host has no meeting place.
	Location string
}
