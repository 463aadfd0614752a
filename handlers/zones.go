package handlers

import (
	"sort"
	"strings"
	"time"
)

// commonZones are offered in the time-zone selector; the visitor's own
// zone is always added.
var commonZones = []string{
	"Pacific/Honolulu", "America/Anchorage", "America/Los_Angeles", "America/Phoenix", "America/Denver",
	"America/Chicago", "America/New_York", "America/Toronto", "America/Halifax", "America/St_Johns",
	"America/Mexico_City", "America/Bogota", "America/Lima", "America/Sao_Paulo", "America/Argentina/Buenos_Aires",
	"Atlantic/Reykjavik", "Europe/London", "Europe/Dublin", "Europe/Lisbon", "Europe/Paris", "Europe/Berlin",
	"Europe/Madrid", "Europe/Rome", "Europe/Amsterdam", "Europe/Stockholm", "Europe/Warsaw", "Europe/Athens",
	"Europe/Helsinki", "Europe/Istanbul", "Europe/Kyiv", "Europe/Moscow", "Africa/Lagos", "Africa/Cairo",
	"Africa/Johannesburg", "Africa/Nairobi", "Asia/Dubai", "Asia/Tehran", "Asia/Karachi", "Asia/Kolkata",
	"Asia/Kathmandu", "Asia/Dhaka", "Asia/Bangkok", "Asia/Jakarta", "Asia/Singapore", "Asia/Shanghai",
	"Asia/Hong_Kong", "Asia/Manila", "Asia/Seoul", "Asia/Tokyo", "Australia/Perth", "Australia/Adelaide",
	"Australia/Brisbane", "Australia/Sydney", "Pacific/Auckland", "UTC",
}

// zoneChoices returns the selector's zones, including current.
func zoneChoices(current string) []string {
	out := append([]string(nil), commonZones...)
	for _, z := range out {
		if z == current {
			return out
		}
	}
	out = append(out, current)
	sort.Strings(out)
	return out
}

// zoneLabel is a zone's IANA name as people read it: "America/New York".
func zoneLabel(name string) string { return strings.ReplaceAll(name, "_", " ") }

// zoneAt names a zone with the abbreviation in force at t:
// "Europe/Berlin (CET)", but "UTC" rather than "UTC (UTC)".
func zoneAt(name string, t time.Time) string {
	abbr, _ := t.Zone()
	label := zoneLabel(name)
	if abbr == "" || abbr == name || abbr == label {
		return label
	}
	return label + " (" + abbr + ")"
}
