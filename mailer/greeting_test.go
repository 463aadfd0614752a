package mailer_test

import (
	"regexp"
	"strings"
	"testing"

	"github.com/callbook/callbook/models"
)

func TestRender_VisitorEmailsBeginWithHelloNameThenACapitalizedSentence(t *testing.T) {
	r := mustRenderer(t)
	text := regexp.MustCompile(`^Hello Ada Lovelace,\n\n[A-Z]`)
	html := regexp.MustCompile(`<p[^>]*>Hello Ada Lovelace,</p>\s*<p[^>]*>[A-Z]`)
	for _, kind := range []string{models.MailConfirmation, models.MailReschedule, models.MailCancellation, "reminder-24h"} {
		out := mustRender(t, r, sampleMail(kind))
		if !text.MatchString(out.Text) {
			t.Errorf("%s text begins %q", kind, out.Text[:min(60, len(out.Text))])
		}
		if !html.MatchString(out.HTML) {
			t.Errorf("%s HTML lacks the greeting as its own paragraph before a capitalized sentence", kind)
		}
	}
}

func TestRender_CancellationOffersNoRescheduleOrCancel(t *testing.T) {
	r := mustRenderer(t)
	out := mustRender(t, r, sampleMail(models.MailCancellation))
	for name, body := range map[string]string{"text": out.Text, "HTML": out.HTML} {
		low := strings.ToLower(body)
		if strings.Contains(low, "reschedule") || strings.Contains(low, "or cancel") {
			t.Errorf("cancellation %s offers to reschedule or cancel:\n%s", name, body)
		}
		if !strings.Contains(body, testBase+"/bookings/tok-uid7") || !strings.Contains(body, testBase+"/roles/backend-engineer/book") {
			t.Errorf("cancellation %s lacks the booking page or the link to book again", name)
		}
	}
	// The confirmation still offers both.
	conf := mustRender(t, r, sampleMail(models.MailConfirmation))
	if !strings.Contains(conf.Text, "Reschedule or cancel") {
		t.Error("the confirmation no longer offers to reschedule or cancel")
	}
}
