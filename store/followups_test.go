package store_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/callbook/callbook/models"
	"github.com/callbook/callbook/store"
	"github.com/callbook/callbook/store/storetest"
)

// fuRole's follow-ups: one per trigger, each with its own delay.
var fuRole = map[string][]models.Followup{"backend-engineer": {
	{ID: "thanks", When: models.FollowupCompleted, After: 2 * time.Hour, Subject: "Next step, {first_name}", Body: "Thanks, {name}. {unsubscribe_url}"},
	{ID: "rebook", When: models.FollowupNoShow, After: 30 * time.Minute, Subject: "Sorry we missed you, {first_name}", Body: "Pick a time: {rebook_url}"},
	{ID: "again", When: models.FollowupCanceled, After: 24 * time.Hour, Subject: "Still thinking?", Body: "Book again: {rebook_url}"},
	{ID: "guide", When: models.FollowupDisqualified, After: time.Hour, Subject: "Where to start", Body: "Read {role_url}"},
}}

func fuOpen(t *testing.T, dialect string) (*store.Store, *storetest.Clock) {
	t.Helper()
	s, clock := mustOpen(t, dialect)
	s.SetFollowups(fuRole)
	return s, clock
}

// fuSlots returns the first n offered slots.
func fuSlots(t *testing.T, s *store.Store, n int) []time.Time {
	t.Helper()
	slots, _, err := s.Slots(context.Background(), s.Now(), s.Now().Add(20*24*time.Hour))
	if err != nil || len(slots) < n {
		t.Fatalf("%d slots (%v), want %d", len(slots), err, n)
	}
	out := make([]time.Time, n)
	for i := range out {
		out[i] = slots[i].Start
	}
	return out
}

// fuRow is the one follow-up email of kind to leadID.
func fuRow(t *testing.T, s *store.Store, leadID uint, kind string) models.OutboxMessage {
	t.Helper()
	var rows []models.OutboxMessage
	if err := s.DB().Where("lead_id = ? AND kind = ?", leadID, kind).Find(&rows).Error; err != nil || len(rows) != 1 {
		t.Fatalf("%s to lead %d: %d rows (%v), want 1", kind, leadID, len(rows), err)
	}
	return rows[0]
}

// fuClaim claims what is due and reports whether the follow-up id was
// among it; every claimed row is recorded sent.
func fuClaim(t *testing.T, s *store.Store, id uint) bool {
	t.Helper()
	ctx := context.Background()
	rows, err := s.ClaimOutbox(ctx, 1000, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	got := false
	for _, r := range rows {
		got = got || r.ID == id
		if err := s.MarkOutboxSent(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	return got
}

// fuNoShow books a call for email at start, lets it begin and marks it a
// no-show; it returns the booking and the rebook email.
func fuNoShow(t *testing.T, s *store.Store, clock *storetest.Clock, start time.Time, email string) (*models.BookingResult, models.OutboxMessage) {
	t.Helper()
	res := mgBook(t, s, start, email)
	clock.Set(start.Add(10 * time.Minute))
	if _, err := s.SetOutcome(context.Background(), res.Booking.ID, models.OutcomeNoShow, fuStaff); err != nil {
		t.Fatal(err)
	}
	return res, fuRow(t, s, res.Lead.ID, "followup-rebook")
}

func TestFollowups_EachTriggerQueuesItsEmailAtItsDueTime(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, dialect string) {
		s, clock := fuOpen(t, dialect)
		ctx := context.Background()
		slots := fuSlots(t, s, 3)
		done := mgBook(t, s, slots[0], "done@example.com")
		noshow := mgBook(t, s, slots[1], "noshow@example.com")
		cancel := mgBook(t, s, slots[2], "cancel@example.com")

		check := func(leadID uint, kind string, at time.Time, after time.Duration) {
			t.Helper()
			row := fuRow(t, s, leadID, kind)
			if row.Status != models.OutboxPending || !row.NextAttemptAt.Equal(at.Add(after)) {
				t.Fatalf("%s: %s due %s, want pending due %s", kind, row.Status, row.NextAttemptAt, at.Add(after))
			}
			clock.Set(at.Add(after - time.Second))
			if fuClaim(t, s, row.ID) {
				t.Fatalf("%s claimed a second before it was due", kind)
			}
			clock.Set(at.Add(after))
			if !fuClaim(t, s, row.ID) {
				t.Fatalf("%s not claimed when due", kind)
			}
		}

		clock.Set(slots[0].Add(5 * time.Minute))
		at := clock.Now()
		if _, err := s.CancelBookingByID(ctx, cancel.Booking.ID, "", models.ActorSystem); err != nil {
			t.Fatal(err)
		}
		if _, err := s.SetOutcome(ctx, done.Booking.ID, models.OutcomeCompleted, fuStaff); err != nil {
			t.Fatal(err)
		}
		check(done.Lead.ID, "followup-thanks", at, 2*time.Hour)
		clock.Set(slots[1].Add(time.Minute))
		at = clock.Now()
		if _, err := s.SetOutcome(ctx, noshow.Booking.ID, models.OutcomeNoShow, fuStaff); err != nil {
			t.Fatal(err)
		}
		check(noshow.Lead.ID, "followup-rebook", at, 30*time.Minute)
		check(cancel.Lead.ID, "followup-again", slots[0].Add(5*time.Minute), 24*time.Hour)

		at = clock.Now()
		req := request("turned-away@example.com", time.Time{})
		l, err := s.DisqualifyLead(ctx, req, models.Disqualification{Message: "not yet"})
		if err != nil {
			t.Fatal(err)
		}
		check(l.ID, "followup-guide", at, time.Hour)

		// What the email is built from: the lead's words filled in, the
		// links left for the sender.
		row := fuRow(t, s, done.Lead.ID, "followup-thanks")
		if !strings.Contains(row.Payload, `"followup_subject":"Next step, Ada"`) || !strings.Contains(row.Payload, "{unsubscribe_url}") ||
			!strings.Contains(row.Payload, `"unsubscribe_token":"`) {
			t.Fatalf("payload %s", row.Payload)
		}
		var ev models.Event
		if err := s.DB().Where("lead_id = ? AND type = ?", noshow.Lead.ID, models.EventFollowupScheduled).Take(&ev).Error; err != nil {
			t.Fatalf("no followup.scheduled event: %v", err)
		}
	})
}

// Each thing that makes a follow-up pointless skips it, with the reason,
// whether the store saw it happen (the change skips the waiting email in
// its own transaction) or the row was left waiting anyway (the claim checks
// again, in the transaction that would send it).
func TestFollowups_SkippedWhenSomethingHappensFirst(t *testing.T) {
	rules := []struct {
		reason string
		happen func(t *testing.T, s *store.Store, res *models.BookingResult, later time.Time)
		behind func(t *testing.T, s *store.Store, res *models.BookingResult, later time.Time)
	}{
		{models.SkipRebooked,
			func(t *testing.T, s *store.Store, res *models.BookingResult, later time.Time) {
				mgBook(t, s, later, res.Lead.Email)
			},
			func(t *testing.T, s *store.Store, res *models.BookingResult, later time.Time) {
				mgBook(t, s, later, res.Lead.Email)
				mustExec(t, s, "UPDATE outbox SET status = 'pending', skip_reason = '' WHERE lead_id = ? AND kind = 'followup-rebook'", res.Lead.ID)
			}},
		{models.SkipOutcomeChanged,
			func(t *testing.T, s *store.Store, res *models.BookingResult, _ time.Time) {
				if _, err := s.SetOutcome(context.Background(), res.Booking.ID, models.OutcomeCompleted, fuStaff); err != nil {
					t.Fatal(err)
				}
			},
			func(t *testing.T, s *store.Store, res *models.BookingResult, _ time.Time) {
				mustExec(t, s, "UPDATE bookings SET status = 'completed' WHERE id = ?", res.Booking.ID)
			}},
		{models.SkipUnsubscribed,
			func(t *testing.T, s *store.Store, res *models.BookingResult, _ time.Time) {
				l := mustLead(t, s, res.Lead.ID)
				if _, err := s.Unsubscribe(context.Background(), *l.UnsubscribeToken); err != nil {
					t.Fatal(err)
				}
			},
			func(t *testing.T, s *store.Store, res *models.BookingResult, _ time.Time) {
				mustExec(t, s, "UPDATE leads SET unsubscribed_at = created_at WHERE id = ?", res.Lead.ID)
			}},
		{models.SkipErased,
			func(t *testing.T, s *store.Store, res *models.BookingResult, _ time.Time) {
				if err := s.EraseLead(context.Background(), res.Lead.ID, fuStaff); err != nil {
					t.Fatal(err)
				}
			},
			func(t *testing.T, s *store.Store, res *models.BookingResult, _ time.Time) {
				mustExec(t, s, "UPDATE leads SET erased_at = created_at WHERE id = ?", res.Lead.ID)
			}},
	}
	storetest.ForEachDialect(t, func(t *testing.T, dialect string) {
		for _, r := range rules {
			for way, happen := range map[string]func(*testing.T, *store.Store, *models.BookingResult, time.Time){"seen": r.happen, "behind": r.behind} {
				t.Run(r.reason+"/"+way, func(t *testing.T) {
					s, clock := fuOpen(t, dialect)
					slots := fuSlots(t, s, 12)
					res, row := fuNoShow(t, s, clock, slots[0], "ada@example.com")
					clock.Advance(time.Minute)
					happen(t, s, res, slots[11])
					clock.Set(row.NextAttemptAt.Add(time.Minute))
					if fuClaim(t, s, row.ID) {
						t.Fatalf("the follow-up was claimed for sending after the lead %s", r.reason)
					}
					got := fuRow(t, s, res.Lead.ID, "followup-rebook")
					if got.Status != models.OutboxSkipped || got.SkipReason != r.reason {
						t.Fatalf("follow-up %s (%q), want skipped (%q)", got.Status, got.SkipReason, r.reason)
					}
					if r.reason == models.SkipErased && way == "seen" && strings.Contains(got.Payload, "Ada") {
						t.Fatalf("the erased lead's follow-up keeps their name: %s", got.Payload)
					}
				})
			}
		}
	})
}

func mustExec(t *testing.T, s *store.Store, q string, args ...any) {
	t.Helper()
	if err := s.DB().Exec(q, args...).Error; err != nil {
		t.Fatal(err)
	}
}

func mustLead(t *testing.T, s *store.Store, id uint) models.Lead {
	t.Helper()
	var l models.Lead
	if err := s.DB().Where("id = ?", id).Take(&l).Error; err != nil {
		t.Fatal(err)
	}
	return l
}

// A visitor who rebooks while the sender is claiming their follow-up: in
// every round exactly one wins. A claim that began after the rebooking
// committed never takes the email, and once the rebooking has committed no
// later claim takes it either.
func TestFollowups_RebookingRacingTheSenderNeverBothWin(t *testing.T) {
	const rounds = 50
	storetest.ForEachDialect(t, func(t *testing.T, dialect string) {
		s, clock := fuOpen(t, dialect)
		ctx := context.Background()
		for i := range rounds {
			addHost(t, s, fmt.Sprintf("host%02d", i))
		}
		slots := fuSlots(t, s, 2)
		first, later := slots[0], slots[1].Add(48*time.Hour)
		leads := make([]*models.BookingResult, rounds)
		for i := range leads {
			leads[i] = mgBook(t, s, first, fmt.Sprintf("visitor%02d@example.com", i))
		}
		// Each no-show a second apart, so each round's follow-up falls due
		// alone.
		rows := make([]models.OutboxMessage, rounds)
		for i, res := range leads {
			clock.Set(first.Add(10*time.Minute + time.Duration(i)*time.Second))
			if _, err := s.SetOutcome(ctx, res.Booking.ID, models.OutcomeNoShow, fuStaff); err != nil {
				t.Fatal(err)
			}
			rows[i] = fuRow(t, s, res.Lead.ID, "followup-rebook")
		}
		claimedWins, bookingWins := 0, 0
		for i, res := range leads {
			clock.Set(rows[i].NextAttemptAt)
			var (
				wg                    sync.WaitGroup
				booked                = make(chan struct{})
				claimAfterBooking     bool
				claimed               bool
				bookErr, claimErr     error
				start                 = make(chan struct{})
				claimStartedAfterBook = make(chan bool, 1)
			)
			wg.Add(2)
			go func() {
				defer wg.Done()
				<-start
				_, bookErr = s.BookSlot(ctx, request(res.Lead.Email, later), nil)
				close(booked)
			}()
			go func() {
				defer wg.Done()
				<-start
				if i%3 == 0 {
					<-booked // some rounds claim only once the booking is in
				}
				select {
				case <-booked:
					claimStartedAfterBook <- true
				default:
					claimStartedAfterBook <- false
				}
				got, err := s.ClaimOutbox(ctx, 1000, time.Minute)
				claimErr = err
				for _, m := range got {
					claimed = claimed || m.ID == rows[i].ID
				}
			}()
			close(start)
			wg.Wait()
			if bookErr != nil || claimErr != nil {
				t.Fatalf("round %d: book %v, claim %v", i, bookErr, claimErr)
			}
			claimAfterBooking = <-claimStartedAfterBook
			if claimed && claimAfterBooking {
				t.Fatalf("round %d: the follow-up was claimed by a claim that began after the rebooking committed", i)
			}
			if fuClaim(t, s, rows[i].ID) {
				t.Fatalf("round %d: the follow-up was claimed after the rebooking committed", i)
			}
			got := fuRow(t, s, res.Lead.ID, "followup-rebook")
			switch {
			case claimed && got.Status == models.OutboxSending:
				claimedWins++
			case !claimed && got.Status == models.OutboxSkipped && got.SkipReason == models.SkipRebooked:
				bookingWins++
			default:
				t.Fatalf("round %d: claimed %v, row %s (%q)", i, claimed, got.Status, got.SkipReason)
			}
		}
		t.Logf("%s: the sender won %d rounds, the rebooking %d", dialect, claimedWins, bookingWins)
	})
}

// fuStaff is the sales person who records outcomes in these tests.
var fuStaff = &models.User{ID: 1, Name: "Sam Sales", Email: "sam@callbook.test", Role: models.RoleSales}

// Unsubscribing records when, once, with lead.unsubscribed on the timeline
// and its webhook written in the same transaction; asking again changes
// nothing, and an unknown key is not found.
func TestUnsubscribe_RecordsItOnceWithItsEventAndWebhook(t *testing.T) {
	s, clock := fuOpen(t, store.DialectSQLite)
	ctx := context.Background()
	if _, err := s.CreateWebhook(ctx, models.WebhookInput{URL: "https://example.com/hook", Events: []string{models.WebhookLeadUnsubscribed}}, nil); err != nil {
		t.Fatal(err)
	}
	res, _ := fuNoShow(t, s, clock, fuSlots(t, s, 1)[0], "ada@example.com")
	token := *mustLead(t, s, res.Lead.ID).UnsubscribeToken
	at := clock.Now()
	for range 2 {
		l, err := s.Unsubscribe(ctx, token)
		if err != nil || l.UnsubscribedAt == nil || !l.UnsubscribedAt.Equal(at) {
			t.Fatalf("unsubscribe: %+v %v", l, err)
		}
		clock.Advance(time.Hour)
	}
	var events, hooks int64
	s.DB().Model(&models.Event{}).Where("lead_id = ? AND type = ?", res.Lead.ID, models.EventLeadUnsubscribed).Count(&events)
	s.DB().Model(&models.WebhookDelivery{}).Where("lead_id = ? AND type = ?", res.Lead.ID, models.WebhookLeadUnsubscribed).Count(&hooks)
	if events != 1 || hooks != 1 {
		t.Fatalf("%d lead.unsubscribed events and %d webhook deliveries, want one each", events, hooks)
	}
	if _, err := s.Unsubscribe(ctx, "no-such-key"); err != models.ErrNotFound {
		t.Fatalf("unknown key: %v", err)
	}
}

// A lead who booked in German is followed up with the German version of
// the role's follow-ups; a role with no version in the booking's language
// falls back to its default file's.
func TestFollowups_WrittenInTheLanguageOfTheCall(t *testing.T) {
	s, clock := mustOpen(t, store.DialectSQLite)
	s.SetFollowups(map[string][]models.Followup{
		"backend-engineer": fuRole["backend-engineer"],
		store.FollowupsKey("backend-engineer", "de"): {
			{ID: "rebook", When: models.FollowupNoShow, After: 30 * time.Minute, Subject: "Schade, {first_name}", Body: "Neuer Termin: {rebook_url}"},
		},
	})
	slots := fuSlots(t, s, 2)
	cases := []struct{ lang, email, subject string }{
		{"de", "ada@example.com", `"followup_subject":"Schade, Ada"`},
		{"es", "bea@example.com", `"followup_subject":"Sorry we missed you, Ada"`},
	}
	booked := make([]*models.BookingResult, len(cases))
	for i, c := range cases {
		req := request(c.email, slots[i])
		req.Language = c.lang
		res, err := s.BookSlot(context.Background(), req, nil)
		if err != nil {
			t.Fatal(err)
		}
		booked[i] = res
	}
	clock.Set(slots[1].Add(10 * time.Minute))
	for i, c := range cases {
		if _, err := s.SetOutcome(context.Background(), booked[i].Booking.ID, models.OutcomeNoShow, fuStaff); err != nil {
			t.Fatal(err)
		}
		if row := fuRow(t, s, booked[i].Lead.ID, models.MailFollowupPrefix+"rebook"); !strings.Contains(row.Payload, c.subject) {
			t.Errorf("%s: follow-up %s, want %s", c.lang, row.Payload, c.subject)
		}
	}
}
