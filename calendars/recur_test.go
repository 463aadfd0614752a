package calendars

import (
	"errors"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/teambition/rrule-go"
)

// window is the booking horizon the expansion tests read: 40 days from
// 1 March 2026, across the US change to summer time (8 March).
var (
	winFrom = time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	winTo   = winFrom.AddDate(0, 0, 40)
)

func utc(y int, m time.Month, d, h, min int) time.Time {
	return time.Date(y, m, d, h, min, 0, 0, time.UTC)
}

// spans expands ics over the window and returns its busy spans.
func spans(t *testing.T, ics string) []Busy {
	t.Helper()
	got, err := Expand(strings.NewReader(ics), winFrom, winTo, ny)
	if err != nil {
		t.Fatal(err)
	}
	return got
}

func TestExpand_PeriodsSeveralRulesAndBackwardEvents(t *testing.T) {
	cases := []struct {
		name string
		ics  string
		want [][2]time.Time
	}{
		{"RDATE;VALUE=PERIOD with an end lasts until that end", cal("BEGIN:VEVENT", "UID:p", "DTSTART:20260302T150000Z", "DURATION:PT30M",
			"RDATE;VALUE=PERIOD:20260304T150000Z/20260304T170000Z", "END:VEVENT"),
			[][2]time.Time{{utc(2026, 3, 2, 15, 0), utc(2026, 3, 2, 15, 30)}, {utc(2026, 3, 4, 15, 0), utc(2026, 3, 4, 17, 0)}}},
		{"RDATE;VALUE=PERIOD with a duration lasts that long", cal("BEGIN:VEVENT", "UID:p", "DTSTART:20260302T150000Z", "DURATION:PT30M",
			"RDATE;VALUE=PERIOD:20260305T150000Z/PT3H,20260306T090000Z/20260306T091500Z", "END:VEVENT"),
			[][2]time.Time{{utc(2026, 3, 2, 15, 0), utc(2026, 3, 2, 15, 30)}, {utc(2026, 3, 5, 15, 0), utc(2026, 3, 5, 18, 0)},
				{utc(2026, 3, 6, 9, 0), utc(2026, 3, 6, 9, 15)}}},
		{"an EXDATE removes a PERIOD", cal("BEGIN:VEVENT", "UID:p", "DTSTART:20260302T150000Z", "DURATION:PT30M",
			"RDATE;VALUE=PERIOD:20260304T150000Z/20260304T170000Z", "EXDATE:20260304T150000Z", "END:VEVENT"),
			[][2]time.Time{{utc(2026, 3, 2, 15, 0), utc(2026, 3, 2, 15, 30)}}},
		{"every RRULE line counts", cal("BEGIN:VEVENT", "UID:r", "DTSTART:20260302T150000Z", "DURATION:PT1H",
			"RRULE:FREQ=WEEKLY;BYDAY=MO;COUNT=2", "RRULE:FREQ=WEEKLY;BYDAY=WE;COUNT=2", "END:VEVENT"),
			[][2]time.Time{{utc(2026, 3, 2, 15, 0), utc(2026, 3, 2, 16, 0)}, {utc(2026, 3, 4, 15, 0), utc(2026, 3, 4, 16, 0)},
				{utc(2026, 3, 9, 15, 0), utc(2026, 3, 9, 16, 0)}, {utc(2026, 3, 11, 15, 0), utc(2026, 3, 11, 16, 0)}}},
		{"rules naming the same time give it once", cal("BEGIN:VEVENT", "UID:r", "DTSTART:20260302T150000Z", "DURATION:PT1H",
			"RRULE:FREQ=DAILY;COUNT=2", "RRULE:FREQ=WEEKLY;COUNT=1", "END:VEVENT"),
			[][2]time.Time{{utc(2026, 3, 2, 15, 0), utc(2026, 3, 2, 16, 0)}, {utc(2026, 3, 3, 15, 0), utc(2026, 3, 3, 16, 0)}}},
		{"an end before the start is swapped", cal("BEGIN:VEVENT", "UID:b", "DTSTART:20260302T160000Z", "DTEND:20260302T150000Z", "END:VEVENT"),
			[][2]time.Time{{utc(2026, 3, 2, 15, 0), utc(2026, 3, 2, 16, 0)}}},
		{"a repeating event with its end before its start", cal("BEGIN:VEVENT", "UID:b", "DTSTART;TZID=America/New_York:20260306T100000",
			"DTEND;TZID=America/New_York:20260306T090000", "RRULE:FREQ=WEEKLY;COUNT=2", "END:VEVENT"),
			[][2]time.Time{{utc(2026, 3, 6, 14, 0), utc(2026, 3, 6, 15, 0)}, {utc(2026, 3, 13, 13, 0), utc(2026, 3, 13, 14, 0)}}},
		{"an all-day event ending the day before it starts", cal("BEGIN:VEVENT", "UID:b", "DTSTART;VALUE=DATE:20260310",
			"DTEND;VALUE=DATE:20260309", "END:VEVENT"),
			[][2]time.Time{{time.Date(2026, 3, 9, 0, 0, 0, 0, ny).UTC(), time.Date(2026, 3, 10, 0, 0, 0, 0, ny).UTC()}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { checkSpans(t, spans(t, c.ics), c.want) })
	}
}

func checkSpans(t *testing.T, got []Busy, want [][2]time.Time) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%d busy times %v, want %d %v", len(got), got, len(want), want)
	}
	for i, w := range want {
		if !got[i].Start.Equal(w[0]) || !got[i].End.Equal(w[1]) {
			t.Errorf("busy %d = %s–%s, want %s–%s", i, got[i].Start, got[i].End, w[0], w[1])
		}
	}
}

func TestExpand_LongRunningRulesExpandOverTheWindow(t *testing.T) {
	cases := []struct {
		name  string
		ics   string
		count int
		first [2]time.Time
	}{
		{"hourly since 2019", cal("BEGIN:VEVENT", "UID:h", "DTSTART:20190101T000000Z", "DURATION:PT30M", "RRULE:FREQ=HOURLY", "END:VEVENT"),
			40 * 24, [2]time.Time{utc(2026, 3, 1, 0, 0), utc(2026, 3, 1, 0, 30)}},
		// 2019-01-01 to 2026-03-01 is 2616 days: 62784 hours, 7 short of a
		// multiple of 13, so the first in the window is at 06:00.
		{"every 13 hours since 2019 keeps its phase", cal("BEGIN:VEVENT", "UID:h13", "DTSTART:20190101T000000Z", "DURATION:PT1H",
			"RRULE:FREQ=HOURLY;INTERVAL=13", "END:VEVENT"),
			74, [2]time.Time{utc(2026, 3, 1, 6, 0), utc(2026, 3, 1, 7, 0)}},
		{"an event that lasts into the window from before it", cal("BEGIN:VEVENT", "UID:long", "DTSTART:20100228T220000Z", "DURATION:PT4H",
			"RRULE:FREQ=YEARLY", "END:VEVENT"),
			1, [2]time.Time{utc(2026, 2, 28, 22, 0), utc(2026, 3, 1, 2, 0)}},
		// 1887 weeks from 2 January 1990 to 3 March 2026: odd, so the
		// fortnightly Tuesdays in the window are 10 and 24 March and 7 April,
		// all on summer time.
		{"fortnightly since 1990 in New York keeps its weeks and 09:00", cal("BEGIN:VEVENT", "UID:w",
			"DTSTART;TZID=America/New_York:19900102T090000", "DURATION:PT1H", "RRULE:FREQ=WEEKLY;INTERVAL=2", "END:VEVENT"),
			3, [2]time.Time{utc(2026, 3, 10, 13, 0), utc(2026, 3, 10, 14, 0)}},
		{"monthly on the 31st since 2000", cal("BEGIN:VEVENT", "UID:m", "DTSTART:20000131T120000Z", "DURATION:PT1H",
			"RRULE:FREQ=MONTHLY", "END:VEVENT"),
			1, [2]time.Time{utc(2026, 3, 31, 12, 0), utc(2026, 3, 31, 13, 0)}},
		{"every minute since 2024, until the 2nd", cal("BEGIN:VEVENT", "UID:min", "DTSTART:20240101T000000Z", "DURATION:PT1M",
			"RRULE:FREQ=MINUTELY;UNTIL=20260301T235900Z", "END:VEVENT"),
			24 * 60, [2]time.Time{winFrom, utc(2026, 3, 1, 0, 1)}},
		{"days that no month has, beside one that does", cal("BEGIN:VEVENT", "UID:feb", "DTSTART:20260302T100000Z", "DURATION:PT1H",
			"RRULE:FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30,31", "RRULE:FREQ=DAILY;COUNT=1", "END:VEVENT"),
			1, [2]time.Time{utc(2026, 3, 2, 10, 0), utc(2026, 3, 2, 11, 0)}},
		{"a birthday since 1950", cal("BEGIN:VEVENT", "UID:y", "DTSTART;VALUE=DATE:19500315", "RRULE:FREQ=YEARLY", "END:VEVENT"),
			1, [2]time.Time{time.Date(2026, 3, 15, 0, 0, 0, 0, ny).UTC(), time.Date(2026, 3, 16, 0, 0, 0, 0, ny).UTC()}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := spans(t, c.ics)
			if len(got) != c.count {
				t.Fatalf("%d busy times, want %d", len(got), c.count)
			}
			if !got[0].Start.Equal(c.first[0]) || !got[0].End.Equal(c.first[1]) {
				t.Errorf("first = %s–%s, want %s–%s", got[0].Start, got[0].End, c.first[0], c.first[1])
			}
		})
	}
}

func TestExpand_RulesThatCannotBeExpandedSaySo(t *testing.T) {
	cases := []struct{ name, rule, start, why string }{
		{"every second", "FREQ=SECONDLY", "20190101T000000Z", "repeats more than"},
		{"every second, counted", "FREQ=SECONDLY;COUNT=900000000", "20190101T000000Z", "repeats more than"},
		{"many BY parts", "FREQ=YEARLY;BYMONTH=1,2,3,4,5,6,7,8,9,10,11,12;BYHOUR=0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23;" +
			"BYMINUTE=0,5,10,15,20,25,30,35,40,45,50,55;BYSECOND=0,10,20,30,40,50", "20190101T000000Z", "in each period"},
		{"a rule that cannot be read", "FREQ=FORTNIGHTLY", "20260302T100000Z", "cannot be read"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			_, err := Expand(strings.NewReader(cal("BEGIN:VEVENT", "UID:x", "DTSTART:"+c.start, "DURATION:PT1S", "RRULE:"+c.rule, "END:VEVENT")), winFrom, winTo, ny)
			runtime.ReadMemStats(&after)
			var rerr *RuleError
			if !errors.As(err, &rerr) || !strings.Contains(err.Error(), c.why) || !strings.Contains(err.Error(), "2019-01-01") && c.start[:4] == "2019" {
				t.Fatalf("err = %v, want a RuleError saying it %s", err, c.why)
			}
			if got := after.TotalAlloc - before.TotalAlloc; got > 64<<20 {
				t.Errorf("allocated %d MB", got>>20)
			}
		})
	}
}

// TestOccurrences_FromTheWindowMatchesFromTheStart: walking a rule from
// just before the window gives what walking it from its DTSTART gives.
func TestOccurrences_FromTheWindowMatchesFromTheStart(t *testing.T) {
	rules := []string{
		"FREQ=DAILY;INTERVAL=3", "FREQ=DAILY;BYHOUR=9,17", "FREQ=WEEKLY;INTERVAL=2;BYDAY=MO,TH", "FREQ=WEEKLY;WKST=SU;INTERVAL=3;BYDAY=SU,SA",
		"FREQ=MONTHLY;BYDAY=-1FR", "FREQ=MONTHLY;BYMONTHDAY=31", "FREQ=MONTHLY;INTERVAL=5", "FREQ=MONTHLY;BYSETPOS=-1;BYDAY=MO,TU,WE,TH,FR",
		"FREQ=YEARLY;BYMONTH=3;BYDAY=2SU", "FREQ=YEARLY;BYWEEKNO=10;BYDAY=MO", "FREQ=YEARLY;INTERVAL=2;BYYEARDAY=70,-300",
		"FREQ=HOURLY;INTERVAL=7", "FREQ=HOURLY;BYHOUR=1,2,3", "FREQ=MINUTELY;INTERVAL=97", "FREQ=MINUTELY;INTERVAL=89;BYHOUR=2,9",
		"FREQ=SECONDLY;INTERVAL=3607", "FREQ=DAILY;UNTIL=20260310T000000Z",
	}
	starts := []time.Time{
		time.Date(2024, 1, 31, 9, 30, 0, 0, ny), // a 31st, on the business clock
		time.Date(2023, 11, 5, 1, 30, 0, 0, ny), // the hour that happens twice
		time.Date(2025, 3, 9, 3, 15, 0, 0, ny),  // just after the hour that does not happen
		time.Date(2024, 2, 29, 23, 59, 59, 0, time.UTC),
	}
	for _, rule := range rules {
		for _, start := range starts {
			budget := maxWalk
			got, err := occurrences(rule, start, time.Hour, winFrom, winTo, &budget)
			if err != nil {
				t.Fatalf("%s from %s: %v", rule, start, err)
			}
			want := walkFromStart(t, rule, start, time.Hour)
			if len(got) != len(want) {
				t.Errorf("%s from %s: %d occurrences, want %d", rule, start, len(got), len(want))
				continue
			}
			for i := range want {
				if !got[i].Equal(want[i]) {
					t.Errorf("%s from %s: occurrence %d = %s, want %s", rule, start, i, got[i], want[i])
					break
				}
			}
		}
	}
}

// walkFromStart is the plain expansion: every occurrence from DTSTART.
func walkFromStart(t *testing.T, rule string, start time.Time, longest time.Duration) []time.Time {
	opt, err := rrule.StrToROptionInLocation(rule, start.Location())
	if err != nil {
		t.Fatal(err)
	}
	opt.Dtstart = start
	rr, err := rrule.NewRRule(*opt)
	if err != nil {
		t.Fatal(err)
	}
	var out []time.Time
	next := rr.Iterator()
	for {
		o, ok := next()
		if !ok || !o.Before(winTo) {
			return out
		}
		if o.Add(longest).After(winFrom) {
			out = append(out, o)
		}
	}
}

// TestExpand_ManyRulesShareOneBudget: rules each within their own limit
// still cannot add up to unbounded work in one calendar.
func TestExpand_ManyRulesShareOneBudget(t *testing.T) {
	lines := []string{"BEGIN:VEVENT", "UID:many", "DTSTART:20190101T000000Z", "DURATION:PT1M"}
	for i := 0; i < 13; i++ {
		lines = append(lines, "RRULE:FREQ=MINUTELY;COUNT=40000")
	}
	lines = append(lines, "END:VEVENT")
	if _, err := Expand(strings.NewReader(cal(lines...)), winFrom, winTo, ny); !errors.Is(err, ErrTooMuchRepetition) {
		t.Fatalf("err = %v, want ErrTooMuchRepetition", err)
	}
}

func TestNeverMatches(t *testing.T) {
	cases := map[string]bool{
		"FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30":              true,
		"FREQ=SECONDLY;BYMONTH=4,6;BYMONTHDAY=31":          true,
		"FREQ=DAILY;BYMONTH=2;BYMONTHDAY=-30":              true,
		"FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=29":              false, // leap years
		"FREQ=DAILY;BYMONTH=2,3;BYMONTHDAY=30":             false,
		"FREQ=MONTHLY;BYMONTHDAY=31":                       false,
		"FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30;BYYEARDAY=60": false,
	}
	for rule, want := range cases {
		opt, err := rrule.StrToROption(rule)
		if err != nil {
			t.Fatal(err)
		}
		if got := neverMatches(*opt); got != want {
			t.Errorf("%s: %v, want %v", rule, got, want)
		}
	}
}
