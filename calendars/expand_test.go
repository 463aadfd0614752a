package calendars

import (
	"errors"
	"strings"
	"testing"
	"time"
)

var ny, _ = time.LoadLocation("America/New_York")

func cal(lines ...string) string {
	return "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//EN\r\n" + strings.Join(lines, "\r\n") + "\r\nEND:VCALENDAR\r\n"
}

func TestExpand(t *testing.T) {
	from := time.Date(2026, 3, 1, 0, 0, 0, 0, ny)
	to := from.AddDate(0, 0, 40)
	at := func(m time.Month, d, h, min int) time.Time { return time.Date(2026, m, d, h, min, 0, 0, ny).UTC() }
	cases := []struct {
		name string
		ics  string
		want [][2]time.Time
	}{
		{"RDATE adds occurrences, DURATION sets their length", cal("BEGIN:VEVENT", "UID:a", "DTSTART;TZID=America/New_York:20260302T100000",
			"DURATION:PT45M", "RDATE;TZID=America/New_York:20260304T100000,20260305T100000", "END:VEVENT"),
			[][2]time.Time{{at(3, 2, 10, 0), at(3, 2, 10, 45)}, {at(3, 4, 10, 0), at(3, 4, 10, 45)}, {at(3, 5, 10, 0), at(3, 5, 10, 45)}}},
		{"Outlook's Windows zone names", cal("BEGIN:VEVENT", "UID:b", `DTSTART;TZID="W. Europe Standard Time":20260310T150000`,
			`DTEND;TZID="W. Europe Standard Time":20260310T160000`, "END:VEVENT"),
			[][2]time.Time{{time.Date(2026, 3, 10, 14, 0, 0, 0, time.UTC), time.Date(2026, 3, 10, 15, 0, 0, 0, time.UTC)}}},
		{"daily all-day events keep midnight to midnight across the DST change", cal("BEGIN:VEVENT", "UID:c",
			"DTSTART;VALUE=DATE:20260307", "RRULE:FREQ=DAILY;COUNT=2", "END:VEVENT"),
			[][2]time.Time{{at(3, 7, 0, 0), at(3, 8, 0, 0)}, {at(3, 8, 0, 0), at(3, 9, 0, 0)}}},
		{"a cancelled series takes its overrides with it", cal("BEGIN:VEVENT", "UID:d", "STATUS:CANCELLED",
			"DTSTART:20260302T150000Z", "DTEND:20260302T160000Z", "RRULE:FREQ=DAILY", "END:VEVENT",
			"BEGIN:VEVENT", "UID:d", "RECURRENCE-ID:20260303T150000Z", "DTSTART:20260303T170000Z", "DTEND:20260303T180000Z", "END:VEVENT"),
			nil},
		{"a cancelled occurrence of a series frees it", cal("BEGIN:VEVENT", "UID:e", "DTSTART:20260302T150000Z", "DTEND:20260302T160000Z",
			"RRULE:FREQ=DAILY;COUNT=2", "END:VEVENT", "BEGIN:VEVENT", "UID:e", "RECURRENCE-ID:20260303T150000Z", "STATUS:CANCELLED",
			"DTSTART:20260303T150000Z", "DTEND:20260303T160000Z", "END:VEVENT"),
			[][2]time.Time{{time.Date(2026, 3, 2, 15, 0, 0, 0, time.UTC), time.Date(2026, 3, 2, 16, 0, 0, 0, time.UTC)}}},
		{"folded long lines and dropped descriptions", cal("BEGIN:VEVENT", "UID:f", "DESCRIPTION:"+strings.Repeat("x", 200_000),
			" continued", "DTSTART:20260302T150000Z", "DTEND:20260302T", " 160000Z", "END:VEVENT"),
			[][2]time.Time{{time.Date(2026, 3, 2, 15, 0, 0, 0, time.UTC), time.Date(2026, 3, 2, 16, 0, 0, 0, time.UTC)}}},
		{"outside the window", cal("BEGIN:VEVENT", "UID:g", "DTSTART:20260501T150000Z", "DTEND:20260501T160000Z", "END:VEVENT"), nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := Expand(strings.NewReader(c.ics), from, to, ny)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(c.want) {
				t.Fatalf("got %v, want %v", got, c.want)
			}
			for i, w := range c.want {
				if !got[i].Start.Equal(w[0]) || !got[i].End.Equal(w[1]) {
					t.Errorf("busy %d = %s–%s, want %s–%s", i, got[i].Start, got[i].End, w[0], w[1])
				}
			}
		})
	}
}

func TestExpand_RefusesWhatIsNotACalendar(t *testing.T) {
	for _, body := range []string{"", "<html><body>Sign in</body></html>", "\n\nHello"} {
		if _, err := Expand(strings.NewReader(body), time.Now(), time.Now().Add(time.Hour), ny); !errors.Is(err, errNotCalendar) {
			t.Errorf("%q: %v, want errNotCalendar", body, err)
		}
	}
}

func FuzzExpand(f *testing.F) {
	f.Add(cal("BEGIN:VEVENT", "UID:a", "DTSTART;TZID=Europe/Berlin:20260302T150000", "RRULE:FREQ=WEEKLY;BYDAY=MO", "EXDATE:20260309T140000Z", "DURATION:PT1H", "END:VEVENT"))
	f.Add(cal("BEGIN:VEVENT", "UID:b", "DTSTART;VALUE=DATE:20260305", "RRULE:FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30", "END:VEVENT"))
	f.Add(cal("BEGIN:VEVENT", "UID:c", "DTSTART:20260302T150000Z", "DURATION:PT30M", "RDATE;VALUE=PERIOD:20260304T150000Z/20260304T170000Z,20260305T150000Z/PT2H",
		"RRULE:FREQ=WEEKLY;BYDAY=MO", "RRULE:FREQ=HOURLY;INTERVAL=13;BYHOUR=9,10", "END:VEVENT"))
	f.Add(cal("BEGIN:VEVENT", "UID:d", "DTSTART:20260302T160000Z", "DTEND:20260302T150000Z", "RRULE:FREQ=MINUTELY;INTERVAL=97;UNTIL=20260320T000000Z", "END:VEVENT"))
	f.Add(cal("BEGIN:VTIMEZONE", "TZID:Custom", "BEGIN:STANDARD", "DTSTART:16010101T030000", "TZOFFSETFROM:+0200", "TZOFFSETTO:+0100",
		"RRULE:FREQ=YEARLY;BYDAY=-1SU;BYMONTH=10", "END:STANDARD", "BEGIN:DAYLIGHT", "DTSTART:16010101T020000", "TZOFFSETFROM:+0100",
		"TZOFFSETTO:+0200", "RRULE:FREQ=YEARLY;BYDAY=-1SU;BYMONTH=3", "END:DAYLIGHT", "END:VTIMEZONE",
		"BEGIN:VEVENT", "UID:e", "DTSTART;TZID=Custom:20190301T150000", "DURATION:PT1H", "RRULE:FREQ=DAILY", "END:VEVENT"))
	from := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, s string) {
		busy, err := Expand(strings.NewReader(s), from, from.AddDate(0, 0, 30), ny)
		if err != nil {
			return
		}
		for _, b := range busy {
			if !b.End.After(b.Start) {
				t.Fatalf("empty or backward busy time %v", b)
			}
		}
	})
}
