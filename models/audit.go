package models

import (
	"encoding/json"
	"strconv"
	"time"
)

// Kinds of actor an audit entry names.
const (
	ActorKindUser   = "user"   // a staff user, through the staff area or the API
	ActorKindCLI    = "cli"    // an operator running a callbook command
	ActorKindSystem = "system" // the service itself: the scheduler, start-up
)

// Actor is who makes a change, as the audit log records it. Handlers put
// the signed-in user in the request's context, the commands an actor of
// kind cli, the scheduler one of kind system (store.WithActor).
type Actor struct {
	Kind  string
	ID    uint   // the staff user; 0 for cli and system
	Email string // the staff user's email, or the email a sign-in was tried with
	IP    string // the client address of the request, empty outside one
	// Command names what an operator ran ("callbook user add (alice)");
	// it goes into the entry's details as "command".
	Command string
}

// UserActor is the actor for staff user u acting from address ip.
func UserActor(u *User, ip string) Actor {
	return Actor{Kind: ActorKindUser, ID: u.ID, Email: u.Email, IP: ip}
}

// CLIActor is the actor for an operator running command.
func CLIActor(command string) Actor { return Actor{Kind: ActorKindCLI, Command: command} }

// SystemActor is the actor for what the service does by itself.
func SystemActor() Actor { return Actor{Kind: ActorKindSystem} }

// Audit actions. Each names what changed and how; every change made by
// staff or an operator, every sign-in and every export writes one entry in
// the transaction of the change.
const (
	AuditSignInSucceeded      = "signin.succeeded"
	AuditSignInFailed         = "signin.failed"
	AuditUserCreated          = "user.created"
	AuditUserUpdated          = "user.updated" // name or host
	AuditUserRoleChanged      = "user.role_changed"
	AuditUserPasswordChanged  = "user.password_changed"
	AuditUserDisabled         = "user.disabled"
	AuditUserEnabled          = "user.enabled"
	AuditFactorAdded          = "user.factor_added"   // details.factor: totp or passkey
	AuditFactorRenamed        = "user.factor_renamed" // a passkey's name
	AuditFactorRemoved        = "user.factor_removed"
	AuditRecoveryCodesRenewed = "user.recovery_codes_renewed"
	AuditFactorsReset         = "user.factors_reset"  // callbook user reset-2fa
	AuditSessionsEnded        = "user.sessions_ended" // signed out of sessions by themselves or an admin
	AuditTokenCreated         = "token.created"
	AuditTokenRevoked         = "token.revoked"
	AuditAvailabilityChanged  = "availability.changed"
	AuditCalendarConnected    = "calendar.connected"
	AuditCalendarDisconnected = "calendar.disconnected"
	AuditCalendarUpdated      = "calendar.updated" // new credentials for a source kept
	AuditFeedLinkReplaced     = "feed_link.replaced"
	AuditWebhookCreated       = "webhook.created"
	AuditWebhookDeleted       = "webhook.deleted"
	AuditWebhookEnabled       = "webhook.enabled"
	AuditWebhookRetried       = "webhook.delivery_retried"
	AuditMailRetried          = "mail.retried"
	AuditLeadUpdated          = "lead.updated"
	AuditLeadNoteAdded        = "lead.note_added"
	AuditLeadTaskAdded        = "lead.task_added"
	AuditLeadTaskChanged      = "lead.task_changed" // ticked off, reopened, moved or given to someone else
	AuditOutcomeRecorded      = "booking.outcome_recorded"
	AuditBookingHostChanged   = "booking.host_changed" // staff gave a call to another host
	AuditLinkCreated          = "link.created"         // a private booking link
	AuditLinkDeleted          = "link.deleted"
	AuditLeadErased           = "lead.erased"
	AuditLeadsExported        = "leads.exported"
	AuditLogExported          = "audit.exported"
	AuditAccessDenied         = "access.denied" // a staff user asked for what their role does not allow
)

// AuditActions lists every action, for the staff page's filter.
var AuditActions = []string{
	AuditSignInSucceeded, AuditSignInFailed, AuditUserCreated, AuditUserUpdated, AuditUserRoleChanged,
	AuditUserPasswordChanged, AuditUserDisabled, AuditUserEnabled, AuditFactorAdded, AuditFactorRenamed, AuditFactorRemoved,
	AuditRecoveryCodesRenewed, AuditFactorsReset, AuditSessionsEnded, AuditTokenCreated, AuditTokenRevoked,
	AuditAvailabilityChanged, AuditCalendarConnected, AuditCalendarDisconnected, AuditCalendarUpdated,
	AuditFeedLinkReplaced, AuditWebhookCreated, AuditWebhookDeleted, AuditWebhookEnabled, AuditWebhookRetried,
	AuditMailRetried, AuditLeadUpdated, AuditLeadNoteAdded, AuditOutcomeRecorded,
	AuditBookingHostChanged, AuditLinkCreated, AuditLinkDeleted, AuditLeadErased, AuditLeadsExported, AuditLogExported, AuditAccessDenied,
	AuditMailRetried, AuditLeadUpdated, AuditLeadNoteAdded, AuditLeadTaskAdded, AuditLeadTaskChanged, AuditOutcomeRecorded, AuditLeadErased, AuditLeadsExported, AuditLogExported, AuditAccessDenied,
}

// Kinds of thing an audit entry is about.
const (
	AuditTargetUser    = "user" // a staff user or host
	AuditTargetToken   = "token"
	AuditTargetWebhook = "webhook"
	AuditTargetLead    = "lead"
	AuditTargetBooking = "booking"
	AuditTargetLink    = "link" // a private booking link
	AuditTargetEmail   = "email"
	AuditTargetLeads   = "leads" // the lead list as a whole (exports)
	AuditTargetAudit   = "audit" // the audit log as a whole (downloads)
)

// AuditTarget is what an entry is about: a type and, for one row, its id.
type AuditTarget struct {
	Type string
	ID   uint
}

// AuditEntry is one row of the audit log. Entries are only ever added,
// and removed when older than CALLBOOK_AUDIT_RETENTION.
type AuditEntry struct {
	ID         uint      `gorm:"primaryKey"`
	At         time.Time `gorm:"not null;index:ix_audit_at"`
	ActorKind  string    `gorm:"size:16;not null"`
	ActorID    *uint     `gorm:"index:ix_audit_actor"`
	ActorEmail string    `gorm:"size:254;not null;default:''"`
	Action     string    `gorm:"size:64;not null;index:ix_audit_action"`
	TargetType string    `gorm:"size:32;not null;default:'';index:ix_audit_target,priority:1"`
	TargetID   *uint     `gorm:"index:ix_audit_target,priority:2"`
	IP         string    `gorm:"size:64;not null;default:''"`
	// LeadID is the lead an entry concerns, if any, so that erasing the
	// lead finds every entry whose details may name the person.
	LeadID  *uint  `gorm:"index:ix_audit_lead"`
	Details string `gorm:"type:text;not null;default:'{}'"`
}

// TableName is the audit log's table.
func (AuditEntry) TableName() string { return "audit_log" }

// AuditEntryJSON is an entry as the API shows it.
type AuditEntryJSON struct {
	ID      uint            `json:"id"`
	At      time.Time       `json:"at"`
	Actor   AuditActorJSON  `json:"actor"`
	Action  string          `json:"action"`
	Target  AuditTargetJSON `json:"target"`
	IP      string          `json:"ip"`
	Details json.RawMessage `json:"details"`
}

// AuditActorJSON is an entry's actor; ID is null for cli and system.
type AuditActorJSON struct {
	Kind  string `json:"kind"`
	ID    *uint  `json:"id"`
	Email string `json:"email"`
}

// AuditTargetJSON is what an entry is about; ID is null for a whole list.
type AuditTargetJSON struct {
	Type string `json:"type"`
	ID   *uint  `json:"id"`
}

// JSON is the entry as the API shows it.
func (e *AuditEntry) JSON() AuditEntryJSON {
	d := json.RawMessage(e.Details)
	if !json.Valid(d) {
		d = json.RawMessage("{}")
	}
	return AuditEntryJSON{
		ID: e.ID, At: e.At.UTC(), Action: e.Action, IP: e.IP, Details: d,
		Actor:  AuditActorJSON{Kind: e.ActorKind, ID: e.ActorID, Email: e.ActorEmail},
		Target: AuditTargetJSON{Type: e.TargetType, ID: e.TargetID},
	}
}

// AuditCSVColumns are the columns of the audit log's CSV download.
var AuditCSVColumns = []string{
	"id", "at", "actor_kind", "actor_id", "actor_email", "action", "target_type", "target_id", "ip", "details",
}

// CSVRecord is the entry as a row of AuditCSVColumns, every cell made safe
// for spreadsheets (SafeCell).
func (e *AuditEntry) CSVRecord() []string {
	id := func(p *uint) string {
		if p == nil {
			return ""
		}
		return strconv.FormatUint(uint64(*p), 10)
	}
	r := []string{
		strconv.FormatUint(uint64(e.ID), 10), e.At.UTC().Format(time.RFC3339), e.ActorKind, id(e.ActorID),
		e.ActorEmail, e.Action, e.TargetType, id(e.TargetID), e.IP, e.Details,
	}
	for i := range r {
		r[i] = SafeCell(r[i])
	}
	return r
}

// PersonalAuditKeys are the keys of an entry's details that can hold a
// lead's personal data; erasing the lead removes them from every entry
// about it.
var PersonalAuditKeys = []string{
	"lead_name", "lead_email", "name", "email", "phone", "current_title", "message", "body", "reason",
}

// ScrubAuditDetails returns details (a JSON object) without
// PersonalAuditKeys, at any depth; what is not a JSON object becomes {}.
func ScrubAuditDetails(details string) string {
	var m map[string]any
	if err := json.Unmarshal([]byte(details), &m); err != nil || m == nil {
		return "{}"
	}
	scrubMap(m)
	b, _ := json.Marshal(m)
	return string(b)
}

func scrubMap(m map[string]any) {
	for _, k := range PersonalAuditKeys {
		delete(m, k)
	}
	for _, v := range m {
		switch v := v.(type) {
		case map[string]any:
			scrubMap(v)
		case []any:
			for _, x := range v {
				if xm, ok := x.(map[string]any); ok {
					scrubMap(xm)
				}
			}
		}
	}
}

// DefaultAuditRetention is how long audit entries are kept by default.
const DefaultAuditRetention = 8760 * time.Hour
