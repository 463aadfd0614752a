package calendars

import (
	"strings"
	"testing"
	"time"

	ics "github.com/arran4/golang-ical"
)

// Outlook writes a zone it has no standard name for as a "Customized Time
// Zone", defined only by the file's VTIMEZONE block.
const (
	indiaZone = `BEGIN:VTIMEZONE
TZID:Customized Time Zone
BEGIN:STANDARD
DTSTART:16010101T000000
TZOFFSETFROM:+0530
TZOFFSETTO:+0530
END:STANDARD
END:VTIMEZONE`
	// Central European rules, as Outlook writes them.
	europeZone = `BEGIN:VTIMEZONE
TZID:Customized Time Zone 1
BEGIN:STANDARD
DTSTART:16010101T030000
TZOFFSETFROM:+0200
TZOFFSETTO:+0100
RRULE:FREQ=YEARLY;BYDAY=-1SU;BYMONTH=10
END:STANDARD
BEGIN:DAYLIGHT
DTSTART:16010101T020000
TZOFFSETFROM:+0100
TZOFFSETTO:+0200
RRULE:FREQ=YEARLY;BYDAY=-1SU;BYMONTH=3
END:DAYLIGHT
END:VTIMEZONE`
	// A zone named like an IANA zone but defined otherwise in the file:
	// the IANA zone wins, as calendar apps do.
	fakeBerlin = `BEGIN:VTIMEZONE
TZID:Europe/Berlin
BEGIN:STANDARD
DTSTART:19700101T000000
TZOFFSETFROM:+0900
TZOFFSETTO:+0900
END:STANDARD
END:VTIMEZONE`
)

func lines(block string) []string { return strings.Split(block, "\n") }

func TestExpand_TimeZonesDefinedInTheFile(t *testing.T) {
	berlin, _ := time.LoadLocation("Europe/Berlin")
	at := func(loc *time.Location, d, h int) time.Time { return time.Date(2026, 3, d, h, 0, 0, 0, loc).UTC() }
	cases := []struct {
		name string
		ics  string
		want [][2]time.Time
	}{
		{"a fixed customized zone (UTC+05:30)", cal(append(lines(indiaZone), "BEGIN:VEVENT", "UID:i",
			`DTSTART;TZID="Customized Time Zone":20260305T200000`, `DTEND;TZID="Customized Time Zone":20260305T210000`, "END:VEVENT")...),
			[][2]time.Time{{utc(2026, 3, 5, 14, 30), utc(2026, 3, 5, 15, 30)}}},
		{"a customized zone with summer time, across its change on 29 March", cal(append(lines(europeZone), "BEGIN:VEVENT", "UID:e",
			`DTSTART;TZID=Customized Time Zone 1:20260323T150000`, `DTEND;TZID=Customized Time Zone 1:20260323T160000`,
			"RRULE:FREQ=WEEKLY;COUNT=2", "END:VEVENT")...),
			[][2]time.Time{{at(berlin, 23, 15), at(berlin, 23, 16)}, {at(berlin, 30, 15), at(berlin, 30, 16)}}},
		{"an IANA name wins over the file's block", cal(append(lines(fakeBerlin), "BEGIN:VEVENT", "UID:b",
			`DTSTART;TZID=Europe/Berlin:20260305T150000`, `DTEND;TZID=Europe/Berlin:20260305T160000`, "END:VEVENT")...),
			[][2]time.Time{{at(berlin, 5, 15), at(berlin, 5, 16)}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { checkSpans(t, spans(t, c.ics), c.want) })
	}
}

// TestFileZone_MatchesTheIANAZone: the zone read from Outlook's block for
// Central Europe gives the offsets Europe/Berlin gives, every hour of the
// window and its margin.
func TestFileZone_MatchesTheIANAZone(t *testing.T) {
	berlin, _ := time.LoadLocation("Europe/Berlin")
	parsed, err := ics.ParseCalendar(onlyBusyProps(strings.NewReader(cal(lines(europeZone)...))))
	if err != nil {
		t.Fatal(err)
	}
	budget := maxWalk
	loc := fileZones(parsed, winFrom, winTo, &budget)["Customized Time Zone 1"]
	if loc == nil {
		t.Fatal("the zone was not read")
	}
	for at := winFrom.Add(-zoneMargin / 2); at.Before(winTo.AddDate(0, 6, 0)); at = at.Add(time.Hour) {
		_, got := at.In(loc).Zone()
		_, want := at.In(berlin).Zone()
		if got != want {
			t.Fatalf("at %s: offset %d, want %d", at, got, want)
		}
	}
}
