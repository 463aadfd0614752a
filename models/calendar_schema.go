package models

import "time"

// Kinds of host calendar source.
const (
	CalendarICS    = "ics"
	CalendarCalDAV = "caldav"
)

// CalendarSource is one of a host's own calendars, read so that its other
// commitments hide the host's slots. Credentials are sealed (see sealSecret)
// and never leave the Store in a listing.
type CalendarSource struct {
	ID             uint   `gorm:"primaryKey"`
	HostID         uint   `gorm:"not null;index"`
	Kind           string `gorm:"size:16;not null"`
	URL            string `gorm:"column:url;size:2048;not null"`
	CredentialsEnc string `gorm:"type:text;not null;default:''"`
	Position       int    `gorm:"not null;default:0"`
	// LastSyncedAt is the last successful read; LastError the failure of
	// the latest attempt, empty after a success.
	LastSyncedAt  *time.Time
	LastAttemptAt *time.Time
	LastError     string `gorm:"size:500;not null;default:''"`
	BusyCount     int    `gorm:"not null;default:0"`
	// BusyHash fingerprints the stored busy times, so a read that changed
	// nothing leaves the slot cache alone.
	BusyHash  string    `gorm:"size:64;not null;default:''"`
	CreatedAt time.Time `gorm:"not null"`
	UpdatedAt time.Time `gorm:"not null"`
}

// CalendarBusy is one busy span of a host, read from one of its sources:
// the last good read of that source.
type CalendarBusy struct {
	ID       uint      `gorm:"primaryKey"`
	SourceID uint      `gorm:"not null;index"`
	HostID   uint      `gorm:"not null;index:ix_calendar_busy_host_end,priority:1"`
	StartAt  time.Time `gorm:"not null"`
	EndAt    time.Time `gorm:"not null;index:ix_calendar_busy_host_end,priority:2"`
}

// TableName keeps the table's name singular, like the concept.
func (CalendarBusy) TableName() string { return "calendar_busy" }

// HostFeed holds the key a host's private calendar feed token is derived
// from. Only a hash of the token is looked up; the token itself is derived
// again (with the service secret) to show it, and a new key replaces it.
type HostFeed struct {
	HostID    uint      `gorm:"primaryKey;autoIncrement:false"`
	FeedKey   string    `gorm:"size:64;not null"`
	TokenHash string    `gorm:"size:64;not null;uniqueIndex"`
	CreatedAt time.Time `gorm:"not null"`
}
