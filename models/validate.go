package models

import (
	"net/mail"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// NormalizeEmail is the key one lead is found by: trimmed and lower-cased.
func NormalizeEmail(s string) string { return strings.ToLower(strings.TrimSpace(s)) }

// ValidEmail reports whether s looks deliverable: one address, no display
// name, a dotted domain, no spaces or control characters.
func ValidEmail(s string) bool {
	if len(s) > 254 || strings.ContainsAny(s, " \t\r\n<>\"") {
		return false
	}
	a, err := mail.ParseAddress(s)
	if err != nil || a.Address != s {
		return false
	}
	at := strings.LastIndexByte(s, '@')
	if at < 1 {
		return false
	}
	domain := s[at+1:]
	if !strings.Contains(domain, ".") || strings.HasPrefix(domain, ".") || strings.HasSuffix(domain, ".") ||
		strings.Contains(domain, "..") {
		return false
	}
	tld := domain[strings.LastIndexByte(domain, '.')+1:]
	return len(tld) >= 2
}

// CheckText validates a one-line text field: trimmed length within
// [min, max] characters and no control characters (so nothing can break an
// email header). It records the problem in verr and returns the trimmed text.
func CheckText(verr *ValidationError, field, value string, min, max int) string {
	v := strings.TrimSpace(value)
	n := utf8.RuneCountInString(v)
	switch {
	case !utf8.ValidString(v):
		verr.Add(field, "must be valid UTF-8 text")
	case n < min && min == 1:
		verr.Add(field, "is required")
	case n < min:
		verr.Add(field, "is too short")
	case n > max:
		verr.Add(field, "must be at most "+strconv.Itoa(max)+" characters")
	case strings.IndexFunc(v, unicode.IsControl) >= 0:
		verr.Add(field, "must not contain line breaks or control characters")
	}
	return v
}

// CheckMultiline validates free text that may hold line breaks but no other
// control characters.
func CheckMultiline(verr *ValidationError, field, value string, max int) string {
	v := strings.TrimSpace(strings.ReplaceAll(value, "\r\n", "\n"))
	switch {
	case !utf8.ValidString(v):
		verr.Add(field, "must be valid UTF-8 text")
	case utf8.RuneCountInString(v) > max:
		verr.Add(field, "must be at most "+strconv.Itoa(max)+" characters")
	case strings.IndexFunc(v, func(r rune) bool { return unicode.IsControl(r) && r != '\n' && r != '\t' }) >= 0:
		verr.Add(field, "must not contain control characters")
	}
	return v
}
