package store_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/callbook/callbook/models"
	"github.com/callbook/callbook/store"
	"github.com/callbook/callbook/store/storetest"
)

// hostID returns the id of the host with email.
func hostID(t *testing.T, s *store.Store, email string) uint {
	t.Helper()
	var u models.User
	if err := s.DB().Where("email = ?", email).Take(&u).Error; err != nil {
		t.Fatal(err)
	}
	return u.ID
}

func TestBookSlot_RoutedRaceAcrossTwoHostGroups(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, dialect string) {
		s, _ := mustOpen(t, dialect)
		for _, n := range []string{"seniora", "seniorb", "juniora", "juniorb"} {
			addHost(t, s, n)
		}
		groups := map[string][]string{
			"senior": {"seniora@callbook.test", "seniorb@callbook.test"},
			"junior": {"juniora@callbook.test", "juniorb@callbook.test"},
		}
		inGroup := map[uint]string{}
		for g, emails := range groups {
			for _, e := range emails {
				inGroup[hostID(t, s, e)] = g
			}
		}
		ctx := context.Background()
		slots, _, err := s.Slots(ctx, s.Now(), s.Now().Add(7*24*time.Hour))
		if err != nil || len(slots) < 3 {
			t.Fatalf("slots: %d %v", len(slots), err)
		}
		// 50 visitors, half of each group, over three times: each group can
		// take at most two calls per time, one per host.
		var mu sync.Mutex
		var wg sync.WaitGroup
		gate := make(chan struct{})
		booked := map[string]int{}
		for i := range 50 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				g := []string{"senior", "junior"}[i%2]
				req := request(fmt.Sprintf("racer%d@example.com", i), slots[i%3].Start)
				req.Hosts = groups[g]
				req.Answers = models.Answers{"experience": map[string]string{"senior": "6+", "junior": "1-2"}[g]}
				<-gate
				res, err := s.BookSlot(ctx, req, nil)
				mu.Lock()
				defer mu.Unlock()
				switch {
				case err == nil:
					if inGroup[res.Booking.HostID] != g {
						t.Errorf("a %s visitor got host %d", g, res.Booking.HostID)
					}
					booked[g]++
				case !errors.Is(err, models.ErrSlotTaken):
					t.Errorf("book: %v", err)
				}
			}()
		}
		close(gate)
		wg.Wait()
		if booked["senior"] != 6 || booked["junior"] != 6 {
			t.Fatalf("booked %v, want 6 calls per group (2 hosts x 3 times)", booked)
		}
		var rows []models.Booking
		s.DB().Where("status = ?", models.BookingConfirmed).Find(&rows)
		seen := map[string]bool{}
		for _, b := range rows {
			k := fmt.Sprintf("%d@%d", b.HostID, b.StartAt.Unix())
			if seen[k] {
				t.Fatalf("host %d has two calls at %s", b.HostID, b.StartAt)
			}
			seen[k] = true
			if want := map[string]string{"senior": `{"experience":"6+"}`, "junior": `{"experience":"1-2"}`}[inGroup[b.HostID]]; b.AnswersJSON != want {
				t.Errorf("booking %d answers %s, want %s", b.ID, b.AnswersJSON, want)
			}
		}
		// The routed lists now offer none of the three times to either group.
		for g, emails := range groups {
			left, _, _ := s.RoutedSlots(ctx, slots[0].Start, slots[2].End, emails)
			if len(left) != 0 {
				t.Errorf("%s group still offered %d of the booked times", g, len(left))
			}
		}
	})
}

func TestRoutedSlots_NamedHostsOnlyAndFallBackWhenNoneTakesCalls(t *testing.T) {
	s, _ := mustOpen(t, store.DialectSQLite)
	addHost(t, s, "ana")
	ctx := context.Background()
	from, to := s.Now(), s.Now().Add(7*24*time.Hour)
	all, _, _ := s.Slots(ctx, from, to)
	start := all[0].Start
	// Ana takes the first time; the default host stays free then.
	req := request("first@example.com", start)
	req.Hosts = []string{"ANA@callbook.test"}
	res, err := s.BookSlot(ctx, req, nil)
	if err != nil || res.Booking.HostID != hostID(t, s, "ana@callbook.test") {
		t.Fatalf("routed booking: %v", err)
	}
	ana, _, _ := s.RoutedSlots(ctx, from, to, []string{"ana@callbook.test"})
	if len(ana) != len(all)-1 || ana[0].Start.Equal(start) {
		t.Fatalf("Ana's list: %d of %d, first %s", len(ana), len(all), ana[0].Start)
	}
	if everyone, _, _ := s.Slots(ctx, from, to); len(everyone) != len(all) || !everyone[0].Start.Equal(start) {
		t.Fatalf("the default host's time at %s vanished from the full list", start)
	}
	// Booking Ana's taken time again is refused, though another host is free.
	if _, err := s.BookSlot(ctx, req, nil); !errors.Is(err, models.ErrSlotTaken) {
		t.Fatalf("routed to a busy host: %v", err)
	}
	// A route naming nobody who takes calls lists and books every host.
	ghost := []string{"nobody@callbook.test"}
	if got, _, _ := s.RoutedSlots(ctx, from, to, ghost); len(got) != len(all) {
		t.Fatalf("fallback list: %d of %d", len(got), len(all))
	}
	req = request("second@example.com", start)
	req.Hosts = ghost
	if _, err := s.BookSlot(ctx, req, nil); err != nil {
		t.Fatalf("fallback booking: %v", err)
	}
	// A disabled host no longer takes routed calls either.
	s.DB().Model(&models.User{}).Where("email = ?", "ana@callbook.test").Update("disabled", true)
	req = request("third@example.com", all[1].Start)
	req.Hosts = []string{"ana@callbook.test"}
	res, err = s.BookSlot(ctx, req, nil)
	if err != nil || res.Booking.HostID == hostID(t, s, "ana@callbook.test") {
		t.Fatalf("routed to a disabled host: %v", err)
	}
}

func TestAnswers_LatestPerQuestionOnTheLeadFilterAndExport(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, dialect string) {
		s, _ := mustOpen(t, dialect)
		ctx := context.Background()
		slots, _, _ := s.Slots(ctx, s.Now(), s.Now().Add(7*24*time.Hour))
		req := request("ada@example.com", slots[0].Start)
		req.Answers = models.Answers{"experience": "3-5", "linkedin": "https://www.linkedin.com/in/ada"}
		first, err := s.BookSlot(ctx, req, nil)
		if err != nil {
			t.Fatal(err)
		}
		req = request("ada@example.com", slots[1].Start)
		req.Answers = models.Answers{"experience": "6+"}
		if _, err := s.BookSlot(ctx, req, nil); err != nil {
			t.Fatal(err)
		}
		if _, err := s.BookSlot(ctx, request("bob@example.com", slots[2].Start), nil); err != nil {
			t.Fatal(err)
		}
		row, err := s.LeadRowByID(ctx, first.Lead.ID)
		if err != nil {
			t.Fatal(err)
		}
		if row.AnswersJSON != `{"experience":"6+","linkedin":"https://www.linkedin.com/in/ada"}` {
			t.Fatalf("lead answers %s", row.AnswersJSON)
		}
		var b models.Booking
		s.DB().First(&b, first.Booking.ID)
		if b.AnswersJSON != `{"experience":"3-5","linkedin":"https://www.linkedin.com/in/ada"}` {
			t.Fatalf("first booking's answers %s", b.AnswersJSON)
		}
		for want, f := range map[int]models.Answers{1: {"experience": "6+"}, 0: {"experience": "3-5"}} {
			rows, _, err := s.ListLeads(ctx, store.LeadFilter{Answers: f}, 50, "")
			if err != nil || len(rows) != want {
				t.Fatalf("filter %v: %d leads, %v", f, len(rows), err)
			}
		}
		var out bytes.Buffer
		if _, err := s.ExportLeads(ctx, store.LeadFilter{}, &out, nil); err != nil {
			t.Fatal(err)
		}
		recs, err := csv.NewReader(&out).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		last := len(recs[0]) - 1
		if recs[0][last] != "answers" || recs[1][last] != "{}" || recs[2][last] != row.AnswersJSON {
			t.Fatalf("answers column: %q %q %q", recs[0][last], recs[1][last], recs[2][last])
		}
		// Erasure forgets the answers.
		if err := s.EraseLead(ctx, first.Lead.ID, &models.User{Name: "Admin", Email: "admin@example.com"}); err != nil {
			t.Fatal(err)
		}
		var n int64
		s.DB().Model(&models.LeadAnswer{}).Where("lead_id = ?", first.Lead.ID).Count(&n)
		s.DB().First(&b, first.Booking.ID)
		if n != 0 || b.AnswersJSON != "{}" {
			t.Fatalf("after erasure: %d answer rows, booking answers %s", n, b.AnswersJSON)
		}
	})
}

func TestDisqualifyLead_KeepsTheLeadWithoutABooking(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, dialect string) {
		s, _ := mustOpen(t, dialect)
		ctx := context.Background()
		hook, err := s.CreateWebhook(ctx, models.WebhookInput{URL: "https://crm.example.com/a", Events: []string{"*"}}, nil)
		if err != nil {
			t.Fatal(err)
		}
		req := request("student@example.com", time.Time{})
		req.Answers = models.Answers{"experience": "0"}
		d := models.Disqualification{Message: "Start with the guide", URL: "/roles/software-engineer"}
		req.Disqualified = &d
		if _, err := s.BookSlot(ctx, req, nil); !errors.Is(err, models.ErrNotEligible) {
			t.Fatalf("BookSlot for a disqualified request: %v", err)
		}
		lead, err := s.DisqualifyLead(ctx, req, d)
		if err != nil {
			t.Fatal(err)
		}
		var bookings, mails, events int64
		s.DB().Model(&models.Booking{}).Count(&bookings)
		s.DB().Model(&models.OutboxMessage{}).Count(&mails)
		s.DB().Model(&models.Event{}).Where("lead_id = ? AND type = ?", lead.ID, "lead.disqualified").Count(&events)
		if bookings != 0 || mails != 0 || events != 1 || lead.AnswersJSON != `{"experience":"0"}` {
			t.Fatalf("%d bookings, %d emails, %d events, answers %s", bookings, mails, events, lead.AnswersJSON)
		}
		if got := strings.Join(deliveryTypes(t, s, hook.ID), " "); got != "lead.created lead.disqualified" {
			t.Fatalf("webhook deliveries %q", got)
		}
	})
}
