package itest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/callbook/callbook/store"
)

// followupRole is a role file whose no-show follow-up falls due seconds
// after the outcome, so three replicas race to send it.
const followupRole = `slug: backend-engineer
title: Backend Engineer
followups:
  - id: rebook
    when: no_show
    after: 4s
    subject: "Sorry we missed you, {first_name}"
    body: "Book again: {rebook_url}"
`

// Thirty no-shows recorded through three replicas, which all send mail
// every second: each rebook email arrives exactly once, and none arrives
// for the visitors who booked again before it was due.
func TestReplicas_FollowupsAreSentOnceAndNeverAfterARebooking(t *testing.T) {
	const calls = 30
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "backend-engineer.yaml"), []byte(followupRole), 0o600); err != nil {
		t.Fatal(err)
	}
	c := newCluster(t, clusterOptions{replicas: 3, hosts: calls, env: []string{"CALLBOOK_CONTENT_DIR=" + dir}})
	starts := c.freeStarts(c.replicas[0])
	if len(starts) < 3 {
		t.Fatalf("only %d free starts", len(starts))
	}
	token := c.staffToken()

	ids := make([]uint, calls)
	for i := range calls {
		r := c.replicas[i%len(c.replicas)]
		id, err := r.bookRole(starts[0], fmt.Sprintf("noshow-%02d@example.com", i))
		if err != nil {
			t.Fatalf("booking %d: %v", i, err)
		}
		ids[i] = id
	}
	// The calls took place: a day earlier.
	if _, err := c.db.Exec("UPDATE bookings SET start_at = start_at - interval '1 day', end_at = end_at - interval '1 day'"); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, calls)
	for i, id := range ids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := c.replicas[(i+1)%len(c.replicas)]
			if err := r.staffPost(token, fmt.Sprintf("/api/v1/admin/bookings/%d/outcome", id), `{"outcome":"no_show"}`); err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	// Every third visitor books again at once, before the email is due.
	rebooked := map[string]bool{}
	for i := 0; i < calls; i += 3 {
		if _, err := c.replicas[i%3].bookRole(starts[2], fmt.Sprintf("noshow-%02d@example.com", i)); err != nil {
			t.Fatalf("rebooking %d: %v", i, err)
		}
		rebooked[fmt.Sprint(ids[i])] = true
	}

	const waiting = "SELECT count(*) FROM outbox WHERE kind = 'followup-rebook' AND status IN ('pending', 'sending')"
	if !waitFor(t, 60*time.Second, func() bool { return c.count(waiting) == 0 }) {
		t.Fatalf("a minute on, %d follow-ups still wait", c.count(waiting))
	}
	c.waitMailSettled(c.replicas)

	got := map[string]int{}
	for _, m := range c.mail.Messages() {
		if m.Kind == "followup-rebook" {
			got[m.Booking]++
		}
	}
	for _, id := range ids {
		key := fmt.Sprint(id)
		switch {
		case rebooked[key] && got[key] != 0:
			t.Errorf("booking %s: the rebook email arrived %d times after the visitor booked again", key, got[key])
		case !rebooked[key] && got[key] != 1:
			t.Errorf("booking %s: the rebook email arrived %d times, want once", key, got[key])
		}
	}
	if n := c.count("SELECT count(*) FROM outbox WHERE kind = 'followup-rebook' AND status = 'skipped' AND skip_reason = 'rebooked'"); n != len(rebooked) {
		t.Errorf("%d follow-ups skipped as rebooked, want %d", n, len(rebooked))
	}
}

// staffToken makes an API token for the first seeded host, a sales user.
func (c *cluster) staffToken() string {
	c.t.Helper()
	db, err := store.Open(c.directURL, store.Options{Secret: []byte(secret), Log: slog.New(slog.DiscardHandler)})
	if err != nil {
		c.t.Fatal(err)
	}
	defer db.Close()
	var id uint
	if err := c.db.QueryRow("SELECT id FROM users WHERE email = 'host01@example.com'").Scan(&id); err != nil {
		c.t.Fatal(err)
	}
	tok, _, err := db.CreateAPIToken(context.Background(), id, "itest")
	if err != nil {
		c.t.Fatal(err)
	}
	return tok
}

// bookRole books the call at start on the Backend Engineer page and
// returns its id.
func (r *replica) bookRole(start time.Time, email string) (uint, error) {
	body, _ := json.Marshal(map[string]any{
		"name": "Ada Lovelace", "email": email, "target_title": "Backend Engineer", "role_slug": "backend-engineer",
		"start": start.UTC().Format(time.RFC3339), "timezone": "Europe/Berlin", "consent": true,
	})
	resp, err := httpClient.Post(r.url+"/api/v1/bookings", "application/json", bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	var a bookingAnswer
	if err := json.NewDecoder(resp.Body).Decode(&a); err != nil || resp.StatusCode != http.StatusCreated {
		return 0, fmt.Errorf("status %d (%v): %s", resp.StatusCode, err, a.Error.Code)
	}
	return a.Booking.ID, nil
}

// staffPost sends a staff API request with a bearer token; an answer
// other than 200 is an error.
func (r *replica) staffPost(token, path, body string) error {
	req, _ := http.NewRequest(http.MethodPost, r.url+path, bytes.NewReader([]byte(body)))
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := httpClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: status %d", path, resp.StatusCode)
	}
	return nil
}
