package calendars

import (
	"errors"
	"strconv"
	"strings"
	"time"

	ics "github.com/arran4/golang-ical"
)

var errNoTime = errors.New("no time")

// timeOf reads a DATE or DATE-TIME property: a date is midnight in the
// business zone (allDay), a time ending in Z is UTC, one with TZID is in
// that zone, and a floating time is in the business zone.
func (x *expander) timeOf(p *ics.IANAProperty) (time.Time, bool, error) {
	if p == nil {
		return time.Time{}, false, errNoTime
	}
	// A list or a PERIOD counts from its first start.
	first, _, _ := strings.Cut(strings.TrimSpace(p.Value), ",")
	first, _, _ = strings.Cut(first, "/")
	t, allDay, err := x.parseOne(first, p.ICalParameters)
	if err != nil {
		return time.Time{}, false, errNoTime
	}
	return t, allDay, nil
}

// occurrence is one value of RDATE or EXDATE: a start, and for a PERIOD
// its own span.
type occurrence struct {
	start time.Time
	span  *span
}

// periods reads every value of a list property (RDATE, EXDATE), which
// may repeat and may hold several comma-separated dates, times or periods
// (start/end or start/duration). Values that cannot be read are left out.
func (x *expander) periods(ev *ics.VEvent, name ics.ComponentProperty) []occurrence {
	var out []occurrence
	for _, p := range ev.Properties {
		if p.IANAToken != string(name) {
			continue
		}
		for _, item := range strings.Split(strings.TrimSpace(p.Value), ",") {
			first, second, isPeriod := strings.Cut(strings.TrimSpace(item), "/")
			start, _, err := x.parseOne(first, p.ICalParameters)
			if err != nil {
				continue
			}
			o := occurrence{start: start}
			if isPeriod {
				if d, days, err := parseDuration(second); err == nil {
					o.span = &span{d: d + time.Duration(days)*24*time.Hour}
				} else if end, _, err := x.parseOne(second, p.ICalParameters); err == nil {
					o.span = &span{d: end.Sub(start)}
				} else {
					continue
				}
			}
			out = append(out, o)
		}
	}
	return out
}

// parseOne reads one DATE or DATE-TIME: a date is midnight in the
// business zone (allDay), a time ending in Z is UTC, one with TZID is in
// that zone, and a floating time is in the business zone.
func (x *expander) parseOne(item string, params map[string][]string) (time.Time, bool, error) {
	item = strings.TrimSpace(item)
	switch {
	case strings.EqualFold(param(params, "VALUE"), "DATE") || len(item) == 8:
		t, err := time.ParseInLocation("20060102", item, x.loc)
		return t, true, err
	case strings.HasSuffix(item, "Z"):
		t, err := time.Parse("20060102T150405Z", item)
		return t, false, err
	}
	zone := x.loc
	if tzid := param(params, "TZID"); tzid != "" {
		zone = x.zone(tzid)
	}
	t, err := time.ParseInLocation("20060102T150405", item, zone)
	return t, false, err
}

func param(params map[string][]string, name string) string {
	for k, vs := range params {
		if strings.EqualFold(k, name) && len(vs) > 0 {
			return strings.Trim(vs[0], `"`)
		}
	}
	return ""
}

// zone resolves a TZID: an IANA name, the file's own VTIMEZONE of that
// TZID (as Outlook writes for a customized zone), a Windows name as
// Outlook writes them, or an IANA name behind a prefix such as
// "/mozilla.org/20050126_1/". One that cannot be resolved is read in the
// business zone.
func (x *expander) zone(tzid string) *time.Location {
	if z, ok := x.zones[tzid]; ok {
		return z
	}
	if tzid != "" && tzid != "Local" {
		if l, err := time.LoadLocation(tzid); err == nil {
			x.zones[tzid] = l
			return l
		}
	}
	if z, ok := x.fileZones[tzid]; ok {
		x.zones[tzid] = z
		return z
	}
	z := x.loc
	var cands []string
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
