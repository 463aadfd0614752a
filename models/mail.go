package models

import (
	"strings"
	"time"
)

// Email kinds (docs/API.md, Emails). Reminder kinds are "reminder-" plus the offset
// as written in configuration.
const (
	MailConfirmation   = "confirmation"
	MailHostNotice     = "host-notice"
	MailReschedule     = "reschedule"
	MailCancellation   = "cancellation"
	MailDigest         = "digest"
	MailHostChanged    = "host-changed" // the visitor's call was given to another host
	MailReminderPrefix = "reminder-"
)

// MailData is the snapshot an email is rendered from. It is stored as the
// outbox row's payload when the causing change commits, so the email tells
// what was true then, whenever it is delivered.
type MailData struct {
	Kind string `json:"kind"`
	// Language is the visitor's language (en, de, es) for their emails;
	// staff emails are in English.
	Language string `json:"language,omitempty"`
	// Change is what a host-notice reports: "booked", "rescheduled" or "canceled".
	Change string `json:"change,omitempty"`

	BookingID  uint      `json:"booking_id,omitempty"`
	BookingUID string    `json:"booking_uid,omitempty"`
	Sequence   int       `json:"sequence,omitempty"`
	Start      time.Time `json:"start,omitempty"`
	End        time.Time `json:"end,omitempty"`
	Timezone   string    `json:"timezone,omitempty"` // the visitor's zone
	// PreviousStart is the old time of a moved call.
	PreviousStart *time.Time `json:"previous_start,omitempty"`
	Reason        string     `json:"reason,omitempty"` // of a cancellation
	Offset        string     `json:"offset,omitempty"` // of a reminder, as written

	LeadID       uint   `json:"lead_id,omitempty"`
	Name         string `json:"name,omitempty"`
	Email        string `json:"email,omitempty"`
	Phone        string `json:"phone,omitempty"`
	CurrentTitle string `json:"current_title,omitempty"`
	TargetTitle  string `json:"target_title,omitempty"`
	RoleSlug     string `json:"role_slug,omitempty"`
	Message      string `json:"message,omitempty"`

	HostName  string `json:"host_name,omitempty"`
	HostEmail string `json:"host_email,omitempty"`
	// CallTitle is the kind of call ("" : a discovery call); Hosts are
	// every host of a collective call, each an attendee of its invite.
	CallTitle string     `json:"call_title,omitempty"`
	Hosts     []MailHost `json:"hosts,omitempty"`
	// HostTeam marks a host without an address of its own (the default
	// team host, which borrows the sender's): calendars then show the
	// sender as the call's organizer.
	HostTeam bool `json:"host_team,omitempty"`
	// Meeting is where the call happens.
	Meeting *Meeting `json:"meeting,omitempty"`
	// ReplyTo are the people a visitor's reply reaches: the host, or for
	// the team host the admins.
	ReplyTo []string `json:"reply_to,omitempty"`

	Digest *DigestData `json:"digest,omitempty"`

	// OwnerName and AssignedBy are a lead-assigned email's new owner and
	// the staff member who assigned the lead ("" when its first call did).
	OwnerName  string `json:"owner_name,omitempty"`
	AssignedBy string `json:"assigned_by,omitempty"`

	// FollowupSubject and FollowupBody are a follow-up email's text from
	// the role file, placeholders about the lead filled in; the links
	// ({rebook_url}, {role_url}, {unsubscribe_url}) are filled when the
	// email is built.
	FollowupSubject string `json:"followup_subject,omitempty"`
	FollowupBody    string `json:"followup_body,omitempty"`
	// UnsubscribeToken is the key of the lead's one-click unsubscribe link.
	UnsubscribeToken string `json:"unsubscribe_token,omitempty"`
	// CallID is the kind of call a rebook link offers ("" for the role's
	// first).
	CallID string `json:"call_id,omitempty"`
	// RebookToken is the token of the one-use private link ({base}/l/{token})
	// a rebook link leads to, made with the email.
	RebookToken string `json:"rebook_token,omitempty"`
}

// MailHost is one host of a collective call.
type MailHost struct {
	Name  string `json:"name"`
	Email string `json:"email"`
}

// HostNames names who takes the call, for staff: the host, or every host
// of a collective call ("Ana, Ben and Cy").
func (d MailData) HostNames() string {
	if len(d.Hosts) < 2 {
		return d.HostName
	}
	names := make([]string, len(d.Hosts))
	for i, h := range d.Hosts {
		names[i] = h.Name
	}
	return strings.Join(names[:len(names)-1], ", ") + " and " + names[len(names)-1]
}

// CallName is the kind of call's title: "Discovery call" unless the
// booking was of another kind.
func (d MailData) CallName() string {
	if d.CallTitle == "" {
		return DiscoveryCallTitle
	}
	return d.CallTitle
}

// DigestData is the content of a daily digest.
type DigestData struct {
	Date       string       `json:"date"` // business date, YYYY-MM-DD
	TodayCalls []DigestCall `json:"today_calls"`
	NewLeads   []DigestLead `json:"new_leads"`
	// Tasks are the reader's own open tasks due that day or before.
	Tasks []DigestTask `json:"tasks,omitempty"`
}

// DigestCall is one of today's calls in a digest.
type DigestCall struct {
	Start       time.Time `json:"start"`
	LeadID      uint      `json:"lead_id"`
	Name        string    `json:"name"`
	TargetTitle string    `json:"target_title"`
	HostName    string    `json:"host_name"`
}

// DigestLead is one of yesterday's new leads in a digest.
type DigestLead struct {
	LeadID      uint   `json:"lead_id"`
	Name        string `json:"name"`
	TargetTitle string `json:"target_title"`
	RoleSlug    string `json:"role_slug"`
}
