package calendars

import (
	"errors"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"time"

	ics "github.com/arran4/golang-ical"
	"github.com/teambition/rrule-go"
)

// Busy is one busy span of a calendar, with the UID of the event it comes
// from (so the service's own calls can be told apart).
type Busy struct {
	Start, End time.Time
	UID        string
}

// Limits that keep one hostile or runaway calendar from eating the service.
const (
	// maxSteps bounds the occurrences walked per recurring event: a daily
	// event begun 30 years ago takes about 11,000.
	maxSteps = 50_000
	// maxBusy bounds the busy spans one calendar may yield.
	maxBusy = 100_000
)

// ErrTooManyEvents: a calendar yields more busy times than one host can
// plausibly have; it is refused rather than half read.
var ErrTooManyEvents = fmt.Errorf("the calendar has more than %d busy times in the booking horizon", maxBusy)

// Expand parses iCalendar data and returns the busy spans of its events
// that overlap [from, to), sorted by start. Recurring events are expanded
// by rrule-go (RRULE, RDATE, EXDATE), with RECURRENCE-ID overrides
// replacing the occurrence they name. Times with a TZID are read in that
// zone, UTC times as UTC, floating times and all-day dates in loc (the
// business zone; an all-day event blocks its whole dates there). Events
// that are TRANSP:TRANSPARENT or STATUS:CANCELLED are not busy. Only the
// properties that decide busy times are parsed.
func Expand(r io.Reader, from, to time.Time, loc *time.Location) ([]Busy, error) {
	cal, err := ics.ParseCalendar(onlyBusyProps(r))
	if errors.Is(err, errNotCalendar) || errors.Is(err, ErrTooLarge) {
		return nil, err
	}
	if err != nil {
		return nil, fmt.Errorf("not a readable calendar file: %w", err)
	}
	x := expander{from: from, to: to, loc: loc, zones: map[string]*time.Location{}}
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
	from, to time.Time
	loc      *time.Location
	zones    map[string]*time.Location
	out      []Busy
}

// blocks reports whether ev takes up time at all.
func blocks(ev *ics.VEvent) bool {
	if p := ev.GetProperty(ics.ComponentPropertyTransp); p != nil && strings.EqualFold(strings.TrimSpace(p.Value), "TRANSPARENT") {
		return false
	}
	if p := ev.GetProperty(ics.ComponentPropertyStatus); p != nil && strings.EqualFold(strings.TrimSpace(p.Value), "CANCELLED") {
		return false
	}
	return true
}

// series adds the busy spans of one UID: the master's occurrences, less
// those its overrides replace, plus the overrides themselves.
func (x *expander) series(uid string, master *ics.VEvent, overrides []*ics.VEvent) error {
	if master != nil && isCancelled(master) {
		return nil // the whole series is off
	}
	var replaced []time.Time
	for _, ov := range overrides {
		if t, _, err := x.timeOf(ov.GetProperty(ics.ComponentPropertyRecurrenceId)); err == nil {
			replaced = append(replaced, t)
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
	span := x.spanOf(master, start, allDay)
	rule := master.GetProperty(ics.ComponentPropertyRrule)
	if rule == nil && master.GetProperty(ics.ComponentPropertyRdate) == nil {
		x.add(uid, start, span)
		return x.check()
	}
	set := rrule.Set{}
	if rule != nil {
		opt, err := rrule.StrToROptionInLocation(rule.Value, start.Location())
		if err != nil {
			return nil // a rule we cannot read: keep the first occurrence only
		}
		opt.Dtstart = start
		rr, err := rrule.NewRRule(*opt)
		if err != nil {
			x.add(uid, start, span)
			return x.check()
		}
		set.RRule(rr)
	}
	set.RDate(start) // DTSTART is always an occurrence
	for _, t := range x.timeList(master, ics.ComponentPropertyRdate) {
		set.RDate(t)
	}
	for _, t := range x.timeList(master, ics.ComponentPropertyExdate) {
		set.ExDate(t)
	}
	for _, t := range replaced {
		set.ExDate(t)
	}
	next := set.Iterator()
	for steps := 0; steps < maxSteps; steps++ {
		t, ok := next()
		if !ok || !t.Before(x.to) {
			break
		}
		x.add(uid, t, span)
		if err := x.check(); err != nil {
			return err
		}
	}
	return nil
}

func isCancelled(ev *ics.VEvent) bool {
	p := ev.GetProperty(ics.ComponentPropertyStatus)
	return p != nil && strings.EqualFold(strings.TrimSpace(p.Value), "CANCELLED")
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
// absolute duration otherwise.
type span struct {
	days int
	d    time.Duration
}

func (x *expander) add(uid string, start time.Time, sp span) {
	end := start.Add(sp.d)
	if sp.days > 0 {
		end = start.AddDate(0, 0, sp.days)
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
			days := int(end.Sub(start).Hours()/24 + 0.5)
			return span{days: max(days, 1)}
		}
		return span{d: end.Sub(start)}
	}
	if p := ev.GetProperty(ics.ComponentPropertyDuration); p != nil {
		if d, days, err := parseDuration(p.Value); err == nil {
			if allDay && d == 0 {
				return span{days: max(days, 1)}
			}
			return span{d: d + time.Duration(days)*24*time.Hour}
		}
	}
	if allDay {
		return span{days: 1}
	}
	return span{}
}

var errNoTime = errors.New("no time")

// timeOf reads a DATE or DATE-TIME property: a date is midnight in the
// business zone (allDay), a time ending in Z is UTC, one with TZID is in
// that zone, and a floating time is in the business zone.
func (x *expander) timeOf(p *ics.IANAProperty) (time.Time, bool, error) {
	if p == nil {
		return time.Time{}, false, errNoTime
	}
	ts, allDay, err := x.parseValue(strings.TrimSpace(p.Value), p.ICalParameters)
	if err != nil || len(ts) == 0 {
		return time.Time{}, false, errNoTime
	}
	return ts[0], allDay, nil
}

// timeList reads every value of a list property (RDATE, EXDATE), which
// may repeat and may hold several comma-separated values.
func (x *expander) timeList(ev *ics.VEvent, name ics.ComponentProperty) []time.Time {
	var out []time.Time
	for _, p := range ev.Properties {
		if p.IANAToken != string(name) {
			continue
		}
		ts, _, err := x.parseValue(strings.TrimSpace(p.Value), p.ICalParameters)
		if err == nil {
			out = append(out, ts...)
		}
	}
	return out
}

func (x *expander) parseValue(v string, params map[string][]string) ([]time.Time, bool, error) {
	valueType := strings.ToUpper(param(params, "VALUE"))
	zone := x.loc
	if tzid := param(params, "TZID"); tzid != "" {
		zone = x.zone(tzid)
	}
	var out []time.Time
	allDay := false
	for _, item := range strings.Split(v, ",") {
		item, _, _ = strings.Cut(strings.TrimSpace(item), "/") // a PERIOD counts from its start
		var t time.Time
		var err error
		switch {
		case valueType == "DATE" || len(item) == 8:
			t, err = time.ParseInLocation("20060102", item, x.loc)
			allDay = true
		case strings.HasSuffix(item, "Z"):
			t, err = time.Parse("20060102T150405Z", item)
		default:
			t, err = time.ParseInLocation("20060102T150405", item, zone)
		}
		if err != nil {
			return nil, false, err
		}
		out = append(out, t)
	}
	return out, allDay, nil
}

func param(params map[string][]string, name string) string {
	for k, vs := range params {
		if strings.EqualFold(k, name) && len(vs) > 0 {
			return strings.Trim(vs[0], `"`)
		}
	}
	return ""
}

// zone resolves a TZID: an IANA name, one behind a prefix such as
// "/mozilla.org/20050126_1/", or a Windows name as Outlook writes them.
// One that cannot be resolved is read in the business zone.
func (x *expander) zone(tzid string) *time.Location {
	if z, ok := x.zones[tzid]; ok {
		return z
	}
	z := x.loc
	cands := []string{tzid}
	if w, ok := windowsZones[tzid]; ok {
		cands = append(cands, w)
	}
	if parts := strings.Split(strings.Trim(tzid, "/"), "/"); len(parts) >= 2 {
		cands = append(cands, strings.Join(parts[len(parts)-2:], "/"), strings.Join(parts[max(len(parts)-3, 0):], "/"))
	}
	for _, c := range cands {
		if l, err := time.LoadLocation(c); err == nil && c != "" && c != "Local" {
			z = l
			break
		}
	}
	x.zones[tzid] = z
	return z
}

// windowsZones maps the Windows zone names Outlook and Exchange write as
// TZID to IANA zones (the common ones, after CLDR's windowsZones.xml).
var windowsZones = map[string]string{
	"Eastern Standard Time":          "America/New_York",
	"Central Standard Time":          "America/Chicago",
	"Mountain Standard Time":         "America/Denver",
	"US Mountain Standard Time":      "America/Phoenix",
	"Pacific Standard Time":          "America/Los_Angeles",
	"Alaskan Standard Time":          "America/Anchorage",
	"Hawaiian Standard Time":         "Pacific/Honolulu",
	"Atlantic Standard Time":         "America/Halifax",
	"GMT Standard Time":              "Europe/London",
	"Greenwich Standard Time":        "Atlantic/Reykjavik",
	"W. Europe Standard Time":        "Europe/Berlin",
	"Romance Standard Time":          "Europe/Paris",
	"Central Europe Standard Time":   "Europe/Budapest",
	"Central European Standard Time": "Europe/Warsaw",
	"E. Europe Standard Time":        "Europe/Chisinau",
	"FLE Standard Time":              "Europe/Kiev",
	"GTB Standard Time":              "Europe/Bucharest",
	"Russian Standard Time":          "Europe/Moscow",
	"India Standard Time":            "Asia/Kolkata",
	"China Standard Time":            "Asia/Shanghai",
	"Tokyo Standard Time":            "Asia/Tokyo",
	"Singapore Standard Time":        "Asia/Singapore",
	"AUS Eastern Standard Time":      "Australia/Sydney",
	"New Zealand Standard Time":      "Pacific/Auckland",
	"E. South America Standard Time": "America/Sao_Paulo",
	"UTC":                            "UTC",
}

// parseDuration reads an RFC 5545 duration ("PT1H30M", "P1D", "P2W"):
// days and weeks apart, since a day is nominal.
func parseDuration(v string) (time.Duration, int, error) {
	v = strings.ToUpper(strings.TrimSpace(v))
	neg := strings.HasPrefix(v, "-")
	v = strings.TrimLeft(v, "+-")
	if !strings.HasPrefix(v, "P") {
		return 0, 0, errors.New("not a duration")
	}
	var d time.Duration
	days, num, inTime := 0, "", false
	for _, c := range v[1:] {
		switch {
		case c >= '0' && c <= '9':
			num += string(c)
			continue
		case c == 'T':
			inTime = true
			continue
		}
		n, err := strconv.Atoi(num)
		if err != nil {
			return 0, 0, errors.New("not a duration")
		}
		num = ""
		switch {
		case c == 'W' && !inTime:
			days += 7 * n
		case c == 'D' && !inTime:
			days += n
		case c == 'H' && inTime:
			d += time.Duration(n) * time.Hour
		case c == 'M' && inTime:
			d += time.Duration(n) * time.Minute
		case c == 'S' && inTime:
			d += time.Duration(n) * time.Second
		default:
			return 0, 0, errors.New("not a duration")
		}
	}
	if num != "" {
		return 0, 0, errors.New("not a duration")
	}
	if neg {
		return -d, -days, nil
	}
	return d, days, nil
}
