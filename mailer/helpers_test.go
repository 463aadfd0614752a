package mailer_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/callbook/callbook/mailer"
	"github.com/callbook/callbook/models"
	"github.com/callbook/callbook/store"
	"github.com/callbook/callbook/store/storetest"
)

// t0 is Monday 30 November 2026, 07:00 in New York: slots open at 09:00
// plus four hours' notice.
var t0 = time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)

func openStore(t testing.TB, dialect string) (*store.Store, *storetest.Clock) {
	t.Helper()
	clock := storetest.NewClock(t0)
	return storetest.MustOpen(t, dialect, storetest.Options(clock)), clock
}

// testOutbox is an Outbox on s's clock, sending to smtpURL ("" for none).
type testOutbox struct {
	*mailer.Outbox
	Reg *prometheus.Registry
	Log *bytes.Buffer
}

func mustOutbox(t testing.TB, s *store.Store, clock *storetest.Clock, smtpURL string, tune func(*mailer.Options)) testOutbox {
	t.Helper()
	cfg, err := mailer.ParseSMTPURL(smtpURL)
	if err != nil {
		t.Fatalf("smtp url %q: %v", smtpURL, err)
	}
	var logs bytes.Buffer
	reg := prometheus.NewRegistry()
	opts := mailer.Options{
		Store: s, SMTP: cfg, From: "Callbook <no-reply@callbook.test>", BaseURL: "https://book.example.com",
		Log: slog.New(slog.NewTextHandler(&logs, nil)), Registerer: reg, Now: clock.Now,
		Timeout: 5 * time.Second,
	}
	if tune != nil {
		tune(&opts)
	}
	o, err := mailer.New(opts)
	if err != nil {
		t.Fatalf("new outbox: %v", err)
	}
	return testOutbox{Outbox: o, Reg: reg, Log: &logs}
}

// trusting makes the outbox trust the test server's certificate, the way
// production trusts the system roots: verification stays on.
func trusting(pool *x509.CertPool) func(*mailer.Options) {
	return func(o *mailer.Options) { o.TLSConfig = &tls.Config{RootCAs: pool} }
}

// freeSlots returns the first n offered slots.
func freeSlots(t testing.TB, s *store.Store, n int) []models.Slot {
	t.Helper()
	now := s.Now()
	slots, _, err := s.Slots(context.Background(), now, now.Add(30*24*time.Hour))
	if err != nil {
		t.Fatalf("slots: %v", err)
	}
	if len(slots) < n {
		t.Fatalf("only %d free slots, want %d", len(slots), n)
	}
	return slots[:n]
}

// mustBook books n calls for n different visitors.
func mustBook(t testing.TB, s *store.Store, n int) []*models.BookingResult {
	t.Helper()
	var out []*models.BookingResult
	for i, slot := range freeSlots(t, s, n) {
		res, err := s.BookSlot(context.Background(), models.BookingRequest{
			Name: fmt.Sprintf("Visitor %d", i), Email: fmt.Sprintf("visitor%d@example.com", i),
			Phone: "+1 555 0100", CurrentTitle: "Data Analyst", TargetTitle: "Backend Engineer",
			RoleSlug: "backend-engineer", Start: slot.Start, Timezone: "Europe/Berlin",
			Message: "I'd like to move into backend work.",
		}, nil)
		if err != nil {
			t.Fatalf("book %d: %v", i, err)
		}
		out = append(out, res)
	}
	return out
}

// mustQueueDigests writes n digest emails straight into the outbox.
func mustQueueDigests(t testing.TB, s *store.Store, n int) {
	t.Helper()
	now := s.Now()
	payload := `{"kind":"digest","digest":{"date":"2026-11-30","today_calls":[],"new_leads":[]}}`
	const chunk = 500
	for start := 0; start < n; start += chunk {
		rows := make([]models.OutboxMessage, 0, chunk)
		for i := start; i < min(n, start+chunk); i++ {
			rows = append(rows, models.OutboxMessage{
				Kind: models.MailDigest, ToAddr: fmt.Sprintf("staff%d@example.com", i), ToName: "Staff",
				MessageID: fmt.Sprintf("<digest-%d-%s@callbook.test>", i, store.RandomToken(6)), Payload: payload,
				Status: models.OutboxPending, NextAttemptAt: now, CreatedAt: now, UpdatedAt: now,
			})
		}
		if err := s.DB().Create(&rows).Error; err != nil {
			t.Fatalf("queue digests: %v", err)
		}
	}
}

func mustDrain(t testing.TB, o testOutbox) int {
	t.Helper()
	n, err := o.Drain(context.Background())
	if err != nil {
		t.Fatalf("drain: %v", err)
	}
	return n
}

func outboxRows(t testing.TB, s *store.Store) []models.OutboxMessage {
	t.Helper()
	var rows []models.OutboxMessage
	if err := s.DB().Order("id").Find(&rows).Error; err != nil {
		t.Fatal(err)
	}
	return rows
}

// parsedMail is a received message taken apart with net/mail and
// mime/multipart.
type parsedMail struct {
	Header mail.Header
	Parts  []mailPart
}

type mailPart struct {
	ContentType string // media type only
	Params      map[string]string
	Filename    string
	Body        string // transfer-decoded
}

func parseMail(t testing.TB, data []byte) parsedMail {
	t.Helper()
	m, err := mail.ReadMessage(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("read message: %v", err)
	}
	pm := parsedMail{Header: m.Header}
	walkPart(t, m.Header.Get("Content-Type"), m.Header.Get("Content-Transfer-Encoding"), "", m.Body, &pm.Parts)
	return pm
}

func walkPart(t testing.TB, ctype, cte, disp string, body io.Reader, out *[]mailPart) {
	t.Helper()
	media, params, err := mime.ParseMediaType(ctype)
	if err != nil {
		t.Fatalf("content type %q: %v", ctype, err)
	}
	if strings.HasPrefix(media, "multipart/") {
		mr := multipart.NewReader(body, params["boundary"])
		for {
			p, err := mr.NextRawPart()
			if err == io.EOF {
				return
			}
			if err != nil {
				t.Fatalf("multipart: %v", err)
			}
			walkPart(t, p.Header.Get("Content-Type"), p.Header.Get("Content-Transfer-Encoding"), p.Header.Get("Content-Disposition"), p, out)
		}
	}
	raw, err := io.ReadAll(decodeTransfer(cte, body))
	if err != nil {
		t.Fatalf("decode %s part: %v", media, err)
	}
	part := mailPart{ContentType: media, Params: params, Body: string(raw)}
	if _, dp, err := mime.ParseMediaType(disp); err == nil {
		part.Filename = dp["filename"]
	}
	*out = append(*out, part)
}

func decodeTransfer(cte string, r io.Reader) io.Reader {
	switch strings.ToLower(cte) {
	case "base64":
		return base64.NewDecoder(base64.StdEncoding, newlineStripper{r})
	case "quoted-printable":
		return quotedprintable.NewReader(r)
	}
	return r
}

// newlineStripper drops CR and LF so base64 lines decode as one stream.
type newlineStripper struct{ r io.Reader }

func (n newlineStripper) Read(p []byte) (int, error) {
	k, err := n.r.Read(p)
	j := 0
	for _, b := range p[:k] {
		if b != '\r' && b != '\n' {
			p[j] = b
			j++
		}
	}
	return j, err
}

func (pm parsedMail) Part(media string) (mailPart, bool) {
	for _, p := range pm.Parts {
		if p.ContentType == media {
			return p, true
		}
	}
	return mailPart{}, false
}

func (pm parsedMail) Subject(t testing.TB) string {
	t.Helper()
	s, err := new(mime.WordDecoder).DecodeHeader(pm.Header.Get("Subject"))
	if err != nil {
		t.Fatalf("subject: %v", err)
	}
	return s
}

// byKind finds the received message with X-Callbook-Kind kind sent to addr.
func byKind(t testing.TB, msgs []received, kind, addr string) parsedMail {
	t.Helper()
	for _, m := range msgs {
		pm := parseMail(t, m.Data)
		if pm.Header.Get("X-Callbook-Kind") == kind && len(m.To) == 1 && m.To[0] == addr {
			return pm
		}
	}
	t.Fatalf("no %s email to %s among %d received", kind, addr, len(msgs))
	return parsedMail{}
}

// counterValue reads a counter with label kind from the outbox's registry.
func counterValue(t testing.TB, o testOutbox, name, kind string) float64 {
	t.Helper()
	families, err := o.Reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "kind" && l.GetValue() == kind {
					return m.GetCounter().GetValue()
				}
			}
		}
	}
	return 0
}
