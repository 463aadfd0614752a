package calendars_test

import (
	"strings"
	"testing"
	"time"
)

// busyCalendar is the hosts' calendar every source test reads, one entry
// per UID (a CalDAV collection holds each as one object). {{OWN}} becomes
// the UID of a call booked through the service.
var busyCalendar = [][]string{
	// A weekly call on Tuesdays at 09:00 New York, four times: the second is
	// skipped (EXDATE) and the third moved to 14:00 (RECURRENCE-ID). The
	// fourth falls after the US change to summer time and stays at 09:00.
	{`BEGIN:VEVENT
UID:weekly-standup
DTSTAMP:20260201T000000Z
DTSTART;TZID=America/New_York:20260303T090000
DTEND;TZID=America/New_York:20260303T093000
RRULE:FREQ=WEEKLY;COUNT=4
EXDATE;TZID=America/New_York:20260310T090000
SUMMARY:Stand-up
END:VEVENT`, `BEGIN:VEVENT
UID:weekly-standup
DTSTAMP:20260201T000000Z
RECURRENCE-ID;TZID=America/New_York:20260317T090000
DTSTART;TZID=America/New_York:20260317T140000
DTEND;TZID=America/New_York:20260317T143000
SUMMARY:Stand-up (moved)
END:VEVENT`},
	// Mondays 15:00 Berlin: 09:00 New York while both are on winter time,
	// 10:00 between the US change (8 March) and the EU one (29 March),
	// 09:00 again after it.
	{`BEGIN:VEVENT
UID:berlin-weekly
DTSTAMP:20260201T000000Z
DTSTART;TZID=Europe/Berlin:20260302T150000
DTEND;TZID=Europe/Berlin:20260302T153000
RRULE:FREQ=WEEKLY;BYDAY=MO
SUMMARY:Berlin team
END:VEVENT`},
	// All day on Thursday 5 March: the whole business date.
	{`BEGIN:VEVENT
UID:all-day
DTSTAMP:20260201T000000Z
DTSTART;VALUE=DATE:20260305
DTEND;VALUE=DATE:20260306
SUMMARY:Offsite
END:VEVENT`},
	// Floating 11:00-12:00 on 4 March: business time.
	{`BEGIN:VEVENT
UID:floating
DTSTAMP:20260201T000000Z
DTSTART:20260304T110000
DTEND:20260304T120000
SUMMARY:Dentist
END:VEVENT`},
	// UTC 19:00-19:30 on 4 March: 14:00 New York.
	{`BEGIN:VEVENT
UID:utc
DTSTAMP:20260201T000000Z
DTSTART:20260304T190000Z
DURATION:PT30M
SUMMARY:Call with London
END:VEVENT`},
	// Free and canceled events on Friday 6 March hold no time.
	{`BEGIN:VEVENT
UID:transparent
DTSTAMP:20260201T000000Z
DTSTART;TZID=America/New_York:20260306T130000
DTEND;TZID=America/New_York:20260306T140000
TRANSP:TRANSPARENT
SUMMARY:Focus time (free)
END:VEVENT`},
	{`BEGIN:VEVENT
UID:cancelled
DTSTAMP:20260201T000000Z
DTSTART;TZID=America/New_York:20260306T150000
DTEND;TZID=America/New_York:20260306T160000
STATUS:CANCELLED
SUMMARY:Canceled meeting
END:VEVENT`},
	// One of the service's own calls, as the host's calendar shows it
	// after subscribing to its feed, at another time than the call itself.
	{`BEGIN:VEVENT
UID:{{OWN}}
DTSTAMP:20260201T000000Z
DTSTART;TZID=America/New_York:20260312T130000
DTEND;TZID=America/New_York:20260312T140000
SUMMARY:Discovery call
END:VEVENT`},
}

// ownCallAt is when the test books a call whose UID the calendar repeats.
var ownCallAt = ny(time.March, 11, 10, 0)

func fillOwn(s, uid string) string { return strings.ReplaceAll(s, "{{OWN}}", uid) }

// busyCalendarICS is busyCalendar as one ICS file.
func busyCalendarICS(ownUID string) string {
	var evs []string
	for _, group := range busyCalendar {
		for _, e := range group {
			evs = append(evs, fillOwn(e, ownUID))
		}
	}
	return calendarText(evs...)
}

// slotCase is one slot the busy calendar must hide or leave offered.
type slotCase struct {
	why     string
	start   time.Time
	offered bool
}

var busyCalendarSlots = []slotCase{
	{"weekly event, first occurrence", ny(time.March, 3, 9, 0), false},
	{"weekly event, beside it", ny(time.March, 3, 9, 30), true},
	{"weekly event, EXDATE", ny(time.March, 10, 9, 0), true},
	{"weekly event, moved away by RECURRENCE-ID", ny(time.March, 17, 9, 0), true},
	{"weekly event, moved to by RECURRENCE-ID", ny(time.March, 17, 14, 0), false},
	{"weekly event, after the US change", ny(time.March, 24, 9, 0), false},
	{"weekly event, after COUNT ran out", ny(time.March, 31, 9, 0), true},
	{"Berlin event between the US and EU changes", ny(time.March, 9, 10, 0), false},
	{"Berlin event's winter hour, between the changes", ny(time.March, 9, 9, 0), true},
	{"Berlin event, still between the changes", ny(time.March, 23, 10, 0), false},
	{"Berlin event after the EU change", ny(time.March, 30, 9, 0), false},
	{"Berlin event's summer-gap hour after the EU change", ny(time.March, 30, 10, 0), true},
	{"all-day event, morning", ny(time.March, 5, 9, 0), false},
	{"all-day event, last slot", ny(time.March, 5, 16, 30), false},
	{"day after the all-day event", ny(time.March, 6, 9, 0), true},
	{"floating event", ny(time.March, 4, 11, 0), false},
	{"floating event, second half", ny(time.March, 4, 11, 30), false},
	{"after the floating event", ny(time.March, 4, 12, 0), true},
	{"UTC event", ny(time.March, 4, 14, 0), false},
	{"after the UTC event", ny(time.March, 4, 14, 30), true},
	{"TRANSP:TRANSPARENT event", ny(time.March, 6, 13, 0), true},
	{"STATUS:CANCELLED event", ny(time.March, 6, 15, 0), true},
	{"event with one of our own calls' UIDs", ny(time.March, 12, 13, 0), true},
}

// checkSlots asserts every case, and that the call behind {{OWN}} still
// hides its own time.
func checkSlots(t *testing.T, e *env) {
	t.Helper()
	for _, c := range busyCalendarSlots {
		if got := e.offered(t, c.start); got != c.offered {
			t.Errorf("%s (%s): offered = %v, want %v", c.why, c.start.Format(time.RFC3339), got, c.offered)
		}
	}
	if e.offered(t, ownCallAt) {
		t.Errorf("the booked call's own time is offered")
	}
}
