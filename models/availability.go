package models

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"
)

// ClaimUnit is the grain of host time: every call length, buffer and window
// edge is a multiple of it, so claims of whole units never under-reserve.
const ClaimUnit = 5 * time.Minute

// BookingSettings are shared by all hosts.
type BookingSettings struct {
	DurationMinutes  int `json:"duration_minutes"`
	BufferMinutes    int `json:"buffer_minutes"`
	MinNoticeMinutes int `json:"min_notice_minutes"`
	HorizonDays      int `json:"horizon_days"`
}

// MaxHorizonDays is the furthest ahead calls can ever be offered.
const MaxHorizonDays = 365

// DefaultBookingSettings are the contract's defaults.
var DefaultBookingSettings = BookingSettings{DurationMinutes: 30, BufferMinutes: 0, MinNoticeMinutes: 240, HorizonDays: 30}

// Duration is the call length.
func (b BookingSettings) Duration() time.Duration {
	return time.Duration(b.DurationMinutes) * time.Minute
}

// Buffer is the gap kept free after (and so before) each call.
func (b BookingSettings) Buffer() time.Duration { return time.Duration(b.BufferMinutes) * time.Minute }

// Notice is the minimum time between booking and call.
func (b BookingSettings) Notice() time.Duration {
	return time.Duration(b.MinNoticeMinutes) * time.Minute
}

// Horizon is how far ahead calls can be booked.
func (b BookingSettings) Horizon() time.Duration {
	return time.Duration(b.HorizonDays) * 24 * time.Hour
}

// Window is an open interval of a day, in minutes after local midnight.
type Window struct{ Start, End int }

// Weekly is a host's open windows per weekday (index time.Weekday).
type Weekly [7][]Window

var dayKeys = [7]string{"sun", "mon", "tue", "wed", "thu", "fri", "sat"}

// DefaultWeekly is Monday to Friday, 09:00 to 17:00.
func DefaultWeekly() Weekly {
	var w Weekly
	for d := time.Monday; d <= time.Friday; d++ {
		w[d] = []Window{{9 * 60, 17 * 60}}
	}
	return w
}

// HoursJSON is the contract's wire form of windows: [["09:00","17:00"], …].
type HoursJSON [][2]string

// AvailabilityConfig is one host's availability plus the shared settings,
// exactly as GET/PUT /api/v1/admin/availability carry it.
type AvailabilityConfig struct {
	HostID uint `json:"host_id"`
	BookingSettings
	MaxPerDay int `json:"max_per_day"`
	// The host's share of calls (see the host choice): weight 1–100,
	// priority 0–3, weekly cap (0: none). Saving without one keeps it.
	Weight     *int                 `json:"weight"`
	Priority   *int                 `json:"priority"`
	MaxPerWeek *int                 `json:"max_per_week"`
	Weekly     map[string]HoursJSON `json:"weekly"`
	Overrides  []OverrideJSON       `json:"overrides"`
	// Meeting is where the host's calls happen: its own place, or the
	// default one. Saving without it leaves the host's place as it is.
	Meeting *Meeting `json:"meeting"`
	// MeetingIsDefault is true when the host has no meeting place of its
	// own and Meeting is the default one.
	MeetingIsDefault bool `json:"-"`
}

// OverrideJSON replaces the weekly hours on one date; no hours closes it.
type OverrideJSON struct {
	Date  string    `json:"date"`
	Hours HoursJSON `json:"hours"`
}

func formatHM(m int) string { return fmt.Sprintf("%02d:%02d", m/60, m%60) }

func parseHM(s string) (int, bool) {
	if len(s) != 5 || s[2] != ':' {
		return 0, false
	}
	h, err1 := strconv.Atoi(s[:2])
	m, err2 := strconv.Atoi(s[3:])
	if err1 != nil || err2 != nil || h < 0 || m < 0 || m > 59 || h > 24 || (h == 24 && m != 0) {
		return 0, false
	}
	return h*60 + m, true
}

// ToHours turns windows into their wire form.
func ToHours(ws []Window) HoursJSON {
	out := HoursJSON{}
	for _, w := range ws {
		out = append(out, [2]string{formatHM(w.Start), formatHM(w.End)})
	}
	return out
}

// ParseHours validates a list of windows: HH:MM on a 5-minute boundary, end
// after start, no overlaps. field names the input for error messages.
func ParseHours(field string, h HoursJSON, verr *ValidationError) []Window {
	out := make([]Window, 0, len(h))
	for i, pair := range h {
		f := fmt.Sprintf("%s[%d]", field, i)
		a, ok1 := parseHM(pair[0])
		b, ok2 := parseHM(pair[1])
		switch {
		case !ok1 || !ok2:
			verr.Add(f, "times must be HH:MM, from 00:00 to 24:00")
			continue
		case a%5 != 0 || b%5 != 0:
			verr.Add(f, "times must fall on a 5-minute boundary")
			continue
		case b <= a:
			verr.Add(f, "end must be after start")
			continue
		}
		out = append(out, Window{a, b})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Start < out[j].Start })
	for i := 1; i < len(out); i++ {
		if out[i].Start < out[i-1].End {
			verr.Add(field, fmt.Sprintf("windows overlap (%s–%s and %s–%s)",
				formatHM(out[i-1].Start), formatHM(out[i-1].End), formatHM(out[i].Start), formatHM(out[i].End)))
		}
	}
	return out
}

func (w Weekly) ToJSON() map[string]HoursJSON {
	out := map[string]HoursJSON{}
	for d, ws := range w {
		if len(ws) > 0 {
			out[dayKeys[d]] = ToHours(ws)
		}
	}
	return out
}

func WeeklyFromJSON(m map[string]HoursJSON, verr *ValidationError) Weekly {
	var w Weekly
	for k, h := range m {
		idx := -1
		for i, dk := range dayKeys {
			if dk == strings.ToLower(k) {
				idx = i
			}
		}
		if idx < 0 {
			verr.Add("weekly."+k, "not a day: use mon, tue, wed, thu, fri, sat or sun")
			continue
		}
		w[idx] = ParseHours("weekly."+k, h, verr)
	}
	return w
}

// DefaultHostName is the host created when none exists.
const DefaultHostName = "Discovery team"
