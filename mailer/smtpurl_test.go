package mailer_test

import (
	"strings"
	"testing"

	"github.com/callbook/callbook/mailer"
)

func TestParseSMTPURL(t *testing.T) {
	tests := []struct {
		raw  string
		want mailer.SMTPConfig
	}{
		{"", mailer.SMTPConfig{}},
		{"smtp://mail.example.com:587", mailer.SMTPConfig{Host: "mail.example.com", Port: 587, TLS: mailer.TLSOpportunistic}},
		{"smtp://mail.example.com", mailer.SMTPConfig{Host: "mail.example.com", Port: 25, TLS: mailer.TLSOpportunistic}},
		{"smtp://ann:p%40ss%3Aw@mail.example.com:587?tls=required",
			mailer.SMTPConfig{Host: "mail.example.com", Port: 587, Username: "ann", Password: "p@ss:w", TLS: mailer.TLSRequired}},
		{"smtps://ann:pw@mail.example.com", mailer.SMTPConfig{Host: "mail.example.com", Port: 465, Username: "ann", Password: "pw", TLS: mailer.TLSImplicit}},
		{"smtps://[::1]:2465", mailer.SMTPConfig{Host: "::1", Port: 2465, TLS: mailer.TLSImplicit}},
	}
	for _, tt := range tests {
		got, err := mailer.ParseSMTPURL(tt.raw)
		if err != nil || got != tt.want {
			t.Errorf("ParseSMTPURL(%q) = %+v, %v; want %+v", tt.raw, got, err, tt.want)
		}
		if got.Configured() != (tt.raw != "") {
			t.Errorf("ParseSMTPURL(%q).Configured() = %v", tt.raw, got.Configured())
		}
	}
}

func TestParseSMTPURL_ErrorsSayWhatIsWrong(t *testing.T) {
	tests := []struct{ raw, says string }{
		{"http://mail.example.com", "scheme"},
		{"mail.example.com:25", "scheme"},
		{"smtp://:25", "no host"},
		{"smtp://mail.example.com:99999", "port"},
		{"smtp://mail.example.com:abc", "URL"},
		{"smtp://ann@mail.example.com", "no password"},
		{"smtp://:pw@mail.example.com", "without a user"},
		{"smtp://mail.example.com?tls=maybe", "tls=required"},
		{"smtps://mail.example.com?tls=required", "smtps"},
		{"smtp://mail.example.com?insecure_skip_verify=true", "unknown parameter"},
		{"smtp://mail.example.com/inbox", "path"},
	}
	for _, tt := range tests {
		_, err := mailer.ParseSMTPURL(tt.raw)
		if err == nil || !strings.Contains(err.Error(), tt.says) {
			t.Errorf("ParseSMTPURL(%q) error = %v, want one mentioning %q", tt.raw, err, tt.says)
		}
	}
}

func TestSMTPConfig_StringHidesThePassword(t *testing.T) {
	cfg, err := mailer.ParseSMTPURL("smtp://ann:topsecret@mail.example.com:587")
	if err != nil {
		t.Fatal(err)
	}
	if s := cfg.String(); strings.Contains(s, "topsecret") || !strings.Contains(s, "mail.example.com:587") {
		t.Fatalf("String() = %q", s)
	}
}
