package models

import (
	"time"
)

// LeadRow is a lead with the figures the list shows beside it.
type LeadRow struct {
	Lead
	BookingsCount int64
	OpenTasks     int64      // tasks not yet done
	NextCallAt    *time.Time `gorm:"serializer:dbtime"` // computed: text on SQLite
	LastCallAt    *time.Time `gorm:"serializer:dbtime"`
	OwnerEmail    string
	OwnerName     string
}
