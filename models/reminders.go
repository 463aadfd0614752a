package models

import "time"

// EventReminderSent is the timeline event written with each reminder email.
const EventReminderSent = "reminder.sent"

// ReminderOffset is one reminder, Label as written in configuration.
type ReminderOffset struct {
	Label  string
	Before time.Duration
}
