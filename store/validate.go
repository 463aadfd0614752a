package store

import (
	"net/mail"
)

// addressOf returns the bare address of "Name <addr>", or "" when unparsable.
func addressOf(s string) string {
	a, err := mail.ParseAddress(s)
	if err != nil {
		return ""
	}
	return a.Address
}

// HashString returns the hex SHA-256 of s.
func HashString(s string) string { return hashToken(s) }
