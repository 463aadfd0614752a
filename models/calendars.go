package models

import (
	"errors"
	"net/url"
	"strings"
	"time"
)

// MaxCalendarSources bounds the calendars one host may have read.
const MaxCalendarSources = 10

// CalendarSourceInput is one source as an admin writes it. Kind defaults to
// CalendarICS. Username and password, both empty, keep the credentials the
// same source (same kind and URL) already has.
type CalendarSourceInput struct {
	Kind     string `json:"kind"`
	URL      string `json:"url"`
	Username string `json:"username"`
	Password string `json:"password"`
}

// CalendarSourceView is a source as staff see it: its state, never its
// credentials.
type CalendarSourceView struct {
	ID             uint       `json:"id"`
	Kind           string     `json:"kind"`
	URL            string     `json:"url"`
	LastSyncedAt   *time.Time `json:"last_synced_at"`
	LastError      *string    `json:"last_error"`
	BusyCount      int        `json:"busy_count"`
	HasCredentials bool       `json:"has_credentials"`
}

// CalendarToRead is a source with its credentials opened, for the reader
// only. OpenErr is set when they could not be opened.
type CalendarToRead struct {
	ID, HostID         uint
	Kind, URL          string
	Username, Password string
	OpenErr            error
}

// NormalizeCalendarURL checks a calendar's address: http or https (webcal
// becomes https, as calendar apps treat it), with a host and without a user
// name or password in it.
func NormalizeCalendarURL(raw string) (string, error) {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return "", errors.New("is required")
	}
	if len(raw) > 2048 {
		return "", errors.New("is longer than 2048 characters")
	}
	u, err := url.Parse(raw)
	if err != nil {
		return "", errors.New("is not a URL")
	}
	switch strings.ToLower(u.Scheme) {
	case "http", "https":
	case "webcal", "webcals":
		u.Scheme = "https"
	default:
		return "", errors.New("must start with https:// (or http://)")
	}
	if u.Host == "" {
		return "", errors.New("must name a server")
	}
	if u.User != nil {
		return "", errors.New("must not hold a user name or password: use the username and password fields")
	}
	u.Fragment = ""
	return u.String(), nil
}
