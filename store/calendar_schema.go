package store

import "github.com/callbook/callbook/models"

func calendarModels() []any {
	return []any{&models.CalendarSource{}, &models.CalendarBusy{}, &models.HostFeed{}}
}
