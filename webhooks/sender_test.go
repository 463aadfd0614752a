package webhooks_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/callbook/callbook/models"
	"github.com/callbook/callbook/store"
	"github.com/callbook/callbook/store/storetest"
	"github.com/callbook/callbook/webhooks"
)

func TestSign_MatchesTheStandardWebhooksExample(t *testing.T) {
	// The example in the Standard Webhooks specification's reference tests.
	got, err := webhooks.Sign("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, []byte(`{"test": 2432232314}`))
	if err != nil {
		t.Fatal(err)
	}
	if want := "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="; got != want {
		t.Fatalf("signature %s, want %s", got, want)
	}
}

func TestDelivery_SignedCarryingTheAPIsBookingAndLead(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, dialect string) {
		e := newEnv(t, dialect)
		hook := e.mustWebhook("*")
		e.startSender(true)
		slot := e.slots(1)[0]
		req := storetest.Visitor("ada@example.com", slot)
		req.UTMSource, req.UTMCampaign, req.Referrer = "newsletter", "be-2026", "https://example.com/jobs"
		res, err := e.store.BookSlot(context.Background(), req, nil)
		if err != nil {
			t.Fatal(err)
		}
		e.waitFor("lead.created and booking.created", func() bool { return len(e.recv.accepted()) == 2 })
		got := e.recv.accepted()
		if got[0].Type != models.WebhookLeadCreated || got[1].Type != models.WebhookBookingCreated {
			t.Fatalf("types %s, %s; want lead.created then booking.created", got[0].Type, got[1].Type)
		}
		var p struct {
			Type      string `json:"type"`
			Timestamp string `json:"timestamp"`
			Data      struct {
				Booking map[string]any `json:"booking"`
				Lead    map[string]any `json:"lead"`
			} `json:"data"`
		}
		if err := json.Unmarshal(got[1].Body, &p); err != nil {
			t.Fatal(err)
		}
		if _, err := time.Parse(time.RFC3339Nano, p.Timestamp); err != nil {
			t.Errorf("timestamp %q: %v", p.Timestamp, err)
		}
		token := e.store.BookingToken(res.Booking.UID)
		utm, _ := p.Data.Lead["utm"].(map[string]any)
		checks := map[string][2]any{
			"booking.status":      {p.Data.Booking["status"], "confirmed"},
			"booking.manage_url":  {p.Data.Booking["manage_url"], "https://callbook.test/bookings/" + token},
			"booking.lead_id":     {p.Data.Booking["lead_id"], float64(res.Lead.ID)},
			"lead.email":          {p.Data.Lead["email"], "ada@example.com"},
			"lead.referrer":       {p.Data.Lead["referrer"], "https://example.com/jobs"},
			"lead.utm.source":     {utm["source"], "newsletter"},
			"lead.utm.campaign":   {utm["campaign"], "be-2026"},
			"lead.bookings_count": {p.Data.Lead["bookings_count"], float64(1)},
		}
		for name, c := range checks {
			if c[0] != c[1] {
				t.Errorf("%s = %v, want %v", name, c[0], c[1])
			}
		}

		if _, err := e.store.CancelBooking(context.Background(), token, "", models.ActorVisitor); err != nil {
			t.Fatal(err)
		}
		e.waitFor("booking.canceled", func() bool { return len(e.recv.accepted()) == 3 })
		if c := e.recv.accepted()[2]; c.Type != models.WebhookBookingCanceled || !strings.Contains(string(c.Body), `"status":"canceled"`) {
			t.Fatalf("third delivery %s %s, want booking.canceled with the canceled booking", c.Type, c.Body)
		}

		admin := mustAdmin(t, e)
		if err := e.store.EraseLead(context.Background(), res.Lead.ID, admin); err != nil {
			t.Fatal(err)
		}
		e.waitFor("lead.erased", func() bool { return len(e.recv.accepted()) == 4 })
		erased := e.recv.accepted()[3]
		if want := fmt.Sprintf(`"data":{"lead":{"id":%d}}`, res.Lead.ID); erased.Type != models.WebhookLeadErased || !strings.Contains(string(erased.Body), want) {
			t.Fatalf("erasure delivery %s %s, want lead.erased with %s only", erased.Type, erased.Body, want)
		}
		for _, d := range e.deliveries(hook.ID) {
			if strings.Contains(d.Body, "ada@example.com") {
				t.Errorf("delivery %d still holds the erased address: %s", d.ID, d.Body)
			}
		}
	})
}

func mustAdmin(t *testing.T, e *env) *models.User {
	t.Helper()
	u, err := e.store.CreateUser(context.Background(), models.NewUser{Email: "admin@example.com", Name: "Admin", Role: models.RoleAdmin,
		Password: "a long and unusual passphrase 4821"})
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func TestDelivery_RetriedAfterTwo500sUnderOneWebhookID(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, dialect string) {
		e := newEnv(t, dialect)
		hook := e.mustWebhook(models.WebhookBookingCreated)
		e.recv.onRequest(func(n int, _ received) int {
			if n < 2 {
				return http.StatusInternalServerError
			}
			return http.StatusNoContent
		})
		e.startSender(true)
		e.mustBook("ada@example.com", e.slots(1)[0])
		e.waitFor("the third attempt accepted", func() bool { return len(e.recv.accepted()) == 1 })
		got := e.recv.requests()
		if len(got) != 3 {
			t.Fatalf("%d requests, want 3", len(got))
		}
		for _, r := range got[1:] {
			if r.ID != got[0].ID || string(r.Body) != string(got[0].Body) {
				t.Errorf("retry carried webhook-id %s and another body; want %s and the same body", r.ID, got[0].ID)
			}
		}
		e.waitFor("the delivery recorded", func() bool {
			ds := e.deliveries(hook.ID)
			return len(ds) == 1 && ds[0].Status == models.DeliveryDelivered
		})
		d := e.deliveries(hook.ID)[0]
		if d.Attempts != 3 || d.LastStatusCode != http.StatusNoContent || d.MessageID != got[0].ID {
			t.Fatalf("delivery: %d attempts, last code %d, id %s; want 3, 204, %s", d.Attempts, d.LastStatusCode, d.MessageID, got[0].ID)
		}
		w, err := e.store.WebhookByID(context.Background(), hook.ID)
		if err != nil || w.State() != models.WebhookOK {
			t.Fatalf("webhook after recovery: %+v %v, want ok", w, err)
		}
		if w.LastError != "" {
			t.Errorf("webhook after recovery still shows last error %q", w.LastError)
		}
	})
}

func TestDelivery_410GoneDisablesTheWebhook(t *testing.T) {
	e := newEnv(t, store.DialectSQLite)
	hook := e.mustWebhook("*")
	e.recv.onRequest(func(int, received) int { return http.StatusGone })
	e.startSender(true)
	slots := e.slots(2)
	e.mustBook("ada@example.com", slots[0])
	e.waitFor("the webhook disabled", func() bool {
		w, err := e.store.WebhookByID(context.Background(), hook.ID)
		return err == nil && w.State() == models.WebhookDisabled
	})
	e.mustBook("bob@example.com", slots[1])
	if n := len(e.recv.requests()); n != 1 {
		t.Fatalf("%d requests, want the one answered 410", n)
	}
	for _, d := range e.deliveries(hook.ID) {
		if d.LeadID != e.deliveries(hook.ID)[0].LeadID {
			t.Errorf("a disabled webhook got delivery %d (%s) queued", d.ID, d.Type)
		}
	}
}

// TestDelivery_ByDefaultRetriedWithGrowingDelaysForAtLeastADay steps the
// store's clock to each retry the sender schedules for a receiver that
// always fails, with the sender's own defaults: every wait is longer than
// the one before, and the delivery is given up only after more than 24
// hours of them.
func TestDelivery_ByDefaultRetriedWithGrowingDelaysForAtLeastADay(t *testing.T) {
	e := &env{t: t, url: storetest.URL(t, store.DialectSQLite), recv: newReceiver(t), clock: storetest.NewClock(time.Now())}
	e.open()
	hook := e.mustWebhook(models.WebhookBookingCreated)
	e.recv.onRequest(func(int, received) int { return http.StatusInternalServerError })
	e.startSenderWith(webhooks.Options{AllowPrivate: true, PollInterval: 10 * time.Millisecond})
	e.mustBook("ada@example.com", e.slots(1)[0])
	first := e.clock.Now()
	var last time.Duration
	attempt := 1
	for ; ; attempt++ {
		var d models.WebhookDelivery
		e.waitFor(fmt.Sprintf("attempt %d recorded", attempt), func() bool {
			ds := e.deliveries(hook.ID)
			if len(ds) != 1 {
				return false
			}
			d = ds[0]
			return d.Attempts == attempt && (d.Status == models.DeliveryPending || d.Status == models.DeliveryFailed)
		})
		if d.Status == models.DeliveryFailed {
			if spent := e.clock.Now().Sub(first); spent < 24*time.Hour {
				t.Fatalf("given up after %d attempts over %v, want retries for at least 24 hours", attempt, spent)
			}
			break
		}
		wait := d.NextAttemptAt.Sub(e.clock.Now())
		if wait <= last {
			t.Fatalf("after attempt %d the next waits %v, want longer than the %v before it", attempt, wait, last)
		}
		last = wait
		e.clock.Set(d.NextAttemptAt)
	}
	if n := len(e.recv.requests()); n != attempt {
		t.Fatalf("%d requests reached the receiver, want one per attempt (%d)", n, attempt)
	}
}

func TestDelivery_ARestartLosesNothing(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, dialect string) {
		e := newEnv(t, dialect)
		hook := e.mustWebhook(models.WebhookBookingCreated)
		slots := e.slots(12)
		stop := e.startSender(true)
		for i, s := range slots[:6] {
			e.mustBook(fmt.Sprintf("v%d@example.com", i), s)
		}
		e.waitFor("some deliveries", func() bool { return len(e.recv.accepted()) >= 2 })
		stop()
		for i, s := range slots[6:10] {
			e.mustBook(fmt.Sprintf("w%d@example.com", i), s)
		}
		// A process that dies holding a claim: its rows come back after the lease.
		claimed, err := e.store.ClaimWebhookDeliveries(context.Background(), 2, time.Millisecond, nil)
		if err != nil || len(claimed) == 0 {
			t.Fatalf("claim as a doomed process: %d rows, %v", len(claimed), err)
		}
		e.open()
		e.startSender(true)
		for i, s := range slots[10:] {
			e.mustBook(fmt.Sprintf("x%d@example.com", i), s)
		}
		e.waitFor("every booking delivered", func() bool {
			for _, d := range e.deliveries(hook.ID) {
				if d.Status != models.DeliveryDelivered {
					return false
				}
			}
			return true
		})
		seen := map[uint]int{}
		for _, r := range e.recv.accepted() {
			seen[r.BookingID]++
		}
		if len(seen) != 12 || len(e.deliveries(hook.ID)) != 12 {
			t.Fatalf("%d bookings arrived from %d deliveries, want 12 of 12", len(seen), len(e.deliveries(hook.ID)))
		}
	})
}

func TestDelivery_200BookingsUnderLoadArriveOnceEachInOrderPerLead(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, dialect string) {
		e := newEnv(t, dialect)
		hook := e.mustWebhook("*")
		// One message in five fails twice before it is accepted. Its second
		// retry waits longer than the webhook's pause, so the webhook's
		// other deliveries, this lead's later ones among them, come due
		// first: only the order rule keeps them back.
		tries, ordinal := map[string]int{}, map[string]int{}
		e.recv.onRequest(func(_ int, r received) int {
			if _, ok := ordinal[r.ID]; !ok {
				ordinal[r.ID] = len(ordinal)
			}
			tries[r.ID]++
			if ordinal[r.ID]%5 == 4 && tries[r.ID] <= 2 {
				return http.StatusServiceUnavailable
			}
			return http.StatusOK
		})
		e.startSender(true)
		const leads, perLead = 40, 5
		slots := e.slots(leads * perLead)
		var wg sync.WaitGroup
		errs := make(chan error, leads)
		for l := range leads {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for b := range perLead {
					email := fmt.Sprintf("lead%d@example.com", l)
					if _, err := e.store.BookSlot(context.Background(), storetest.Visitor(email, slots[b*leads+l]), nil); err != nil {
						errs <- err
						return
					}
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
		want := leads + leads*perLead
		e.waitFor("every change delivered", func() bool { return len(e.recv.accepted()) >= want })
		rows := e.deliveries(hook.ID)
		if len(rows) != want {
			t.Fatalf("%d deliveries queued, want %d", len(rows), want)
		}
		// The order each lead's changes committed in is the order of its
		// delivery ids; the receiver must have accepted them in that order.
		wantOrder := map[uint][]string{}
		for _, d := range rows {
			wantOrder[d.LeadID] = append(wantOrder[d.LeadID], d.MessageID)
		}
		gotOrder, once := map[uint][]string{}, map[string]int{}
		bookings := map[uint]bool{}
		for _, r := range e.recv.accepted() {
			gotOrder[r.LeadID] = append(gotOrder[r.LeadID], r.ID)
			once[r.ID]++
			if r.Type == models.WebhookBookingCreated {
				bookings[r.BookingID] = true
			}
		}
		for id, n := range once {
			if n != 1 {
				t.Errorf("message %s accepted %d times", id, n)
			}
		}
		if len(bookings) != leads*perLead {
			t.Errorf("%d distinct bookings arrived, want %d", len(bookings), leads*perLead)
		}
		for lead, ids := range wantOrder {
			if strings.Join(gotOrder[lead], " ") != strings.Join(ids, " ") {
				t.Errorf("lead %d: arrived %v, committed %v", lead, gotOrder[lead], ids)
			}
		}
		if first := wantOrder[rows[0].LeadID]; len(first) != perLead+1 {
			t.Errorf("lead %d has %d deliveries, want lead.created and %d bookings", rows[0].LeadID, len(first), perLead)
		}
	})
}

func TestDelivery_ThePrivateAddressGuardRefusesAtConnection(t *testing.T) {
	// The webhook was stored pointing at a loopback receiver (as if its
	// name resolved to a public address when it was added); the sender's
	// dialer still refuses to connect.
	e := newEnv(t, store.DialectSQLite)
	hook := e.mustWebhook("*")
	e.startSender(false)
	e.mustBook("ada@example.com", e.slots(1)[0])
	e.waitFor("a failed attempt", func() bool {
		ds := e.deliveries(hook.ID)
		return len(ds) > 0 && ds[0].Attempts > 0 && ds[0].Status != models.DeliverySending
	})
	d := e.deliveries(hook.ID)[0]
	if !strings.Contains(d.LastError, "not a public address") || d.LastStatusCode != 0 {
		t.Fatalf("attempt: code %d, error %q; want a refusal before connecting", d.LastStatusCode, d.LastError)
	}
	if n := len(e.recv.requests()); n != 0 {
		t.Fatalf("the receiver got %d requests through the guard", n)
	}
	w, _ := e.store.WebhookByID(context.Background(), hook.ID)
	if w.State() != models.WebhookFailing {
		t.Fatalf("webhook state %s, want failing", w.State())
	}
}

func TestDelivery_AStuckReceiverNeverHoldsUpAnother(t *testing.T) {
	e := newEnv(t, store.DialectSQLite)
	healthy := e.mustWebhook(models.WebhookBookingCreated)
	// A second receiver that takes each request and does not answer until
	// the test lets it.
	release := make(chan struct{})
	stuck := newReceiver(t)
	stuck.onRequest(func(int, received) int { <-release; return http.StatusOK })
	stuckHook, err := e.store.CreateWebhook(context.Background(), models.WebhookInput{URL: stuck.URL, Events: []string{"*"}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	stuck.setSecret(stuckHook.Secret)
	e.startSender(true)
	slots := e.slots(5)
	for i, s := range slots {
		e.mustBook(fmt.Sprintf("v%d@example.com", i), s)
	}
	e.waitFor("every booking at the healthy receiver", func() bool { return len(e.recv.accepted()) == len(slots) })
	stuck.mu.Lock()
	held := stuck.answering
	stuck.mu.Unlock()
	if held == 0 {
		t.Fatal("the stuck receiver holds no request: the test proves nothing")
	}
	close(release)
	e.waitFor("the stuck receiver's backlog", func() bool {
		for _, d := range e.deliveries(stuckHook.ID) {
			if d.Status != models.DeliveryDelivered {
				return false
			}
		}
		return true
	})
	if got := len(e.deliveries(healthy.ID)); got != len(slots) {
		t.Fatalf("%d deliveries to the healthy webhook, want %d", got, len(slots))
	}
}
