package models

// EventReminderSent is the timeline event written with each reminder email.
const EventReminderSent = "reminder.sent"
