package models

import (
	"slices"
	"testing"
)

func TestParseSSODomains(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []string
		ok   bool
	}{
		{"", nil, true},
		{"Example.COM, staff.example.org ,", []string{"example.com", "staff.example.org"}, true},
		{"@example.com", nil, false},
		{"example", nil, false},
		{"exa mple.com", nil, false},
	} {
		got, err := ParseSSODomains(tc.in)
		if (err == nil) != tc.ok || !slices.Equal(got, tc.want) {
			t.Errorf("ParseSSODomains(%q) = %q, %v; want %q, ok %v", tc.in, got, err, tc.want, tc.ok)
		}
	}
}

func TestEmailInDomains(t *testing.T) {
	domains := []string{"example.com"}
	for email, want := range map[string]bool{
		"ana@example.com":      true,
		"Ana@EXAMPLE.com":      true,
		"ana@evil.example.com": false,
		"ana@example.com.evil": false,
		"ana@example.org":      false,
		"example.com":          false,
	} {
		if got := EmailInDomains(email, domains); got != want {
			t.Errorf("EmailInDomains(%q) = %v, want %v", email, got, want)
		}
	}
}
