package deploytest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Bounds of the booking loop: it books at most maxBookings, at most one
// per pace, and stops after loopLimit whatever happens.
const (
	maxBookings = 600
	pace        = 120 * time.Millisecond
	loopLimit   = 5 * time.Minute
)

// Bookings flow through Caddy while each replica in turn is stopped with
// SIGTERM, waited for and started again: no booking fails, each one is in
// the database exactly once, and each email the replicas queued reached
// Mailpit exactly once. /metrics is not served to visitors.
func TestDeploy_RollingRestartThroughCaddyLosesNoBooking(t *testing.T) {
	s := startSite(t)
	s.checkMetricsBlocked()
	starts := s.laterStarts()

	l := &bookingLoop{site: s, starts: starts, stop: make(chan struct{})}
	l.run()
	waitFor(t, time.Minute, "the loop never made 10 bookings", l.summary, func() bool { return l.acked.Load() >= 10 })
	for _, r := range s.replicas {
		s.restart(r, l)
	}
	from := l.acked.Load()
	waitFor(t, time.Minute, "the loop made no 10 bookings after the restart", l.summary, func() bool { return l.acked.Load() >= from+10 })
	l.finish()
	t.Logf("%d bookings through Caddy during a rolling restart of %d replicas", l.acked.Load(), len(s.replicas))

	if len(l.failures) > 0 {
		t.Fatalf("%d of %d bookings failed: %s", len(l.failures), len(l.failures)+len(l.booked), strings.Join(l.failures, "; "))
	}
	s.checkBookings(l.booked)
	s.checkMail(l.booked, true)
}

// A replica killed outright (SIGKILL, no drain) while bookings flow
// through Caddy, then started again: bookings that carry an
// Idempotency-Key, as API clients are told to send, all succeed. Caddy
// sends a request that found the dead replica's port closed to another
// replica with its body, and retries one the replica died in the middle
// of, since the key makes a repeat safe; two failures bench the dead
// replica, so no request finds the pool empty. Each booking is in the
// database once, and each email reaches Mailpit.
func TestDeploy_AKilledReplicaLosesNoBookingThatCarriesAKey(t *testing.T) {
	s := startSite(t)
	starts := s.laterStarts()
	l := &bookingLoop{site: s, starts: starts, stop: make(chan struct{}), keys: true}
	l.run()
	waitFor(t, time.Minute, "the loop never made 10 bookings", l.summary, func() bool { return l.acked.Load() >= 10 })
	r := s.replicas[1]
	r.proc.kill(t)
	from := l.acked.Load()
	waitFor(t, time.Minute, "the loop made no 20 bookings after the kill", l.summary, func() bool { return l.acked.Load() >= from+20 })
	s.start(r)
	waitFor(t, 2*time.Minute, "Caddy never sent a booking to the restarted "+r.name, func() string { return l.summary() + "\n" + r.proc.tail() }, func() bool {
		if l.over() {
			t.Fatalf("the booking loop ended (%s) before Caddy sent the restarted %s a booking", l.summary(), r.name)
		}
		return servedABooking(r.proc.logText())
	})
	l.finish()
	t.Logf("%d bookings through Caddy while a replica was killed and started again", l.acked.Load())

	if len(l.failures) > 0 {
		t.Fatalf("%d of %d bookings failed: %s", len(l.failures), len(l.failures)+len(l.booked), strings.Join(l.failures, "; "))
	}
	s.checkBookings(l.booked)
	// A replica killed after the mail server took an email and before it
	// marked it sent sends that email again once its claim runs out: mail
	// is delivered at least once, with one Message-ID, which mail clients
	// use to show it once.
	s.checkMail(l.booked, false)
}

// checkMetricsBlocked: Caddy answers /metrics itself, with 404, and never
// passes it to a replica (which would ask for credentials).
func (s *site) checkMetricsBlocked() {
	s.t.Helper()
	for _, path := range []string{"/metrics", "/metrics/", "/METRICS", "/metrics?name[]=x"} {
		resp, err := probe.Get(s.base + path)
		if err != nil {
			s.t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusNotFound || resp.Header.Get("WWW-Authenticate") != "" {
			s.t.Errorf("GET %s through Caddy: %d (WWW-Authenticate %q), want Caddy's 404", path, resp.StatusCode, resp.Header.Get("WWW-Authenticate"))
		}
	}
}

// laterStarts lists the offered starts more than 26 hours ahead: no
// reminder falls due while the test runs, so the mail to check is the
// bookings' own.
func (s *site) laterStarts() []string {
	s.t.Helper()
	now := time.Now().UTC()
	var body struct {
		Slots []struct {
			Start time.Time `json:"start"`
		} `json:"slots"`
	}
	resp, err := probe.Get(fmt.Sprintf("%s/api/v1/slots?tz=UTC&from=%s&to=%s", s.base, now.Format(time.DateOnly), now.AddDate(0, 0, 4).Format(time.DateOnly)))
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		s.t.Fatalf("slots: %d %v", resp.StatusCode, err)
	}
	var out []string
	for _, sl := range body.Slots {
		if sl.Start.After(now.Add(26 * time.Hour)) {
			out = append(out, sl.Start.Format(time.RFC3339))
		}
	}
	if len(out) < maxBookings {
		s.t.Fatalf("only %d free times more than 26 hours ahead, want %d", len(out), maxBookings)
	}
	return out
}

// restart stops r with SIGTERM while bookings flow, checks it drained and
// exited 0, starts it again on the same address, and waits until Caddy
// sends it a booking.
func (s *site) restart(r *replica, l *bookingLoop) {
	s.t.Helper()
	before := l.acked.Load()
	old := r.proc
	if code := old.stop(s.t, time.Minute); code != 0 {
		s.t.Fatalf("%s exited %d after SIGTERM:\n%s", r.name, code, old.tail())
	}
	if !strings.Contains(old.logText(), "draining") {
		s.t.Errorf("%s did not drain before it stopped:\n%s", r.name, old.tail())
	}
	s.start(r)
	waitFor(s.t, 2*time.Minute, "Caddy never sent a booking to the restarted "+r.name, func() string { return l.summary() + "\n" + r.proc.tail() }, func() bool {
		if l.over() {
			s.t.Fatalf("the booking loop ended (%s) before Caddy sent the restarted %s a booking", l.summary(), r.name)
		}
		return servedABooking(r.proc.logText())
	})
	s.t.Logf("%s: stopped and back in Caddy's pool; %d bookings meanwhile", r.name, l.acked.Load()-before)
}

// servedABooking reports whether a replica's request log shows a booking
// it made (JSON or text log).
func servedABooking(log string) bool {
	for line := range strings.Lines(log) {
		if strings.Contains(line, "/api/v1/bookings") && (strings.Contains(line, `"status":201`) || strings.Contains(line, "status=201")) {
			return true
		}
	}
	return false
}

// bookingLoop books one free time after another through Caddy, each for
// its own visitor.
type bookingLoop struct {
	site   *site
	starts []string
	stop   chan struct{}
	wg     sync.WaitGroup
	next   atomic.Int64
	acked  atomic.Int64
	ended  atomic.Int64 // workers that returned

	mu       sync.Mutex
	booked   map[uint]string // booking id → visitor email
	failures []string

	keys bool // each booking carries an Idempotency-Key
}

const loopWorkers = 3

func (l *bookingLoop) run() {
	l.booked = map[uint]string{}
	tick := time.NewTicker(pace)
	deadline := make(chan struct{})
	limit := time.AfterFunc(loopLimit, func() { close(deadline) })
	client := &http.Client{Timeout: time.Minute}
	for range loopWorkers {
		l.wg.Go(func() {
			defer l.ended.Add(1)
			for {
				select {
				case <-l.stop:
					return
				case <-deadline:
					return
				case <-tick.C:
				}
				i := int(l.next.Add(1)) - 1
				if i >= maxBookings {
					return
				}
				l.book(client, i)
			}
		})
	}
	l.site.t.Cleanup(func() { tick.Stop(); limit.Stop(); l.finish() })
}

// over reports whether the loop has stopped by itself (a bound reached).
func (l *bookingLoop) over() bool { return l.ended.Load() == loopWorkers }

// finish stops the loop and waits for the bookings in flight.
func (l *bookingLoop) finish() {
	select {
	case <-l.stop:
	default:
		close(l.stop)
	}
	l.wg.Wait()
}

func (l *bookingLoop) summary() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return fmt.Sprintf("%d booked, %d failed %v", len(l.booked), len(l.failures), l.failures)
}

func (l *bookingLoop) book(client *http.Client, i int) {
	email := fmt.Sprintf("visitor%04d@example.com", i)
	body, _ := json.Marshal(map[string]any{
		"name": fmt.Sprintf("Visitor %d", i), "email": email, "phone": "+1 555 0100", "current_title": "Data Analyst",
		"target_title": "Backend Engineer", "start": l.starts[i], "timezone": "Europe/Berlin", "consent": true,
	})
	req, err := http.NewRequest(http.MethodPost, l.site.base+"/api/v1/bookings", bytes.NewReader(body))
	if err != nil {
		l.site.t.Error(err)
		return
	}
	req.Header.Set("Content-Type", "application/json")
	if l.keys {
		req.Header.Set("Idempotency-Key", "deploytest-"+strconv.Itoa(i))
	}
	resp, err := client.Do(req)
	var answer struct {
		Booking struct {
			ID uint `json:"id"`
		} `json:"booking"`
	}
	fail := ""
	switch {
	case err != nil:
		fail = err.Error()
	default:
		raw, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusCreated || json.Unmarshal(raw, &answer) != nil || answer.Booking.ID == 0 {
			fail = strconv.Itoa(resp.StatusCode) + " " + strings.TrimSpace(string(raw))
		}
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if fail != "" {
		l.failures = append(l.failures, fmt.Sprintf("booking %d: %s", i, fail))
		return
	}
	l.booked[answer.Booking.ID] = email
	l.acked.Add(1)
}

// checkBookings: the database holds exactly the acknowledged bookings,
// each once, each for its own visitor.
func (s *site) checkBookings(booked map[uint]string) {
	s.t.Helper()
	rows, err := s.db.Query(`SELECT b.id, l.email FROM bookings b JOIN leads l ON l.id = b.lead_id`)
	if err != nil {
		s.t.Fatal(err)
	}
	defer rows.Close()
	seen := map[uint]int{}
	for rows.Next() {
		var id uint
		var email string
		if err := rows.Scan(&id, &email); err != nil {
			s.t.Fatal(err)
		}
		seen[id]++
		if want, ok := booked[id]; !ok {
			s.t.Errorf("booking %d (%s) is in the database but was never acknowledged", id, email)
		} else if email != want {
			s.t.Errorf("booking %d is %s's, acknowledged to %s", id, email, want)
		}
	}
	if err := rows.Err(); err != nil {
		s.t.Fatal(err)
	}
	for id := range booked {
		if seen[id] != 1 {
			s.t.Errorf("acknowledged booking %d is in the database %d times", id, seen[id])
		}
	}
	if n := s.count(`SELECT count(*) FROM (SELECT lead_id FROM bookings GROUP BY lead_id HAVING count(*) > 1) d`); n != 0 {
		s.t.Errorf("%d visitors have more than one booking", n)
	}
}

// checkMail waits until every email the replicas queued is sent, then
// checks that Mailpit holds each (by Message-ID), exactly once when
// exactlyOnce says so, and nothing else, and that each booking's
// confirmation went to its visitor.
func (s *site) checkMail(booked map[uint]string, exactlyOnce bool) {
	s.t.Helper()
	var queued int
	waitFor(s.t, 3*time.Minute, "the outbox never emptied into Mailpit", func() string {
		return fmt.Sprintf("%d not sent; Mailpit holds %d of %d", s.count(`SELECT count(*) FROM outbox WHERE status <> 'sent'`), s.mail.total(), queued)
	}, func() bool {
		queued = s.count(`SELECT count(*) FROM outbox`)
		return s.count(`SELECT count(*) FROM outbox WHERE status <> 'sent'`) == 0 && s.mail.total() >= queued
	})

	want := map[string]bool{}
	rows, err := s.db.Query(`SELECT message_id FROM outbox`)
	if err != nil {
		s.t.Fatal(err)
	}
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			s.t.Fatal(err)
		}
		want[strings.Trim(id, "<>")] = true
	}
	rows.Close()

	got := map[string]int{}
	confirmations := map[uint][]string{} // booking id → the addresses its confirmations went to
	for _, m := range s.mail.messages(s.t) {
		id := strings.Trim(m.MessageID, "<>")
		got[id]++
		if !want[id] {
			s.t.Errorf("Mailpit holds %q (%s), which no outbox row queued", m.Subject, id)
		}
		h := s.mail.headers(s.t, m.ID)
		if h.Get("X-Callbook-Kind") != "confirmation" {
			continue
		}
		b, _ := strconv.ParseUint(h.Get("X-Callbook-Booking"), 10, 64)
		for _, to := range m.To {
			confirmations[uint(b)] = append(confirmations[uint(b)], to.Address)
		}
	}
	for id := range want {
		if got[id] != 1 && (exactlyOnce || got[id] == 0) {
			s.t.Errorf("email %s reached Mailpit %d times", id, got[id])
		}
	}
	for id, email := range booked {
		c := confirmations[id]
		if len(c) == 0 || (exactlyOnce && len(c) != 1) {
			s.t.Errorf("booking %d: confirmations to %v, want one to %s", id, c, email)
		}
		for _, to := range c {
			if to != email {
				s.t.Errorf("booking %d: a confirmation to %s, want %s", id, to, email)
			}
		}
	}
	if exactlyOnce {
		s.t.Logf("%d emails, each in Mailpit once", len(want))
	} else {
		s.t.Logf("%d emails, each in Mailpit", len(want))
	}
}
