package calendars

import (
	"fmt"
	"strings"
	"time"

	"github.com/teambition/rrule-go"
)

// Limits on expanding one repeating event, so that no rule, however long
// it has run or however often it repeats, can take unbounded time or
// memory.
const (
	// maxSteps bounds the occurrences walked per rule. Rules without a
	// COUNT are walked from just before the window, so this bounds the
	// occurrences inside it; a rule with a COUNT is walked from its start.
	maxSteps = 50_000
	// maxPerPeriod bounds the occurrences a rule may make within one of
	// its periods (a year for FREQ=YEARLY…): rrule-go builds each period
	// whole before yielding from it.
	maxPerPeriod = 20_000
	// maxWalk bounds the occurrences walked for one calendar file, all its
	// rules together, so that many rules cannot add up to unbounded work.
	maxWalk = 500_000
)

// ErrTooMuchRepetition: a calendar's repeating events together take more
// than maxWalk steps to expand.
var ErrTooMuchRepetition = fmt.Errorf("the calendar's repeating events take more than %d steps to expand, so its busy times cannot be read", maxWalk)

// RuleError: a repeating event cannot be expanded within the limits. Its
// source fails with this error rather than showing the host free.
type RuleError struct {
	Start time.Time // the event's DTSTART
	Freq  string    // the rule's FREQ, when it could be read
	Why   string
}

func (e *RuleError) Error() string {
	what := "a repeating event"
	if e.Freq != "" {
		what += " (" + e.Freq + ")"
	}
	return fmt.Sprintf("%s starting %s %s, so this calendar's busy times cannot be read",
		what, e.Start.UTC().Format("2006-01-02 15:04 UTC"), e.Why)
}

// ruleParts are the parts of an RRULE that rrule-go reads; others, such
// as RFC 7529's RSCALE and SKIP or an X- extension, are left out rather
// than failing the rule.
var ruleParts = map[string]bool{"FREQ": true, "UNTIL": true, "COUNT": true, "INTERVAL": true, "BYSECOND": true,
	"BYMINUTE": true, "BYHOUR": true, "BYDAY": true, "BYMONTHDAY": true, "BYYEARDAY": true, "BYWEEKNO": true,
	"BYMONTH": true, "BYSETPOS": true, "WKST": true}

// occurrences returns the starts of rule's occurrences (DTSTART start)
// that begin before to and end after from, for occurrences lasting up to
// longest. A rule without a COUNT is walked from just before the window
// rather than from start (see alignedStart), so one that began years ago
// costs what its occurrences in the window cost. Each step walked is
// taken from budget, shared by the calendar's rules.
func occurrences(rule string, start time.Time, longest time.Duration, from, to time.Time, budget *int) ([]time.Time, error) {
	var parts []string
	for _, p := range strings.Split(rule, ";") {
		k, _, _ := strings.Cut(p, "=")
		if ruleParts[strings.ToUpper(strings.TrimSpace(k))] {
			parts = append(parts, strings.TrimSpace(p))
		}
	}
	opt, err := rrule.StrToROptionInLocation(strings.Join(parts, ";"), start.Location())
	if err != nil {
		return nil, &RuleError{Start: start, Why: "has a repeat rule that cannot be read"}
	}
	freq := opt.Freq.String()
	fillDefaults(opt, start)
	opt.Dtstart = start
	if n := perPeriod(*opt); n > maxPerPeriod {
		return nil, &RuleError{Start: start, Freq: freq,
			Why: fmt.Sprintf("repeats up to %d times in each period, more than the %d that can be read", n, maxPerPeriod)}
	}
	if neverMatches(*opt) {
		return nil, nil // rrule-go would search up to the year 9999 for one
	}
	if opt.Count == 0 {
		opt.Dtstart = alignedStart(*opt, start, from.Add(-longest))
	}
	rr, err := rrule.NewRRule(*opt)
	if err != nil {
		return nil, &RuleError{Start: start, Freq: freq, Why: "has a repeat rule that cannot be read"}
	}
	next := rr.Iterator()
	var out []time.Time
	for steps := 0; ; steps++ {
		t, ok := next()
		if !ok || !t.Before(to) {
			return out, nil
		}
		if steps == maxSteps {
			return nil, &RuleError{Start: start, Freq: freq,
				Why: fmt.Sprintf("repeats more than %d times before the end of the booking horizon", maxSteps)}
		}
		if *budget--; *budget < 0 {
			return nil, ErrTooMuchRepetition
		}
		if t.Add(longest).After(from) {
			out = append(out, t)
		}
	}
}

// fillDefaults writes out what a rule takes from its DTSTART when it does
// not say (RFC 5545 §3.3.10, as rrule-go reads it): the month and day of a
// yearly rule, the day of a monthly one, the weekday of a weekly one, and
// the time of day. With them written out, the rule may be walked from
// another start in the same phase and give the same occurrences.
func fillDefaults(o *rrule.ROption, start time.Time) {
	if len(o.Byweekno) == 0 && len(o.Byyearday) == 0 && len(o.Bymonthday) == 0 && len(o.Byweekday) == 0 && len(o.Byeaster) == 0 {
		switch o.Freq {
		case rrule.YEARLY:
			if len(o.Bymonth) == 0 {
				o.Bymonth = []int{int(start.Month())}
			}
			o.Bymonthday = []int{start.Day()}
		case rrule.MONTHLY:
			o.Bymonthday = []int{start.Day()}
		case rrule.WEEKLY:
			o.Byweekday = []rrule.Weekday{weekdays[start.Weekday()]}
		}
	}
	if len(o.Byhour) == 0 && o.Freq < rrule.HOURLY {
		o.Byhour = []int{start.Hour()}
	}
	if len(o.Byminute) == 0 && o.Freq < rrule.MINUTELY {
		o.Byminute = []int{start.Minute()}
	}
	if len(o.Bysecond) == 0 && o.Freq < rrule.SECONDLY {
		o.Bysecond = []int{start.Second()}
	}
}

var weekdays = [7]rrule.Weekday{rrule.SU, rrule.MO, rrule.TU, rrule.WE, rrule.TH, rrule.FR, rrule.SA}

// perPeriod bounds from above how many occurrences one period of o makes:
// the days it may pick in the period times the times of day it may pick.
func perPeriod(o rrule.ROption) int {
	n := func(l int) int { return max(l, 1) }
	times := 1
	switch {
	case o.Freq < rrule.HOURLY:
		times = n(len(o.Byhour)) * n(len(o.Byminute)) * n(len(o.Bysecond))
	case o.Freq == rrule.HOURLY:
		times = n(len(o.Byminute)) * n(len(o.Bysecond))
	case o.Freq == rrule.MINUTELY:
		times = n(len(o.Bysecond))
	}
	days := 1
	switch o.Freq {
	case rrule.YEARLY:
		days = 366
		if len(o.Bymonth) > 0 {
			days = min(days, 31*len(o.Bymonth))
		}
	case rrule.MONTHLY:
		days = 31
	case rrule.WEEKLY:
		days = 7
	}
	if len(o.Bymonthday) > 0 && o.Freq <= rrule.MONTHLY {
		months := 1
		if o.Freq == rrule.YEARLY {
			months = 12
			if len(o.Bymonth) > 0 {
				months = len(o.Bymonth)
			}
		}
		days = min(days, len(o.Bymonthday)*months)
	}
	if len(o.Byyearday) > 0 {
		days = min(days, len(o.Byyearday))
	}
	return days * times
}

// neverMatches reports a rule whose days of the month exist in none of its
// months (BYMONTH=2;BYMONTHDAY=30), which rrule-go would otherwise search
// period by period until the year 9999.
func neverMatches(o rrule.ROption) bool {
	if len(o.Bymonth) == 0 || len(o.Bymonthday) == 0 || len(o.Byyearday) > 0 || len(o.Byweekno) > 0 {
		return false
	}
	for _, m := range o.Bymonth {
		days := time.Date(2024, time.Month(m)+1, 0, 0, 0, 0, 0, time.UTC).Day() // in a leap year
		for _, md := range o.Bymonthday {
			if md != 0 && max(md, -md) <= days {
				return false
			}
		}
	}
	return true
}

// alignedStart is the latest start not after target that is a whole
// number of the rule's intervals after start, at the beginning of its
// period (so nothing of that period is cut off), or start itself when
// that is later. The rule must have its defaults written out
// (fillDefaults). rrule-go steps through wall-clock fields, so the count
// of periods is taken on the wall clock, and a candidate that falls in a
// daylight-saving gap (where the clock would read otherwise) is passed
// over for the one before.
func alignedStart(o rrule.ROption, start, target time.Time) time.Time {
	if !start.Before(target) {
		return start
	}
	loc := start.Location()
	y, mo, d := start.Date()
	h, mi, s := start.Clock()
	ty, tmo, td := target.In(loc).Date()
	th, tmi, ts := target.In(loc).Clock()
	wallStart := time.Date(y, mo, d, h, mi, s, 0, time.UTC)
	wallTarget := time.Date(ty, tmo, td, th, tmi, ts, 0, time.UTC)
	gap := wallTarget.Sub(wallStart)
	var periods int64
	switch o.Freq {
	case rrule.YEARLY:
		periods = int64(ty - y)
	case rrule.MONTHLY:
		periods = int64(ty-y)*12 + int64(tmo-mo)
	case rrule.WEEKLY:
		periods = int64(gap / (7 * 24 * time.Hour))
	case rrule.DAILY:
		periods = int64(gap / (24 * time.Hour))
	case rrule.HOURLY:
		periods = int64(gap / time.Hour)
	case rrule.MINUTELY:
		periods = int64(gap / time.Minute)
	default:
		periods = int64(gap / time.Second)
	}
	interval := int64(max(o.Interval, 1))
	for k := periods/interval - 1; k > 0; k-- {
		m := int(k * interval)
		var want time.Time // the wall clock the candidate must read
		switch o.Freq {
		case rrule.YEARLY:
			want = time.Date(y+m, 1, 1, 0, 0, 0, 0, time.UTC)
		case rrule.MONTHLY:
			want = time.Date(y, mo+time.Month(m), 1, 0, 0, 0, 0, time.UTC)
		case rrule.WEEKLY:
			want = time.Date(y, mo, d+7*m, h, mi, s, 0, time.UTC)
		case rrule.DAILY:
			want = time.Date(y, mo, d+m, h, mi, s, 0, time.UTC)
		case rrule.HOURLY:
			want = time.Date(y, mo, d, h+m, mi, s, 0, time.UTC)
		case rrule.MINUTELY:
			want = time.Date(y, mo, d, h, mi+m, s, 0, time.UTC)
		default:
			want = time.Date(y, mo, d, h, mi, s+m, 0, time.UTC)
		}
		wy, wmo, wd := want.Date()
		wh, wmi, ws := want.Clock()
		cand := time.Date(wy, wmo, wd, wh, wmi, ws, 0, loc)
		if cy, cmo, cd := cand.Date(); cy == wy && cmo == wmo && cd == wd {
			if ch, cmi, cs := cand.Clock(); ch == wh && cmi == wmi && cs == ws {
				return cand
			}
		}
	}
	return start
}
