package calendars

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	ics "github.com/arran4/golang-ical"
)

// A VTIMEZONE block defines a zone inside the file itself, as Outlook does
// for a "Customized Time Zone" whose TZID names no zone anywhere else. The
// iCalendar libraries in use parse the block but resolve TZIDs only by
// name (time.LoadLocation), so fileZones turns each block into a
// *time.Location of its own: its observances' onsets, expanded around the
// window, become the transitions of a TZif description, which the time
// package loads like any zone on disk.

// zoneMargin is how far before the window a file's zone has its
// transitions: enough for an event that starts before the window and
// lasts into it, with a year to spare.
const zoneMargin = 2 * 366 * 24 * time.Hour

// fileZones reads the calendar's VTIMEZONE blocks into zones by TZID,
// with transitions from before from until a year after to. A block that
// cannot be read is left out (its TZID is then resolved by name).
func fileZones(cal *ics.Calendar, from, to time.Time, budget *int) map[string]*time.Location {
	out := map[string]*time.Location{}
	for _, tz := range cal.Timezones() {
		p := tz.GetProperty(ics.ComponentPropertyTzid)
		if p == nil || strings.TrimSpace(p.Value) == "" {
			continue
		}
		tzid := strings.TrimSpace(p.Value)
		if loc, err := fileZone(tzid, tz, from.Add(-zoneMargin), to.AddDate(1, 0, 0), budget); err == nil {
			out[tzid] = loc
		}
	}
	return out
}

// transition is one onset of an observance: from when (UTC) the clock
// reads offset seconds ahead of UTC.
type transition struct {
	when   time.Time
	offset int
	dst    bool
	from   int // the offset before it
}

// Bounds on one file zone: transitions, and distinct offsets (TZif
// numbers them in one byte).
const (
	maxTransitions = 10_000
	maxZoneTypes   = 200
)

func fileZone(tzid string, tz *ics.VTimezone, from, to time.Time, budget *int) (*time.Location, error) {
	var trans []transition
	for _, c := range tz.Components {
		var props *ics.ComponentBase
		dst := false
		switch o := c.(type) {
		case *ics.Standard:
			props = &o.ComponentBase
		case *ics.Daylight:
			props, dst = &o.ComponentBase, true
		default:
			continue
		}
		onsets, offFrom, offTo, err := observance(props, from, to, budget)
		if err != nil {
			return nil, err
		}
		for _, wall := range onsets {
			// An onset is written on the clock that was in force before it.
			trans = append(trans, transition{when: wall.Add(-time.Duration(offFrom) * time.Second), offset: offTo, dst: dst, from: offFrom})
		}
		if len(trans) > maxTransitions {
			return nil, fmt.Errorf("time zone %q changes too often", tzid)
		}
	}
	if len(trans) == 0 {
		return nil, fmt.Errorf("time zone %q has no observances", tzid)
	}
	sort.SliceStable(trans, func(i, j int) bool { return trans[i].when.Before(trans[j].when) })
	// Before its first onset, the zone keeps the offset that onset
	// changes from.
	before := transition{offset: trans[0].from}
	data, err := tzif(before, trans)
	if err != nil {
		return nil, fmt.Errorf("time zone %q: %w", tzid, err)
	}
	return time.LoadLocationFromTZData(tzid, data)
}

// observance reads one STANDARD or DAYLIGHT block: the wall-clock times
// of its onsets between from and to (DTSTART, RDATEs and its RRULE's
// occurrences), and its TZOFFSETFROM and TZOFFSETTO.
func observance(c *ics.ComponentBase, from, to time.Time, budget *int) (onsets []time.Time, offFrom, offTo int, err error) {
	if offFrom, err = utcOffset(c.GetProperty(ics.ComponentProperty(ics.PropertyTzoffsetfrom))); err != nil {
		return nil, 0, 0, err
	}
	if offTo, err = utcOffset(c.GetProperty(ics.ComponentProperty(ics.PropertyTzoffsetto))); err != nil {
		return nil, 0, 0, err
	}
	p := c.GetProperty(ics.ComponentPropertyDtStart)
	if p == nil {
		return nil, 0, 0, fmt.Errorf("observance without DTSTART")
	}
	// Onsets are local times, read here as if on a UTC clock.
	start, err := time.Parse("20060102T150405", strings.TrimSpace(p.Value))
	if err != nil {
		return nil, 0, 0, err
	}
	onsets = append(onsets, start)
	for _, prop := range c.Properties {
		switch prop.IANAToken {
		case string(ics.ComponentPropertyRdate):
			for _, v := range strings.Split(prop.Value, ",") {
				v, _, _ = strings.Cut(strings.TrimSpace(v), "/")
				if t, err := time.Parse("20060102T150405", strings.TrimSuffix(v, "Z")); err == nil {
					onsets = append(onsets, t)
				}
			}
		case string(ics.ComponentPropertyRrule):
			ts, err := occurrences(prop.Value, start, 0, from, to, budget)
			if err != nil {
				return nil, 0, 0, err
			}
			onsets = append(onsets, ts...)
		}
	}
	return onsets, offFrom, offTo, nil
}

// utcOffset reads a UTC-OFFSET value (+0530, -0800, +013045) in seconds.
func utcOffset(p *ics.IANAProperty) (int, error) {
	if p == nil {
		return 0, fmt.Errorf("missing UTC offset")
	}
	v := strings.TrimSpace(p.Value)
	if (len(v) != 5 && len(v) != 7) || (v[0] != '+' && v[0] != '-') {
		return 0, fmt.Errorf("bad UTC offset")
	}
	n := 0
	for i, unit := range []int{3600, 60, 1} {
		if 1+2*i+2 > len(v) {
			break
		}
		d, err := strconv.Atoi(v[1+2*i : 3+2*i])
		if err != nil || d < 0 {
			return 0, fmt.Errorf("bad UTC offset")
		}
		n += d * unit
	}
	if n >= 24*3600 {
		return 0, fmt.Errorf("bad UTC offset")
	}
	if v[0] == '-' {
		n = -n
	}
	return n, nil
}

// tzif writes a zone as TZif version 2 data (RFC 8536): an empty version 1
// block, then the transitions with 64-bit times, and no rule for after the
// last one (the window is covered by the transitions). Local time type 0
// is before, which no transition names, so the time package uses it for
// times before the first transition.
func tzif(before transition, trans []transition) ([]byte, error) {
	type ttype struct {
		offset int
		dst    bool
	}
	types := []ttype{{before.offset, before.dst}}
	index := map[ttype]int{}
	idx := make([]byte, len(trans))
	for i, t := range trans {
		k := ttype{t.offset, t.dst}
		n, ok := index[k]
		if !ok {
			n = len(types)
			if n == maxZoneTypes {
				return nil, fmt.Errorf("more than %d offsets", maxZoneTypes)
			}
			types = append(types, k)
			index[k] = n
		}
		idx[i] = byte(n)
	}
	var b bytes.Buffer
	header := func(timecnt, typecnt, charcnt int) {
		b.WriteString("TZif2")
		b.Write(make([]byte, 15))
		for _, n := range []int{0, 0, 0, timecnt, typecnt, charcnt} {
			binary.Write(&b, binary.BigEndian, uint32(n))
		}
	}
	// Version 1 block: one type (type 0), no transitions.
	header(0, 1, 1)
	binary.Write(&b, binary.BigEndian, int32(before.offset))
	b.Write([]byte{boolByte(before.dst), 0, 0})
	// Version 2 block. Every type shares one empty abbreviation.
	header(len(trans), len(types), 1)
	for _, t := range trans {
		binary.Write(&b, binary.BigEndian, t.when.Unix())
	}
	b.Write(idx)
	for _, t := range types {
		binary.Write(&b, binary.BigEndian, int32(t.offset))
		b.Write([]byte{boolByte(t.dst), 0})
	}
	b.WriteByte(0) // the abbreviation
	b.WriteString("\n\n")
	return b.Bytes(), nil
}

func boolByte(v bool) byte {
	if v {
		return 1
	}
	return 0
}
