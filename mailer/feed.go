package mailer

import (
	"fmt"
	"strings"

	ics "github.com/arran4/golang-ical"

	"github.com/callbook/callbook/models"
)

// HostFeedICS builds a host's private calendar feed, served at
// /calendars/{token}.ics for Google, Outlook or Apple Calendar to
// subscribe to: one event per call, with the visitor's name, the target
// title, the meeting place when there is one and a link to the lead page.
// Each event keeps the UID and SEQUENCE of the call's invite, so a
// subscribed calendar moves it in place, and a read of the host's own
// calendar can tell the service's calls from the host's other events.
func (r *Renderer) HostFeedICS(host *models.User, calls []models.FeedCall) ([]byte, error) {
	cal := ics.NewCalendarFor("Callbook")
	cal.SetMethod(ics.MethodPublish)
	cal.SetXWRCalName(icsText("Discovery calls: " + host.Name))
	// Not SetRefreshInterval: golang-ical v0.3.4 puts ";VALUE=DURATION" in
	// the property's name, so a VALUE parameter given to it is written twice.
	cal.CalendarProperties = append(cal.CalendarProperties, ics.CalendarProperty{BaseProperty: ics.BaseProperty{
		IANAToken: "REFRESH-INTERVAL", ICalParameters: map[string][]string{"VALUE": {"DURATION"}}, Value: "PT15M"}})
	cal.SetXPublishedTTL("PT15M")
	stamp := r.now()
	for _, c := range calls {
		b := c.Booking
		ev := cal.AddEvent(r.InviteUID(b.UID))
		ev.SetSequence(b.Sequence)
		ev.SetDtStampTime(stamp)
		ev.SetModifiedAt(b.UpdatedAt)
		ev.SetStartAt(b.StartAt)
		ev.SetEndAt(b.EndAt)
		call := models.MailData{CallTitle: b.CallTitle}.CallName()
		ev.SetSummary(icsText(fmt.Sprintf("%s: %s (%s)", call, c.Name, b.TargetTitle)))
		lead := r.leadURL(c.LeadID)
		desc := []string{"Visitor: " + c.Name, "Target title: " + b.TargetTitle,
			"Call: " + call + ", " + formatDuration(r.catalog.Lang("en"), b.EndAt.Sub(b.StartAt))}
		if c.Location != "" {
			ev.SetLocation(icsText(c.Location))
			desc = append(desc, "Where: "+c.Location)
		}
		desc = append(desc, "Lead: "+lead)
		ev.SetDescription(icsText(strings.Join(desc, "\n")))
		ev.SetURL(lead)
		ev.SetStatus(ics.ObjectStatusConfirmed)
	}
	var out strings.Builder
	if err := cal.SerializeTo(&out, ics.WithNewLineWindows); err != nil {
		return nil, fmt.Errorf("host feed: %w", err)
	}
	return []byte(out.String()), nil
}
