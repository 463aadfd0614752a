package models

import (
	"strings"
)

// ExportColumns are the CSV columns of docs/API.md, CSV export, in order: the
// contract's twenty (utm_* and referrer are the latest source), then the
// lead's first-touch source, the language of its latest booking and
// when they unsubscribed.
var ExportColumns = []string{
	"id", "created_at", "name", "email", "phone", "current_title", "target_title",
	"recommended_title", "role_slug", "status", "owner_email", "bookings_count", "next_call_at",
	"last_call_at", "utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content", "referrer",
	"first_utm_source", "first_utm_medium", "first_utm_campaign", "first_utm_term", "first_utm_content", "first_referrer",
	"language",
	// The kind of call (its id) of the lead's latest call not canceled.
	"call",
	// When the visitor unsubscribed from follow-up emails, or empty.
	"unsubscribed_at",
	// Always last: the latest answer to each role-page question, a JSON object.
	"answers",
}

// SafeCell neutralizes a cell a spreadsheet would run as a formula: one
// that begins with =, +, -, @, a tab or a carriage return gets a leading ',
// unless it is made only of digits, spaces and +-(). (a phone number such as
// "+1 312 555 0100"), which can call nothing and is kept as it is.
func SafeCell(v string) string {
	if v == "" {
		return v
	}
	switch v[0] {
	case '=', '+', '-', '@', '\t', '\r':
		if !phoneLike(v) {
			return "'" + v
		}
	}
	return v
}

// phoneLike reports whether v holds only digits, spaces and +-().
func phoneLike(v string) bool {
	for i := 0; i < len(v); i++ {
		c := v[i]
		if (c < '0' || c > '9') && !strings.ContainsRune(" +-().", rune(c)) {
			return false
		}
	}
	return true
}
