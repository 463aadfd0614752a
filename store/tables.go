package store

import "github.com/callbook/callbook/models"

// allModels is every table, in creation order.
func allModels() []any {
	return []any{
		&models.User{}, &models.AvailabilityOverride{}, &models.Setting{}, &models.Lead{}, &models.Booking{}, &models.BookingClaim{},
		&models.Reminder{}, &models.OutboxMessage{}, &models.Event{}, &models.Note{}, &models.IdempotencyKey{}, &models.Session{},
		&models.APIToken{}, &models.LoginAttempt{},
	}
}

func calendarModels() []any {
	return []any{&models.CalendarSource{}, &models.CalendarBusy{}, &models.HostFeed{}}
}
