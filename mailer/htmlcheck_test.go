package mailer_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/wneessen/go-mail"

	"github.com/callbook/callbook/mailer"
	"github.com/callbook/callbook/models"
	"github.com/callbook/callbook/store/storetest"
)

// minMailClientSupport is the share of the HTML's features, as Mailpit
// weighs them from caniemail.com's data, that every email's HTML must have
// supported across mail clients.
const minMailClientSupport = 95.0

// mailpitInstall is how to get the Mailpit this test runs.
const mailpitInstall = "go install github.com/axllent/mailpit@v1.33.1"

// mailpit is a Mailpit started for one test: its SMTP port and its API.
type mailpit struct {
	smtpPort int
	api      string
}

// startMailpit runs the Mailpit named by CALLBOOK_TEST_MAILPIT or found on PATH,
// and waits until its API answers. Without one the test is skipped, saying
// how to install it.
func startMailpit(t *testing.T) *mailpit {
	t.Helper()
	bin := os.Getenv("CALLBOOK_TEST_MAILPIT")
	if bin == "" {
		var err error
		if bin, err = exec.LookPath("mailpit"); err != nil {
			storetest.Missing(t, "Mailpit not found: set CALLBOOK_TEST_MAILPIT or put mailpit on PATH ("+mailpitInstall+")")
		}
	}
	smtpAddr, smtpPort := freeAddr(t)
	httpAddr, _ := freeAddr(t)
	cmd := exec.Command(bin, "--smtp", smtpAddr, "--listen", httpAddr,
		"--database", filepath.Join(t.TempDir(), "mailpit.db"), "--quiet")
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatalf("start Mailpit %s: %v", bin, err)
	}
	var waitErr error
	exited := make(chan struct{})
	go func() { waitErr = cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-exited
	})
	mp := &mailpit{smtpPort: smtpPort, api: "http://" + httpAddr}
	ready := time.NewTicker(20 * time.Millisecond)
	defer ready.Stop()
	deadline := time.After(time.Minute)
	for {
		if res, err := http.Get(mp.api + "/readyz"); err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return mp
			}
		}
		select {
		case <-exited:
			t.Fatalf("Mailpit exited: %v", waitErr)
		case <-deadline:
			t.Fatal("Mailpit did not answer /readyz within a minute")
		case <-ready.C:
		}
	}
}

// send delivers one message to Mailpit over SMTP, as the outbox does.
func (mp *mailpit) send(t *testing.T, subject, text, html string) {
	t.Helper()
	m := mail.NewMsg()
	if err := m.From("no-reply@callbook.test"); err != nil {
		t.Fatal(err)
	}
	if err := m.To("ada@example.com"); err != nil {
		t.Fatal(err)
	}
	m.Subject(subject)
	m.SetBodyString(mail.TypeTextPlain, text)
	m.AddAlternativeString(mail.TypeTextHTML, html)
	c, err := mail.NewClient("127.0.0.1", mail.WithPort(mp.smtpPort), mail.WithTLSPolicy(mail.NoTLS))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.DialAndSendWithContext(t.Context(), m); err != nil {
		t.Fatalf("send to Mailpit: %v", err)
	}
}

// get decodes one answer of Mailpit's API.
func (mp *mailpit) get(t *testing.T, path string, v any) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, mp.api+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("Mailpit GET %s: %s", path, res.Status)
	}
	if err := json.NewDecoder(res.Body).Decode(v); err != nil {
		t.Fatalf("Mailpit GET %s: %v", path, err)
	}
}

// htmlCheck is the part of Mailpit's HTML check this test reads.
type htmlCheck struct {
	Total struct {
		Nodes     int     `json:"Nodes"`
		Supported float64 `json:"Supported"`
	} `json:"Total"`
	Warnings []struct {
		Title string `json:"Title"`
		Score struct {
			Found       int     `json:"Found"`
			Partial     float64 `json:"Partial"`
			Unsupported float64 `json:"Unsupported"`
		} `json:"Score"`
	} `json:"Warnings"`
}

// checkOnly sends one email to an empty Mailpit and returns its HTML check.
func (mp *mailpit) checkOnly(t *testing.T, out mailer.Rendered) htmlCheck {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodDelete, mp.api+"/api/v1/messages", nil)
	if err != nil {
		t.Fatal(err)
	}
	if res, err := http.DefaultClient.Do(req); err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("empty Mailpit: %v %v", res, err)
	} else {
		res.Body.Close()
	}
	mp.send(t, out.Subject, out.Text, out.HTML)
	var list struct {
		Messages []struct {
			ID string `json:"ID"`
		} `json:"messages"`
	}
	mp.get(t, "/api/v1/messages", &list)
	if len(list.Messages) != 1 {
		t.Fatalf("Mailpit holds %d messages after one was sent", len(list.Messages))
	}
	var check htmlCheck
	mp.get(t, "/api/v1/message/"+list.Messages[0].ID+"/html-check", &check)
	return check
}

// everyEmail is one rendered email of each kind Callbook sends, with the
// optional parts filled in, so every template branch shows.
func everyEmail(t *testing.T) map[string]mailer.Rendered {
	r := mustRenderer(t)
	prev := time.Date(2026, 11, 30, 14, 0, 0, 0, time.UTC)
	out := map[string]mailer.Rendered{}
	for _, kind := range []string{models.MailConfirmation, models.MailReschedule, models.MailCancellation, "reminder-24h",
		models.MailHostChanged, models.MailHostNoShow} {
		out[kind] = mustRender(t, r, sampleMail(kind))
	}
	link := sampleMail(models.MailBookingLink)
	link.CallTitle, link.RebookToken = "Follow-up session", "link-token"
	out[models.MailBookingLink] = mustRender(t, r, link)
	followup := sampleMail(models.MailFollowupPrefix + "no-show")
	followup.FollowupSubject = "Sorry we missed you"
	followup.FollowupBody = "We missed you on the call.\n\nPick another time that suits you; your details are filled in."
	out["followup"] = mustRender(t, r, followup)
	for _, change := range []string{"booked", "rescheduled", "canceled"} {
		d := sampleMail(models.MailHostNotice)
		d.Change, d.PreviousStart, d.Reason = change, &prev, "Found a job already"
		out["host-notice "+change] = mustRender(t, r, d)
	}
	assigned := sampleMail(models.MailLeadAssigned)
	assigned.OwnerName, assigned.AssignedBy = "Sam Host", "Ann Admin"
	out[models.MailLeadAssigned] = mustRender(t, r, assigned)
	out[models.MailDigest] = mustRender(t, r, models.MailData{Kind: models.MailDigest, Digest: &models.DigestData{
		Date: "2026-12-01",
		TodayCalls: []models.DigestCall{
			{Start: time.Date(2026, 12, 1, 14, 0, 0, 0, time.UTC), LeadID: 3, Name: "Grace Hopper", TargetTitle: "SRE", HostName: "Sam"},
		},
		NewLeads: []models.DigestLead{{LeadID: 4, Name: "Alan Turing", TargetTitle: "ML Engineer", RoleSlug: "ml-engineer"}},
	}})
	return out
}

// TestMailpit_EveryEmailReadsInMostMailClients sends each kind of email to
// a real Mailpit and holds its HTML compatibility check, which weighs the
// HTML and CSS used against caniemail.com's data on mail clients, to at
// least minMailClientSupport percent.
func TestMailpit_EveryEmailReadsInMostMailClients(t *testing.T) {
	mp := startMailpit(t)
	for kind, out := range everyEmail(t) {
		check := mp.checkOnly(t, out)
		// Mailpit takes from 100% the largest share of partly and of not
		// supported features, each weighed by how often it occurs.
		worst := ""
		for i, w := range check.Warnings {
			if i == 6 {
				break
			}
			share := float64(w.Score.Found) / float64(max(check.Total.Nodes, 1))
			worst += fmt.Sprintf("\n  %s: %d of %d elements, costs %.1f points partly supported, %.1f not supported",
				w.Title, w.Score.Found, check.Total.Nodes, w.Score.Partial*share, w.Score.Unsupported*share)
		}
		if check.Total.Supported < minMailClientSupport {
			t.Errorf("%s: %.1f%% supported, want at least %s%%; the worst features:%s",
				kind, check.Total.Supported, strconv.FormatFloat(minMailClientSupport, 'f', -1, 64), worst)
		} else {
			t.Logf("%s: %.1f%% supported; the worst features:%s", kind, check.Total.Supported, worst)
		}
	}
}
