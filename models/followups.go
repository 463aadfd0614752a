package models

import (
	"fmt"
	"regexp"
	"strings"
	"time"
)

// What a follow-up email follows: the call's outcome, its cancellation, or
// the visitor being turned away by a role's routes.
const (
	FollowupCompleted    = "completed"
	FollowupNoShow       = "no_show"
	FollowupCanceled     = "canceled"
	FollowupDisqualified = "disqualified"
)

// MailFollowupPrefix starts the kind of every follow-up email:
// "followup-<id>".
const MailFollowupPrefix = "followup-"

// Why a follow-up email was skipped (OutboxMessage.SkipReason).
const (
	SkipRebooked       = "rebooked"
	SkipOutcomeChanged = "outcome_changed"
	SkipUnsubscribed   = "unsubscribed"
	SkipErased         = "erased"
)

// Timeline events of follow-ups and unsubscribing.
const (
	EventFollowupScheduled = "followup.scheduled"
	EventFollowupSkipped   = "followup.skipped"
	EventLeadUnsubscribed  = "lead.unsubscribed"
)

// Followup is one email a role sends after something happened, declared
// in the role file under followups.
type Followup struct {
	ID      string        `yaml:"id"`
	When    string        `yaml:"when"`
	After   time.Duration `yaml:"-"`
	Subject string        `yaml:"subject"`
	Body    string        `yaml:"body"`
	// RoleTitle is the title of the role that declares it, for {role_title}.
	RoleTitle string `yaml:"-"`
}

// followupPlaceholders are the words a follow-up's subject and body may use.
var followupPlaceholders = map[string]bool{
	"name": true, "first_name": true, "target_title": true, "recommended_title": true, "role_title": true,
	"host_name": true, "rebook_url": true, "role_url": true, "unsubscribe_url": true,
}

var placeholderPattern = regexp.MustCompile(`\{([a-z_]+)\}`)

var followupID = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,29}$`)

// Check validates a follow-up as read from a role file: a short id, a
// known trigger, a delay of zero or more, a subject and a body using only
// known placeholders.
func (f Followup) Check() error {
	switch {
	case !followupID.MatchString(f.ID):
		return fmt.Errorf("follow-up id %q must be 1 to 30 lower-case letters, digits or hyphens", f.ID)
	case f.When != FollowupCompleted && f.When != FollowupNoShow && f.When != FollowupCanceled && f.When != FollowupDisqualified:
		return fmt.Errorf("follow-up %s: when %q must be completed, no_show, canceled or disqualified", f.ID, f.When)
	case f.After < 0:
		return fmt.Errorf("follow-up %s: after must not be negative", f.ID)
	case strings.TrimSpace(f.Subject) == "" || strings.TrimSpace(f.Body) == "":
		return fmt.Errorf("follow-up %s needs a subject and a body", f.ID)
	}
	for _, text := range []string{f.Subject, f.Body} {
		for _, m := range placeholderPattern.FindAllStringSubmatch(text, -1) {
			if !followupPlaceholders[m[1]] {
				return fmt.Errorf("follow-up %s: unknown placeholder {%s}", f.ID, m[1])
			}
		}
	}
	return nil
}

// FillPlaceholders replaces the placeholders vals names in text, leaving
// the others as they are for a later step to fill.
func FillPlaceholders(text string, vals map[string]string) string {
	return placeholderPattern.ReplaceAllStringFunc(text, func(m string) string {
		if v, ok := vals[m[1:len(m)-1]]; ok {
			return v
		}
		return m
	})
}

// FirstName is the first word of a name, or the name when it has one word.
func FirstName(name string) string {
	if f := strings.Fields(name); len(f) > 0 {
		return f[0]
	}
	return name
}

// SkipReasonText says why a follow-up was skipped, for staff.
func SkipReasonText(reason string) string {
	switch reason {
	case SkipRebooked:
		return "the lead booked again"
	case SkipOutcomeChanged:
		return "the call's outcome changed"
	case SkipUnsubscribed:
		return "the lead unsubscribed"
	case SkipErased:
		return "the lead was erased"
	}
	return reason
}
