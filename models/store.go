// Package models holds Callbook's domain types, its GORM schema and
// migrations, the slot arithmetic and the Store through which every query and
// transaction runs. It imports none of the other Callbook packages.
package models

import (
	"time"
)

// ReminderOffset is one reminder, Label as written in configuration.
type ReminderOffset struct {
	Label  string
	Before time.Duration
}
