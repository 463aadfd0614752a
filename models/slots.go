package models

import (
	"sort"
	"time"
)

// Slot is one bookable call time.
type Slot struct {
	Start, End time.Time
}

// Interval is a half-open span of time [Start, End).
type Interval struct{ Start, End time.Time }

// HostSchedule is everything the slot arithmetic needs to know of one host.
type HostSchedule struct {
	ID        uint
	Email     string // for routing a visitor's answers to named hosts
	Weekly    Weekly
	Overrides map[string][]Window // by business date, YYYY-MM-DD
	MaxPerDay int
	// Busy holds the host's claimed time, [call start, call end + buffer),
	// sorted by Start and not overlapping.
	Busy []Interval
	// PerDay counts confirmed calls by business date.
	PerDay map[string]int
	// MaxPerWeek caps the host's calls of all kinds per business week
	// (Monday to Sunday); PerWeek counts them by the week's Monday.
	MaxPerWeek int
	PerWeek    map[string]int
	// KindPerDay counts confirmed calls by kind and business date, keyed
	// KindDayKey(kind, date), for the kinds' own daily caps.
	KindPerDay map[string]int
}

// KindDayKey keys HostSchedule.KindPerDay.
func KindDayKey(kind, date string) string { return kind + "|" + date }

// WeekOf is the business date (YYYY-MM-DD) of the Monday of local's week.
func WeekOf(local time.Time) string {
	y, m, d := local.Date()
	day := time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
	back := (int(day.Weekday()) + 6) % 7
	return day.AddDate(0, 0, -back).Format(time.DateOnly)
}

// windowsOn returns the host's open windows on a business date.
func (h *HostSchedule) windowsOn(date string, wd time.Weekday) []Window {
	if ws, ok := h.Overrides[date]; ok {
		return ws
	}
	return h.Weekly[wd]
}

// free reports whether the host can take a call over [start, start+span).
func (h *HostSchedule) free(start time.Time, span time.Duration) bool {
	end := start.Add(span)
	i := sort.Search(len(h.Busy), func(i int) bool { return h.Busy[i].End.After(start) })
	return i == len(h.Busy) || !h.Busy[i].Start.Before(end)
}

// SlotRules are the shared settings plus the moment slots are computed for.
type SlotRules struct {
	Settings BookingSettings
	Loc      *time.Location // business time zone
	Now      time.Time
	Kind     CallRules // the kind of call's own rules; zero: the discovery call
}

// Earliest and Latest bound the offered starts by notice and horizon.
func (r SlotRules) Earliest() time.Time { return r.Now.Add(r.Settings.Notice()) }
func (r SlotRules) Latest() time.Time   { return r.Now.Add(r.Settings.Horizon()) }

// gridStarts calls fn with every slot start of one host's windows on a
// business date. Starts step by the kind's step (else the call length) from each window's start in
// absolute time, so a daylight-saving change never shifts "09:00 local" and
// never yields one instant twice.
func gridStarts(h *HostSchedule, day time.Time, rules SlotRules, fn func(start time.Time)) {
	date := day.Format(time.DateOnly)
	dur, step := rules.Settings.Duration(), rules.Step()
	for _, w := range h.windowsOn(date, day.Weekday()) {
		y, m, d := day.Date()
		ws := time.Date(y, m, d, w.Start/60, w.Start%60, 0, 0, rules.Loc)
		we := time.Date(y, m, d, w.End/60, w.End%60, 0, 0, rules.Loc)
		for t := ws; !t.Add(dur).After(we); t = t.Add(step) {
			fn(t)
		}
	}
}

// HostCanTake reports whether host h offers a call at start under rules.
func HostCanTake(h *HostSchedule, start time.Time, rules SlotRules) bool {
	if start.Before(rules.Earliest()) || start.After(rules.Latest()) {
		return false
	}
	date := start.In(rules.Loc).Format(time.DateOnly)
	if h.MaxPerDay > 0 && h.PerDay[date] >= h.MaxPerDay {
		return false
	}
	if k := rules.Kind; k.MaxPerDay > 0 && h.KindPerDay[KindDayKey(k.KindID, date)] >= k.MaxPerDay {
		return false
	}
	if h.MaxPerWeek > 0 && h.PerWeek[WeekOf(start.In(rules.Loc))] >= h.MaxPerWeek {
		return false
	}
	return h.free(start, rules.Settings.Duration()+rules.Settings.Buffer())
}

// OnGrid reports whether start is one of host h's slot starts. Windows end
// by 24:00, so a start always lies on its window's own business date.
func OnGrid(h *HostSchedule, start time.Time, rules SlotRules) bool {
	y, m, d := start.In(rules.Loc).Date()
	found := false
	gridStarts(h, time.Date(y, m, d, 0, 0, 0, 0, rules.Loc), rules, func(t time.Time) {
		found = found || t.Equal(start)
	})
	return found
}

// ComputeSlots lists every start in [from, to) at which at least one host is
// free (with rules.Collective: every host), in time order, each once.
func ComputeSlots(hosts []*HostSchedule, from, to time.Time, rules SlotRules) []Slot {
	lo, hi := from, to
	if e := rules.Earliest(); e.After(lo) {
		lo = e
	}
	if l := rules.Latest(); l.Before(hi) {
		hi = l.Add(time.Nanosecond)
	}
	if !lo.Before(hi) {
		return []Slot{}
	}
	dur := rules.Settings.Duration()
	seen := map[int64]bool{}
	var out []Slot
	// Business dates that can hold a start in [lo, hi): one either side of
	// the local dates, because zones differ by up to a day.
	first := lo.In(rules.Loc).AddDate(0, 0, -1)
	last := hi.In(rules.Loc).AddDate(0, 0, 1)
	y, m, d := first.Date()
	for day := time.Date(y, m, d, 0, 0, 0, 0, rules.Loc); !day.After(last); day = day.AddDate(0, 0, 1) {
		if rules.Kind.Collective {
			out = appendCollective(out, hosts, day, lo, hi, rules)
			continue
		}
		for _, h := range hosts {
			gridStarts(h, day, rules, func(t time.Time) {
				if t.Before(lo) || !t.Before(hi) || seen[t.Unix()] {
					return
				}
				if HostCanTake(h, t, rules) {
					seen[t.Unix()] = true
					out = append(out, Slot{Start: t, End: t.Add(dur)})
				}
			})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Start.Before(out[j].Start) })
	if out == nil {
		out = []Slot{}
	}
	return out
}

// appendCollective appends the starts of one business day in [lo, hi) at
// which every host can take the call.
func appendCollective(out []Slot, hosts []*HostSchedule, day, lo, hi time.Time, rules SlotRules) []Slot {
	if len(hosts) == 0 {
		return out
	}
	free := map[int64]int{}
	for _, h := range hosts {
		gridStarts(h, day, rules, func(t time.Time) {
			if !t.Before(lo) && t.Before(hi) && HostCanTake(h, t, rules) {
				free[t.Unix()]++
			}
		})
	}
	gridStarts(hosts[0], day, rules, func(t time.Time) {
		if free[t.Unix()] == len(hosts) {
			free[t.Unix()] = 0 // each start once
			out = append(out, Slot{Start: t, End: t.Add(rules.Settings.Duration())})
		}
	})
	return out
}
