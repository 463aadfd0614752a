package handlers

import (
	"strings"
	"testing"
	"unicode"

	"github.com/callbook/callbook/web"
)

// FuzzBookingInput checks that validation never panics and that whatever it
// accepts is safe to put in an email header.
func FuzzBookingInput(f *testing.F) {
	content, err := LoadContent(web.Content())
	if err != nil {
		f.Fatal(err)
	}
	f.Add("Ada Lovelace", "ada@example.com", "Backend Engineer", "2026-12-01T14:00:00Z", "Europe/Berlin", "+1 555 0100")
	f.Add("A\r\nBcc: x@y.z", "a@b.c\n", "\x00", "2026-13-01T00:00:00Z", "../../etc/passwd", "☎")
	f.Add("Ωμέγα 名前", "x@例え.jp", "Инженер", "2026-12-01T14:00:00+01:00", "Asia/Kathmandu", "")
	f.Fuzz(func(t *testing.T, name, email, title, start, tz, phone string) {
		in := bookingInput{Name: name, Email: email, TargetTitle: title, Start: start, Timezone: tz, Phone: phone, Consent: true}
		req, err := in.validate(content, &zoneCache{})
		if err != nil {
			return
		}
		for _, v := range []string{req.Name, req.Email, req.TargetTitle, req.Phone, req.Timezone} {
			if strings.IndexFunc(v, unicode.IsControl) >= 0 {
				t.Fatalf("accepted a control character in %q", v)
			}
		}
		if req.Name == "" || req.TargetTitle == "" || req.Start.IsZero() {
			t.Fatalf("accepted an empty required field: %+v", req)
		}
	})
}
