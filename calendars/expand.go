package calendars

import (
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	ics "github.com/arran4/golang-ical"
)

// Busy is one busy span of a calendar, with the UID of the event it comes
// from (so the service's own calls can be told apart).
type Busy struct {
	Start, End time.Time
	UID        string
}

// maxBusy bounds the busy spans one calendar may yield.
const maxBusy = 100_000

// ErrTooManyEvents: a calendar yields more busy times than one host can
// plausibly have; it is refused rather than half read.
var ErrTooManyEvents = fmt.Errorf("the calendar has more than %d busy times in the booking horizon", maxBusy)

// Expand parses iCalendar data and returns the busy spans of its events
// that overlap [from, to), sorted by start. Recurring events are expanded
// with rrule-go (every RRULE, RDATE with dates, times or periods, EXDATE),
// with RECURRENCE-ID overrides replacing the occurrence they name; a rule
// that cannot be expanded within the limits fails the whole calendar with
// a RuleError. Times with a TZID are read in that zone (by name, or as the
// file's own VTIMEZONE defines it), UTC times as UTC, floating times and
// all-day dates in loc (the business zone; an all-day event blocks its
// whole dates there). An event whose end comes before its start lasts
// from its end to its start. Events that are TRANSP:TRANSPARENT or
// STATUS:CANCELLED are not busy. Only the properties that decide busy
// times are parsed.
func Expand(r io.Reader, from, to time.Time, loc *time.Location) ([]Busy, error) {
	cal, err := ics.ParseCalendar(onlyBusyProps(r))
	if errors.Is(err, errNotCalendar) || errors.Is(err, ErrTooLarge) {
		return nil, err
	}
	if err != nil {
		return nil, errUnreadable
	}
	x := expander{from: from, to: to, loc: loc, zones: map[string]*time.Location{}, walk: maxWalk}
	x.fileZones = fileZones(cal, from, to, &x.walk)
	masters := map[string]*ics.VEvent{}
	overrides := map[string][]*ics.VEvent{}
	var order []string
	for i, ev := range cal.Events() {
		uid := ev.Id()
		if uid == "" {
			uid = fmt.Sprintf("\x00event %d", i) // no UID: an event of its own
		}
		if ev.GetProperty(ics.ComponentPropertyRecurrenceId) != nil {
			overrides[uid] = append(overrides[uid], ev)
			continue
		}
		if _, dup := masters[uid]; !dup {
			order = append(order, uid)
		}
		masters[uid] = ev
	}
	for uid := range overrides {
		if masters[uid] == nil {
			order = append(order, uid)
		}
	}
	for _, uid := range order {
		if err := x.series(uid, masters[uid], overrides[uid]); err != nil {
			return nil, err
		}
	}
	sort.Slice(x.out, func(i, j int) bool { return x.out[i].Start.Before(x.out[j].Start) })
	return x.out, nil
}

type expander struct {
	from, to  time.Time
	loc       *time.Location
	zones     map[string]*time.Location // TZIDs resolved so far
	fileZones map[string]*time.Location // the file's VTIMEZONE blocks
	walk      int                       // steps left to walk rules (maxWalk)
	out       []Busy
}

// blocks reports whether ev takes up time at all.
func blocks(ev *ics.VEvent) bool {
	if p := ev.GetProperty(ics.ComponentPropertyTransp); p != nil && strings.EqualFold(strings.TrimSpace(p.Value), "TRANSPARENT") {
		return false
	}
	return !isCancelled(ev)
}

func isCancelled(ev *ics.VEvent) bool {
	p := ev.GetProperty(ics.ComponentPropertyStatus)
	return p != nil && strings.EqualFold(strings.TrimSpace(p.Value), "CANCELLED")
}

// series adds the busy spans of one UID: the master's occurrences, less
// those its overrides replace and its EXDATEs, plus the overrides
// themselves.
func (x *expander) series(uid string, master *ics.VEvent, overrides []*ics.VEvent) error {
	if master != nil && isCancelled(master) {
		return nil // the whole series is off
	}
	skip := map[int64]bool{} // occurrence starts, Unix seconds
	for _, ov := range overrides {
		if t, _, err := x.timeOf(ov.GetProperty(ics.ComponentPropertyRecurrenceId)); err == nil {
			skip[t.Unix()] = true
		}
		if blocks(ov) {
			if err := x.single(uid, ov); err != nil {
				return err
			}
		}
	}
	if master == nil || !blocks(master) {
		return nil
	}
	start, allDay, err := x.timeOf(master.GetProperty(ics.ComponentPropertyDtStart))
	if err != nil {
		return nil // an event without a readable start holds no time
	}
	sp := x.spanOf(master, start, allDay)
	for _, p := range x.periods(master, ics.ComponentPropertyExdate) {
		skip[p.start.Unix()] = true
	}
	emit := func(t time.Time, s span) error {
		if skip[t.Unix()] {
			return nil
		}
		skip[t.Unix()] = true // once, however many rules name it
		x.add(uid, t, s)
		return x.check()
	}
	// DTSTART is always an occurrence; RDATEs add theirs, a PERIOD with
	// its own length.
	if err := emit(start, sp); err != nil {
		return err
	}
	for _, p := range x.periods(master, ics.ComponentPropertyRdate) {
		s := sp
		if p.span != nil {
			s = *p.span
		}
		if err := emit(p.start, s); err != nil {
			return err
		}
	}
	for _, rule := range master.Properties {
		if rule.IANAToken != string(ics.ComponentPropertyRrule) {
			continue
		}
		ts, err := occurrences(rule.Value, start, sp.longest(), x.from, x.to, &x.walk)
		if err != nil {
			return err
		}
		for _, t := range ts {
			if err := emit(t, sp); err != nil {
				return err
			}
		}
	}
	return nil
}

// single adds one non-recurring occurrence (an override).
func (x *expander) single(uid string, ev *ics.VEvent) error {
	start, allDay, err := x.timeOf(ev.GetProperty(ics.ComponentPropertyDtStart))
	if err != nil {
		return nil
	}
	x.add(uid, start, x.spanOf(ev, start, allDay))
	return x.check()
}

func (x *expander) check() error {
	if len(x.out) > maxBusy {
		return ErrTooManyEvents
	}
	return nil
}

// span is how long each occurrence lasts: whole days in the business zone
// for all-day events (so a DST change keeps midnight to midnight), an
// absolute duration otherwise. Either may be negative: an event written
// with its end before its start.
type span struct {
	days int
	d    time.Duration
}

// longest is at least how long the span lasts, in absolute time.
func (sp span) longest() time.Duration {
	d := sp.d
	if sp.days != 0 {
		d = time.Duration(sp.days) * 25 * time.Hour
	}
	return max(d, -d)
}

// add records one occurrence if it overlaps the window. An end before the
// start is taken the other way round, as calendar apps do.
func (x *expander) add(uid string, start time.Time, sp span) {
	end := start.Add(sp.d)
	if sp.days != 0 {
		end = start.AddDate(0, 0, sp.days)
	}
	if end.Before(start) {
		start, end = end, start
	}
	if !end.After(start) || !end.After(x.from) || !start.Before(x.to) {
		return
	}
	x.out = append(x.out, Busy{Start: start.UTC(), End: end.UTC(), UID: uid})
}

// spanOf reads DTEND or DURATION. Without either, an all-day event lasts
// its day and a timed one no time at all (RFC 5545).
func (x *expander) spanOf(ev *ics.VEvent, start time.Time, allDay bool) span {
	if end, endAllDay, err := x.timeOf(ev.GetProperty(ics.ComponentPropertyDtEnd)); err == nil {
		if allDay && endAllDay {
			return daySpan(end.Sub(start))
		}
		return span{d: end.Sub(start)}
	}
	if p := ev.GetProperty(ics.ComponentPropertyDuration); p != nil {
		if d, days, err := parseDuration(p.Value); err == nil {
			if allDay && d == 0 {
				return daySpan(time.Duration(days) * 24 * time.Hour)
			}
			return span{d: d + time.Duration(days)*24*time.Hour}
		}
	}
	if allDay {
		return span{days: 1}
	}
	return span{}
}

// daySpan is the whole days d rounds to, at least one either way.
func daySpan(d time.Duration) span {
	days := int((d + 12*time.Hour).Hours() / 24)
	if d < 0 {
		days = -int((-d + 12*time.Hour).Hours() / 24)
	}
	if days == 0 {
		days = 1
	}
	return span{days: days}
}
