package models

import "time"

// Roles a staff user can have.
const (
	RoleAdmin = "admin"
	RoleSales = "sales"
)

// Lead statuses, in the order a lead usually moves through them.
const (
	LeadNew       = "new"
	LeadContacted = "contacted"
	LeadQualified = "qualified"
	LeadClient    = "client"
	LeadLost      = "lost"
)

// LeadStatuses lists every valid lead status in pipeline order.
var LeadStatuses = []string{LeadNew, LeadContacted, LeadQualified, LeadClient, LeadLost}

// Booking statuses.
const (
	BookingConfirmed = "confirmed"
	BookingCanceled  = "canceled"
	BookingCompleted = "completed"
	BookingNoShow    = "no_show"
)

// Outbox statuses. A row is pending until a sender claims it (sending), then
// ends sent or failed; canceled rows were withdrawn before they went out.
const (
	OutboxPending  = "pending"
	OutboxSending  = "sending"
	OutboxSent     = "sent"
	OutboxFailed   = "failed"
	OutboxCanceled = "canceled"
	// OutboxSkipped is a follow-up email that something made pointless
	// before it was due; SkipReason says what.
	OutboxSkipped = "skipped"
)

// Reminder statuses.
const (
	ReminderPending  = "pending"
	ReminderSent     = "sent"
	ReminderSkipped  = "skipped"  // due before the booking was made or moved
	ReminderCanceled = "canceled" // the booking was canceled
)

// User is a staff member: a sales person, an admin, or a host who takes calls
// (or several of these). A user without a password hash cannot sign in.
type User struct {
	ID           uint   `gorm:"primaryKey"`
	Email        string `gorm:"size:254;not null;uniqueIndex"`
	Name         string `gorm:"size:120;not null"`
	Role         string `gorm:"size:16;not null"`
	Host         bool   `gorm:"not null;default:false"`
	Disabled     bool   `gorm:"not null;default:false"`
	PasswordHash string `gorm:"size:255;not null;default:''"`
	FailedLogins int    `gorm:"not null;default:0"`
	LockedUntil  *time.Time
	// WeeklyJSON holds the host's weekly hours as {"mon": [["09:00","17:00"]], …}.
	WeeklyJSON string `gorm:"column:weekly_json;type:text;not null;default:'{}'"`
	MaxPerDay  int    `gorm:"not null;default:0"`
	// The host's own meeting place (see Meeting); an empty kind means the
	// default one.
	MeetingKind    string `gorm:"size:16;not null;default:''"`
	MeetingURL     string `gorm:"column:meeting_url;size:2000;not null;default:''"`
	MeetingAddress string `gorm:"size:500;not null;default:''"`
	// How the host is chosen among free hosts: the highest priority (0–3)
	// first, then the fewest calls per weight (1–100); MaxPerWeek caps the
	// host's calls of all kinds per business week (0: none).
	Weight     int `gorm:"not null;default:10"`
	Priority   int `gorm:"not null;default:1"`
	MaxPerWeek int `gorm:"not null;default:0"`
	CreatedAt  time.Time
	UpdatedAt  time.Time
}

// AvailabilityOverride replaces a host's weekly hours on one business date.
// An empty hours list closes the day.
type AvailabilityOverride struct {
	ID        uint   `gorm:"primaryKey"`
	HostID    uint   `gorm:"not null;uniqueIndex:ux_override_host_date"`
	Date      string `gorm:"size:10;not null;uniqueIndex:ux_override_host_date"` // YYYY-MM-DD, business time zone
	HoursJSON string `gorm:"column:hours_json;type:text;not null;default:'[]'"`
}

// Setting is one key/value pair of service-wide settings.
type Setting struct {
	Key   string `gorm:"primaryKey;size:64"`
	Value string `gorm:"type:text;not null"`
}

// Lead is a person who booked at least once, keyed by normalized email.
type Lead struct {
	ID               uint   `gorm:"primaryKey"`
	EmailKey         string `gorm:"size:254;not null;uniqueIndex"` // lower-cased, trimmed email; "erased:<id>" after erasure
	Email            string `gorm:"size:254;not null"`
	Name             string `gorm:"size:120;not null"`
	Phone            string `gorm:"size:40;not null;default:''"`
	CurrentTitle     string `gorm:"size:120;not null;default:''"`
	TargetTitle      string `gorm:"size:120;not null"`
	RecommendedTitle string `gorm:"size:120;not null;default:''"`
	RoleSlug         string `gorm:"size:80;not null;default:''"`
	Status           string `gorm:"size:16;not null;default:'new'"`
	OwnerID          *uint
	UTMSource        string `gorm:"column:utm_source;size:200;not null;default:''"`
	UTMMedium        string `gorm:"column:utm_medium;size:200;not null;default:''"`
	UTMCampaign      string `gorm:"column:utm_campaign;size:200;not null;default:''"`
	UTMTerm          string `gorm:"column:utm_term;size:200;not null;default:''"`
	UTMContent       string `gorm:"column:utm_content;size:200;not null;default:''"`
	Referrer         string `gorm:"size:2000;not null;default:''"`
	// The First* fields are the source of the lead's first booking; the
	// UTM and Referrer fields above are its latest.
	FirstUTMSource   string `gorm:"column:first_utm_source;size:200;not null;default:''"`
	FirstUTMMedium   string `gorm:"column:first_utm_medium;size:200;not null;default:''"`
	FirstUTMCampaign string `gorm:"column:first_utm_campaign;size:200;not null;default:''"`
	FirstUTMTerm     string `gorm:"column:first_utm_term;size:200;not null;default:''"`
	FirstUTMContent  string `gorm:"column:first_utm_content;size:200;not null;default:''"`
	FirstReferrer    string `gorm:"column:first_referrer;size:2000;not null;default:''"`
	Source           string `gorm:"size:16;not null;default:''"`                   // SourceEmbed: booked through the form embedded in another site
	PageURL          string `gorm:"column:page_url;size:2000;not null;default:''"` // that site's page
	// AnswersJSON holds the latest answer to each role-page question the
	// lead answered, as a JSON object by question id.
	AnswersJSON string `gorm:"column:answers_json;type:text;not null;default:'{}'"`
	// Language is the language of the lead's latest booking (en, de, es).
	Language string `gorm:"size:8;not null;default:'en'"`
	ErasedAt *time.Time
	// UnsubscribedAt is when the visitor asked for no more follow-up
	// emails; emails about a booked call still go.
	UnsubscribedAt *time.Time
	// UnsubscribeToken is the random key of the visitor's unsubscribe link,
	// made with the first follow-up email.
	UnsubscribeToken *string   `gorm:"size:64;uniqueIndex"`
	CreatedAt        time.Time `gorm:"not null"` // indexed first in ix_leads_created_title
	UpdatedAt        time.Time `gorm:"not null"`
}

// Booking is one discovery call. Its visitor token is never stored: only a
// hash of it, derived from UID and the service secret (see Store.BookingToken).
type Booking struct {
	ID           uint      `gorm:"primaryKey"`
	UID          string    `gorm:"column:uid;size:64;not null;uniqueIndex"` // random, also the calendar UID
	TokenHash    string    `gorm:"size:64;not null;uniqueIndex"`
	LeadID       uint      `gorm:"not null"`
	HostID       uint      `gorm:"not null;index:ix_bookings_host_start,priority:1"`
	Status       string    `gorm:"size:16;not null;index:ix_bookings_status_start,priority:1"`
	StartAt      time.Time `gorm:"not null;index:ix_bookings_host_start,priority:2;index:ix_bookings_status_start,priority:2"`
	EndAt        time.Time `gorm:"not null"`
	Timezone     string    `gorm:"size:64;not null"`
	TargetTitle  string    `gorm:"size:120;not null"`
	RoleSlug     string    `gorm:"size:80;not null;default:''"`
	Message      string    `gorm:"type:text;not null;default:''"`
	CancelReason string    `gorm:"size:1000;not null;default:''"`
	Sequence     int       `gorm:"not null;default:0"` // iCalendar SEQUENCE, raised on every move or cancel
	// OutcomeMissing marks a past confirmed call nobody recorded an outcome for.
	OutcomeMissing bool `gorm:"not null;default:false"`
	// Where the call happens, fixed when booked or given to another host.
	MeetingKind    string `gorm:"size:16;not null;default:''"`
	MeetingURL     string `gorm:"column:meeting_url;size:2000;not null;default:''"`
	MeetingAddress string `gorm:"size:500;not null;default:''"`
	CanceledAt     *time.Time
	// AnswersJSON holds the visitor's answers given with this booking.
	AnswersJSON string `gorm:"column:answers_json;type:text;not null;default:'{}'"`
	// RouteHosts lists the host emails (comma-separated) the answers routed
	// the call to; empty: any host. A reschedule stays within them.
	RouteHosts string `gorm:"type:text;not null;default:''"`
	// CallID and CallTitle are the kind of call as booked; an empty id is
	// the discovery call of a role without kinds.
	CallID    string `gorm:"size:40;not null;default:''"`
	CallTitle string `gorm:"size:120;not null;default:''"`
	// Collective marks a call every host of BookingHost joins; HostID is
	// the first of them.
	Collective bool `gorm:"not null;default:false"`
	// LinkID is the private link the call was booked through, if any.
	LinkID *uint
	// Language is the visitor's language when booked (en, de, es): every
	// email about the call is written in it.
	Language  string    `gorm:"size:8;not null;default:'en'"`
	CreatedAt time.Time `gorm:"not null"`
	UpdatedAt time.Time `gorm:"not null"`
}

// BookingHost is one host of a collective call. Each host's time is
// claimed in booking_claims like a one-host call's.
type BookingHost struct {
	BookingID uint `gorm:"primaryKey;autoIncrement:false"`
	HostID    uint `gorm:"primaryKey;autoIncrement:false"`
}

// BookingLink is a private link to book one kind of call: a number of
// uses, an expiry, and optionally the lead it was made for. Only a hash of
// its token is kept.
type BookingLink struct {
	ID          uint      `gorm:"primaryKey"`
	TokenHash   string    `gorm:"size:64;not null;uniqueIndex"`
	RoleSlug    string    `gorm:"size:80;not null"`
	CallID      string    `gorm:"size:40;not null"`
	LeadID      *uint     `gorm:"index"`
	UsesLeft    int       `gorm:"not null"`
	ExpiresAt   time.Time `gorm:"not null"`
	DeletedAt   *time.Time
	CreatedByID uint      `gorm:"not null;default:0"`
	CreatedAt   time.Time `gorm:"not null"`
}

// BookingClaim reserves one ClaimUnit of a host's time for a confirmed
// booking. The primary key (host, unit) is what makes two overlapping
// confirmed calls for one host impossible, whatever races in Go. A
// booking's claims are found by that key too (see releaseTime), so
// booking_id needs no index of its own.
type BookingClaim struct {
	HostID    uint  `gorm:"primaryKey;autoIncrement:false"`
	Unit      int64 `gorm:"primaryKey;autoIncrement:false"` // unix seconds of the unit's start
	BookingID uint  `gorm:"not null"`
}

// Reminder is one reminder email owed for a booking at one offset.
type Reminder struct {
	ID        uint      `gorm:"primaryKey"`
	BookingID uint      `gorm:"not null;uniqueIndex:ux_reminder_booking_offset"`
	Offset    string    `gorm:"column:offset_label;size:32;not null;uniqueIndex:ux_reminder_booking_offset"`
	DueAt     time.Time `gorm:"not null;index:ix_reminders_status_due,priority:2"`
	Status    string    `gorm:"size:16;not null;index:ix_reminders_status_due,priority:1"`
	SentAt    *time.Time
	CreatedAt time.Time
	UpdatedAt time.Time
}

// OutboxMessage is one email, written in the transaction of the change that
// causes it and delivered later by the mailer. Payload is a JSON MailData
// snapshot, so the message says what was true when it was caused.
type OutboxMessage struct {
	ID            uint      `gorm:"primaryKey"`
	Kind          string    `gorm:"size:40;not null"`
	BookingID     *uint     `gorm:"index"`
	LeadID        *uint     `gorm:"index"`
	ToAddr        string    `gorm:"size:254;not null"`
	ToName        string    `gorm:"size:120;not null;default:''"`
	MessageID     string    `gorm:"size:200;not null"` // 128 random bits: unique without an index
	Payload       string    `gorm:"type:text;not null"`
	Status        string    `gorm:"size:16;not null;index:ix_outbox_status_next,priority:1"`
	Attempts      int       `gorm:"not null;default:0"`
	NextAttemptAt time.Time `gorm:"not null;index:ix_outbox_status_next,priority:2"`
	ClaimedUntil  *time.Time
	LastError     string `gorm:"type:text;not null;default:''"`
	// SkipReason says why a follow-up email was skipped before it was due
	// (status skipped): the lead booked again, unsubscribed, and so on.
	SkipReason string `gorm:"size:40;not null;default:''"`
	// TriggerStatus is the status the booking had when its follow-up was
	// written; a follow-up whose booking has moved on is skipped.
	TriggerStatus string `gorm:"size:16;not null;default:''"`
	SentAt        *time.Time
	CreatedAt     time.Time `gorm:"not null"`
	UpdatedAt     time.Time `gorm:"not null"`
}

// TableName keeps the outbox table name short and stable.
func (OutboxMessage) TableName() string { return "outbox" }

// Event is one entry on a lead's timeline.
type Event struct {
	ID        uint  `gorm:"primaryKey"`
	LeadID    *uint `gorm:"index:ix_events_lead,priority:1"`
	BookingID *uint
	Type      string    `gorm:"size:40;not null"`
	Actor     string    `gorm:"size:200;not null"`
	Data      string    `gorm:"type:text;not null;default:'{}'"`
	CreatedAt time.Time `gorm:"not null"`
}

// Note is a staff note on a lead.
type Note struct {
	ID        uint      `gorm:"primaryKey"`
	LeadID    uint      `gorm:"not null;index"`
	AuthorID  uint      `gorm:"not null"`
	Body      string    `gorm:"type:text;not null"`
	CreatedAt time.Time `gorm:"not null"`
}

// IdempotencyKey remembers the answer to a POST made with an Idempotency-Key.
type IdempotencyKey struct {
	Key        string    `gorm:"primaryKey;size:200"`
	BodyHash   string    `gorm:"size:64;not null"`
	StatusCode int       `gorm:"not null"`
	Response   string    `gorm:"type:text;not null"`
	CreatedAt  time.Time `gorm:"not null;index"`
}

// Session is a signed-in staff browser session. ID is a hash of the cookie value.
type Session struct {
	ID         string    `gorm:"primaryKey;size:64"`
	UserID     uint      `gorm:"not null;index"`
	CSRFToken  string    `gorm:"column:csrf_token;size:64;not null;default:''"`
	IP         string    `gorm:"size:64;not null;default:''"`
	UserAgent  string    `gorm:"size:300;not null;default:''"`
	CreatedAt  time.Time `gorm:"not null"`
	LastSeenAt time.Time `gorm:"not null"`
	ExpiresAt  time.Time `gorm:"not null;index"`
}

// APIToken authenticates a staff user's API calls. Only a hash is kept.
type APIToken struct {
	ID         uint   `gorm:"primaryKey"`
	UserID     uint   `gorm:"not null;index"`
	Name       string `gorm:"size:120;not null"`
	TokenHash  string `gorm:"size:64;not null;uniqueIndex"`
	LastUsedAt *time.Time
	RevokedAt  *time.Time
	CreatedAt  time.Time `gorm:"not null"`
}

// LoginAttempt records a failed staff sign-in, for throttling across replicas.
type LoginAttempt struct {
	ID        uint      `gorm:"primaryKey"`
	Email     string    `gorm:"size:254;not null;index:ix_login_email_at,priority:1"`
	IP        string    `gorm:"size:64;not null;index:ix_login_ip_at,priority:1"`
	CreatedAt time.Time `gorm:"not null;index:ix_login_email_at,priority:2;index:ix_login_ip_at,priority:2"`
}

// Tables lists the definition of every table the migrations create, but the
// search index and the migrations' own record. The migrations are frozen
// SQL, so a test checks that they make exactly the tables, columns and
// indexes these definitions describe.
func Tables() []any {
	return []any{
		&User{}, &AvailabilityOverride{}, &Setting{}, &Lead{}, &Booking{}, &BookingClaim{},
		&Reminder{}, &OutboxMessage{}, &Event{}, &Note{}, &IdempotencyKey{}, &Session{},
		&APIToken{}, &LoginAttempt{}, &CalendarSource{}, &CalendarBusy{}, &HostFeed{},
		&Webhook{}, &WebhookDelivery{}, &LeadAnswer{}, &StatsDaily{}, &StatsDailyPart{},
		&TOTPFactor{}, &RecoveryCode{}, &Passkey{}, &SignInChallenge{},
		&AuditEntry{}, &BookingHost{}, &BookingLink{},
		&AuditEntry{},
		&Task{},
	}
}
