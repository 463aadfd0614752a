package handlers

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/callbook/callbook/models"
)

// timeline turns a lead's events into sentences for people: who did what,
// with names rather than ids and times in the business zone (named once on
// the page, not in each sentence).
type timeline struct {
	lead  string             // the lead's name, for the visitor's own actions
	loc   *time.Location     // the business zone
	now   time.Time          // the year is written only when it is not this one
	staff map[string]string  // staff email → name, for emails to the team
	calls map[uint]time.Time // booking id → start, for events that carry only the id
}

// newTimeline prepares the sentences for one lead's page.
func newTimeline(d *models.LeadDetail, staff []models.User, loc *time.Location, now time.Time) *timeline {
	tl := &timeline{lead: d.Lead.Name, loc: loc, now: now, staff: map[string]string{}, calls: map[uint]time.Time{}}
	for _, u := range staff {
		tl.staff[strings.ToLower(u.Email)] = u.Name
	}
	for _, b := range d.Bookings {
		tl.calls[b.ID] = b.StartAt
	}
	return tl
}

// eventView is one timeline entry as the lead page shows it: a sentence,
// and the raw event behind a disclosure.
type eventView struct {
	models.Event
	Sentence string
	Details  []detail
}

// detail is one key and value of an event's data.
type detail struct{ Key, Value string }

// views tells every event.
func (tl *timeline) views(evs []models.Event) []eventView {
	out := make([]eventView, len(evs))
	for i, e := range evs {
		var m map[string]any
		if json.Unmarshal([]byte(e.Data), &m) != nil {
			m = map[string]any{}
		}
		out[i] = eventView{Event: e, Sentence: tl.sentence(e, m), Details: details(m)}
	}
	return out
}

// details lists an event's data as sorted key/value pairs; the template
// escapes them like any other text.
func details(m map[string]any) []detail {
	out := make([]detail, 0, len(m))
	for k, v := range m {
		out = append(out, detail{k, detailValue(v)})
	}
	sort.Slice(out, func(a, b int) bool { return out[a].Key < out[b].Key })
	return out
}

func detailValue(v any) string {
	switch x := v.(type) {
	case nil:
		return "—"
	case string:
		return x
	case float64:
		return fmt.Sprint(int64(x))
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// actor names who did something: the lead for the visitor, "Callbook" for
// the service itself, a staff member by name.
func (tl *timeline) actor(a string) string {
	switch a {
	case models.ActorVisitor, "":
		return tl.lead
	case models.ActorSystem:
		return "Callbook"
	}
	if i := strings.LastIndex(a, " <"); i > 0 && strings.HasSuffix(a, ">") {
		return a[:i]
	}
	return a
}

// when writes an instant in the business zone: "Thu 3 Dec, 11:00", with
// the year when it is not this one.
func (tl *timeline) when(t time.Time) string {
	t = t.In(tl.loc)
	if t.Year() != tl.now.In(tl.loc).Year() {
		return t.Format("Mon 2 Jan 2006, 15:04")
	}
	return t.Format("Mon 2 Jan, 15:04")
}

func str(m map[string]any, k string) string {
	s, _ := m[k].(string)
	return s
}

// timeOf reads a time written into event data (RFC 3339).
func timeOf(m map[string]any, k string) (time.Time, bool) {
	t, err := time.Parse(time.RFC3339Nano, str(m, k))
	return t, err == nil
}

// callAt names a call by its time: from the data's key, else from the
// booking the event belongs to.
func (tl *timeline) callAt(e models.Event, m map[string]any, k string) string {
	if t, ok := timeOf(m, k); ok {
		return "the call on " + tl.when(t)
	}
	if e.BookingID != nil {
		if t, ok := tl.calls[*e.BookingID]; ok {
			return "the call on " + tl.when(t)
		}
	}
	return "a call"
}

// person names the owner of an email address: the lead, a staff member, or
// the address itself.
func (tl *timeline) person(addr string) string {
	if n, ok := tl.staff[strings.ToLower(addr)]; ok {
		return n
	}
	if addr == "" {
		return "nobody"
	}
	return addr
}

// mailName says what an email of kind is called.
func mailName(kind string) string {
	switch kind {
	case models.MailConfirmation:
		return "Confirmation email"
	case models.MailReschedule:
		return "New-time email"
	case models.MailCancellation:
		return "Cancellation email"
	case models.MailHostNotice:
		return "Call notice"
	case models.MailLeadAssigned:
		return "Lead assignment email"
	case models.MailDigest:
		return "Daily digest"
	case models.MailHostNoShow:
		return "Apology for the missed call"
	}
	if off, ok := strings.CutPrefix(kind, models.MailReminderPrefix); ok {
		return "Reminder (" + off + " before)"
	}
	if id, ok := strings.CutPrefix(kind, models.MailFollowupPrefix); ok {
		return "Follow-up email “" + id + "”"
	}
	return "Email " + kind
}

// sentence tells one event.
func (tl *timeline) sentence(e models.Event, m map[string]any) string {
	who := tl.actor(e.Actor)
	switch e.Type {
	case "lead.created":
		s := who + " became a lead"
		if t := str(m, "target_title"); t != "" {
			s += ", aiming for " + t
		}
		if src := str(m, "utm_source"); src != "" {
			s += " (came from " + src + ")"
		}
		return s
	case "booking.created":
		s := who + " booked a call"
		if t, ok := timeOf(m, "start"); ok {
			s += " for " + tl.when(t)
		}
		if h := str(m, "host"); h != "" {
			s += " with " + h
		}
		return s
	case models.EventBookingRescheduled:
		s := who + " moved " + tl.callAt(e, m, "from")
		if t, ok := timeOf(m, "to"); ok {
			s += " to " + tl.when(t)
		}
		if h := str(m, "host"); h != "" && str(m, "previous_host") != "" {
			s += ", now with " + h
		}
		return s
	case models.EventBookingCanceled:
		s := who + " canceled " + tl.callAt(e, m, "start")
		if r := str(m, "reason"); r != "" {
			s += ": “" + r + "”"
		}
		return s
	case "booking.completed":
		return who + " marked " + tl.callAt(e, m, "") + " as held"
	case "booking.no_show":
		return who + " marked " + tl.callAt(e, m, "") + " as a no-show"
	case models.EventReminderSent:
		return "Reminder " + str(m, "offset") + " before " + tl.callAt(e, m, "start") + " queued"
	case "email.sent":
		return mailName(str(m, "kind")) + " sent to " + tl.recipient(m)
	case "email.failed":
		s := mailName(str(m, "kind")) + " to " + tl.recipient(m) + " could not be delivered"
		if er := str(m, "error"); er != "" {
			s += ": " + er
		}
		return s
	case "lead.status_changed":
		return who + " changed the status from " + str(m, "from") + " to " + str(m, "to")
	case "lead.owner_changed":
		return tl.ownerSentence(who, e.Actor, m)
	case "lead.recommended_title_changed":
		return tl.change(who, "the recommended title", str(m, "from"), str(m, "to"))
	case "lead.details_changed":
		return tl.detailsSentence(who, m)
	case "note.added":
		return who + " added a note"
	case "lead.disqualified":
		return who + " answered the questions and was sent to a guide instead of a call"
	case "lead.exported":
		return who + " exported the lead"
	case models.EventFollowupScheduled:
		due := "later"
		if t, ok := timeOf(m, "due"); ok {
			due = "on " + tl.when(t)
		}
		return mailName(str(m, "kind")) + " will go " + due + ", after " + triggerWords(str(m, "trigger"))
	case models.EventFollowupSkipped:
		return mailName(str(m, "kind")) + " was skipped: " + models.SkipReasonText(str(m, "reason"))
	case "booking." + models.OutcomeHostNoShow:
		return who + " recorded that the host missed " + tl.callAt(e, m, "") + "; the visitor was sent an apology with a link to book again"
	case models.EventLeadUnsubscribed:
		return who + " unsubscribed from follow-up emails"
	case models.EventTaskAdded:
		return who + " added a task due " + str(m, "due") + ": " + str(m, "body")
	case models.EventTaskDone:
		return who + " ticked off a task: " + str(m, "body")
	}
	return who + ": " + strings.ReplaceAll(e.Type, "_", " ")
}

// recipient names an email's addressee.
func (tl *timeline) recipient(m map[string]any) string {
	to := str(m, "to")
	if to == "" || str(m, "kind") != models.MailHostNotice && str(m, "kind") != models.MailLeadAssigned && str(m, "kind") != models.MailDigest {
		if _, staff := tl.staff[strings.ToLower(to)]; !staff {
			return tl.lead
		}
	}
	return tl.person(to)
}

func (tl *timeline) change(who, what, from, to string) string {
	switch {
	case from == "":
		return who + " set " + what + " to " + to
	case to == "":
		return who + " cleared " + what + " (was " + from + ")"
	}
	return who + " changed " + what + " from " + from + " to " + to
}

func (tl *timeline) ownerSentence(who, actor string, m map[string]any) string {
	from, to := str(m, "from_name"), str(m, "to_name")
	if from == "" && m["from"] != nil {
		from = "a former colleague"
	}
	switch {
	case actor == models.ActorSystem && str(m, "reason") == "first_call":
		return to + " became the owner as the host of the first call"
	case to == "" && from == "":
		return who + " left the lead without an owner"
	case to == "":
		return who + " removed " + from + " as the owner"
	case from == "":
		return who + " made " + to + " the owner"
	}
	return who + " changed the owner from " + from + " to " + to
}

// detailLabels name the details a returning visitor can change, in the
// order a sentence lists them.
var detailLabels = [][2]string{
	{"name", "name"}, {"target_title", "target title"}, {"current_title", "current title"}, {"phone", "phone"},
}

func (tl *timeline) detailsSentence(who string, m map[string]any) string {
	var parts []string
	for _, d := range detailLabels {
		c, ok := m[d[0]].(map[string]any)
		if !ok {
			continue
		}
		from, to := str(c, "from"), str(c, "to")
		if from == "" {
			parts = append(parts, d[1]+" "+to)
			continue
		}
		parts = append(parts, d[1]+" from "+from+" to "+to)
	}
	if len(parts) == 0 {
		return who + " booked again with new details"
	}
	list := parts[0]
	if n := len(parts); n > 1 {
		list = strings.Join(parts[:n-1], ", ") + " and " + parts[n-1]
	}
	return who + " booked again and changed their " + list
}

// triggerWords says what a follow-up follows.
func triggerWords(trigger string) string {
	switch trigger {
	case models.FollowupCompleted:
		return "the call"
	case models.FollowupNoShow:
		return "the missed call"
	case models.FollowupCanceled:
		return "the cancellation"
	case models.FollowupDisqualified:
		return "the visitor was sent to a guide"
	}
	return trigger
}
